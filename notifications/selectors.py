"""Reads for reminders, the inbox and the overdue bulletin; each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from campaign.models import ReportingPeriod
from reports.dashboards.selectors import completeness
from reports.models import ProgressReport
from tasks.models import Task
from units.models import CampaignRole, Membership, Unit


@dataclass
class UnitGap:
    """A unit's standing in a period: the tasks it carries and those without a submitted report."""

    unit: Unit
    expected: int
    missing: list[Task] = field(default_factory=list)

    @property
    def reported(self) -> int:
        return self.expected - len(self.missing)

    @property
    def missing_numbers(self) -> str:
        return "、".join(str(t.number) for t in self.missing)


@dataclass
class UnitPeople:
    liaisons: list = field(default_factory=list)
    leaders: list = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)


def period_gaps(period: ReportingPeriod) -> list[UnitGap]:
    """Every active unit carrying tasks in the period's campaign, with its unreported tasks: the dashboards'
    ``completeness`` (the one count of expected and reported), in the units' order (4 queries)."""
    comp = completeness(period)
    gaps = []
    for row in sorted(comp.units, key=lambda r: (r.unit.order, r.unit.pk)):
        missing = [
            task
            for task in comp.tasks
            if task.pk in row.cells and row.cells[task.pk].state not in ProgressReport.REPORTED_STATES
        ]
        gaps.append(UnitGap(unit=row.unit, expected=row.expected, missing=missing))
    return gaps


def unit_people(unit_ids) -> dict[int, UnitPeople]:
    """Active liaisons and leaders of the given units, by unit (1 query)."""
    people: dict[int, UnitPeople] = defaultdict(UnitPeople)
    memberships = (
        Membership.objects.filter(unit_id__in=list(unit_ids), is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("unit_id", "role", "id")
    )
    for m in memberships:
        entry = people[m.unit_id]
        entry.memberships.append(m)
        (entry.liaisons if m.role == Membership.Role.LIAISON else entry.leaders).append(m.user)
    return people


def office_users() -> list:
    """The office staff who receive the review queue and the digest: holders of the office role.

    Superusers also pass the office's permission checks, but they are technical accounts, not the
    people who chase units, so they are not on the mailing list unless they also hold the role.
    """
    return list(
        get_user_model()
        .objects.filter(campaign_roles__role=CampaignRole.Role.OFFICE, is_active=True)
        .distinct()
        .order_by("id")
    )


def waiting_for_review(period: ReportingPeriod | None = None) -> int:
    qs = ProgressReport.objects.filter(state=ProgressReport.State.SUBMITTED)
    if period is not None:
        qs = qs.filter(period=period)
    return qs.count()


def waiting_for_signoff(unit_id: int) -> int:
    return ProgressReport.objects.filter(state=ProgressReport.State.AWAITING_SIGNOFF, unit_id=unit_id).count()


def inbox_for(user) -> QuerySet:
    from .models import Notification

    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    from .models import Notification

    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass
class Bulletin:
    """The 通报: as of a day, which units have not reported which tasks for a period."""

    period: ReportingPeriod
    as_of: dt.date
    gaps: list[UnitGap]
    expected_total: int
    reported_total: int
    waiting_review: int
    people: dict[int, UnitPeople]

    @property
    def is_overdue(self) -> bool:
        return self.period.is_past_due(self.as_of)

    @property
    def days_overdue(self) -> int:
        return max((self.as_of - self.period.due_on).days, 0)

    @property
    def rate(self) -> float | None:
        return self.reported_total / self.expected_total if self.expected_total else None

    @property
    def missing_total(self) -> int:
        return sum(len(g.missing) for g in self.gaps)

    @property
    def title(self) -> str:
        if self.is_overdue:
            return f"关于{self.period.label}工作进展逾期未报送情况的通报"
        return f"关于{self.period.label}工作进展报送情况的通报"

    @property
    def rows(self) -> list[dict]:
        """One row per unit behind, ready for the page and the documents."""
        rows = []
        for index, gap in enumerate(self.gaps, start=1):
            members = self.people.get(gap.unit.pk, UnitPeople()).memberships
            liaisons = [m for m in members if m.role == Membership.Role.LIAISON]
            rows.append(
                {
                    "index": index,
                    "unit": gap.unit,
                    "expected": gap.expected,
                    "reported": gap.reported,
                    "missing": gap.missing,
                    "missing_count": len(gap.missing),
                    "liaisons": liaisons,
                }
            )
        return rows


def bulletin_for(period: ReportingPeriod, *, today: dt.date | None = None) -> Bulletin:
    """The overdue bulletin for a period (4 queries)."""
    today = today or timezone.localdate()
    all_gaps = period_gaps(period)
    behind = [g for g in all_gaps if g.missing]
    return Bulletin(
        period=period,
        as_of=today,
        gaps=behind,
        expected_total=sum(g.expected for g in all_gaps),
        reported_total=sum(g.reported for g in all_gaps),
        waiting_review=waiting_for_review(period),
        people=unit_people(g.unit.pk for g in behind),
    )


def bulletin_periods() -> list[ReportingPeriod]:
    """Periods a bulletin can be produced for: the ones open or closed (not those still to come)."""
    return list(
        ReportingPeriod.objects.filter(campaign__is_active=True)
        .exclude(state=ReportingPeriod.State.UPCOMING)
        .select_related("campaign")
        .order_by("-year", "-quarter")
    )


def default_bulletin_period(periods: list[ReportingPeriod], *, today: dt.date) -> ReportingPeriod | None:
    """The latest period whose due date has passed, else the latest one listed."""
    past_due = [p for p in periods if p.is_past_due(today)]
    if past_due:
        return past_due[0]
    return periods[0] if periods else None
