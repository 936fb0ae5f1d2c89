"""Who may do what: one place that answers it, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import CampaignRole, Membership


@dataclass(frozen=True)
class Access:
    is_authenticated: bool = False
    is_office: bool = False
    is_leadership: bool = False
    liaison_unit_ids: frozenset[int] = field(default_factory=frozenset)
    leader_unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def unit_ids(self) -> frozenset[int]:
        return self.liaison_unit_ids | self.leader_unit_ids

    @property
    def sees_everything(self) -> bool:
        return self.is_office or self.is_leadership

    @property
    def is_unit_member(self) -> bool:
        return bool(self.unit_ids)

    def can_edit_unit(self, unit_id: int) -> bool:
        """Only the unit's own people write its reports; the office reviews but does not author them."""
        return unit_id in self.unit_ids

    def signs_off_for(self, unit_id: int) -> bool:
        """The unit's 分管领导 (an active LEADER membership) signs off its reports before they reach the office;
        nobody else does, the office included."""
        return unit_id in self.leader_unit_ids

    def can_read_unit(self, unit_id: int) -> bool:
        return self.sees_everything or unit_id in self.unit_ids

    def sees_phones_of(self, unit_id: int) -> bool:
        """Whose mobile numbers a person sees: the office and leadership every unit's people (they chase late
        reports), a unit's own people their colleagues'. Not another unit's liaisons: the unit codes are
        public and the numbers are personal. The office's contact (``CampaignRole.phone``) is for everyone
        logged in, so a liaison always has someone to call."""
        return self.sees_everything or unit_id in self.unit_ids

    @property
    def role_label(self) -> str:
        if self.is_office:
            return "创建办"
        if self.is_leadership:
            return "领导"
        if self.liaison_unit_ids:
            return "联络员"
        if self.leader_unit_ids:
            return "分管领导"
        return "访客"


ANONYMOUS = Access()


def get_access(user) -> Access:
    """Roles of ``user``; cached on the user object so a request pays two queries at most."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, "_portal_access", None)
    if cached is not None:
        return cached
    roles = set(CampaignRole.objects.filter(user=user).values_list("role", flat=True))
    liaison, leader = set(), set()
    for unit_id, role in Membership.objects.filter(
        user=user, is_active=True, unit__is_active=True
    ).values_list("unit_id", "role"):
        (liaison if role == Membership.Role.LIAISON else leader).add(unit_id)
    access = Access(
        is_authenticated=True,
        is_office=user.is_superuser or CampaignRole.Role.OFFICE in roles,
        is_leadership=CampaignRole.Role.LEADERSHIP in roles,
        liaison_unit_ids=frozenset(liaison),
        leader_unit_ids=frozenset(leader),
    )
    user._portal_access = access
    return access
