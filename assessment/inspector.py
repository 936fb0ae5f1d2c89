"""Read-only access for a third-party evaluator (第三方评估 / 检查组): grants, the code, the lockout, what they see.

The office creates a grant for one system (a name, valid for 1–30 days, 14 by default) and is shown the link
and an access code once; only the code's hash is stored (``django.contrib.auth.hashers``). The evaluator opens
``/assessment/inspect/<token>/`` and types the code; the grant is then remembered in the session under its own
key (``SESSION_KEY``) — never a Django login, so nothing else of the portal opens — until it expires or is
revoked. They see that system's indicators, the office's accounts and the picked evidence (``dossier.picked``:
the same items the dossier prints), and nothing else: no scores or justifications (the office's drafts), no
unpicked report, no other system.

Wrong codes are throttled as django-axes throttles passwords: ``AXES_FAILURE_LIMIT`` (5) wrong codes from one
address lock that address out of the grant for ``AXES_COOLOFF_TIME`` (15 minutes), and ``GRANT_FAILURE_LIMIT``
wrong codes from anywhere lock the grant itself for as long (someone is guessing from many addresses). The
count is read from the log (``InspectorView`` rows of wrong codes), so it holds across processes and restarts.
Every page and file opened, and every wrong code, writes an ``InspectorView``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from campaign.errors import DomainError, NotFound
from units.access import get_access

from . import dossier
from .access import require_edit
from .models import EvidencePick, Indicator, IndicatorAccount, IndicatorSystem, InspectorGrant, InspectorView
from .selectors import Node, indicator_tree

SESSION_KEY = "assessment_inspector_grants"  # {token: grant id} of the codes this browser has typed
DEFAULT_DAYS = 14
MAX_DAYS = 30
NAME_MAX = InspectorGrant._meta.get_field("name").max_length
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied from paper
CODE_LENGTH = 8
GRANT_FAILURE_LIMIT = 20

WRONG_CODE = "访问码错误"
LOCKED_TRY = "锁定期间尝试"
SIGNED_IN = "输入访问码进入"
NOT_FOUND = "该评估访问链接不存在。请向创建办核对链接。"
EXPIRED = "该评估访问授权已于{at}到期，无法继续查看。如需延长，请联系创建办重新授权。"
REVOKED = "该评估访问授权已被创建办撤销，无法继续查看。如有疑问，请联系创建办。"


# ------------------------------------------------------------------------------------------ office


def _days(value) -> int:
    if value in (None, ""):
        return DEFAULT_DAYS
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(f"有效天数须为 1 至 {MAX_DAYS} 之间的整数。", code="invalid") from None
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(f"有效天数须为 1 至 {MAX_DAYS} 天（填写的是 {days} 天）。", code="invalid")
    return days


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def grant_create(
    *, system: IndicatorSystem, by, name: str, days: int | str | None = DEFAULT_DAYS
) -> tuple[InspectorGrant, str]:
    """A grant for ``name`` (the evaluator or their organisation) on ``system``; returns it with the access code,
    which is stored only as a hash and must be shown to the office now or never."""
    require_edit(get_access(by))
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写评估人或评估单位的名称。", code="invalid")
    if len(name) > NAME_MAX:
        raise DomainError(f"名称不能超过 {NAME_MAX} 个字（现有 {len(name)} 个）。", code="invalid")
    days = _days(days)
    code = new_code()
    now = timezone.now()
    grant = InspectorGrant.objects.create(
        system=system,
        name=name,
        token=secrets.token_urlsafe(24),
        code_hash=make_password(code),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        created_by=by,
    )
    return grant, code


def grant_revoke(*, grant: InspectorGrant, by) -> InspectorGrant:
    require_edit(get_access(by))
    with transaction.atomic():
        row = InspectorGrant.objects.select_for_update().get(pk=grant.pk)
        if row.revoked_at is not None:
            raise DomainError("该授权已经撤销。", code="already_revoked")
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
    return row


def grants_of(system: IndicatorSystem) -> list[InspectorGrant]:
    """The system's grants, newest first, each with ``view_count`` and ``last_view`` (one query)."""
    pages = ~Q(views__what__in=[WRONG_CODE, LOCKED_TRY])
    return list(
        InspectorGrant.objects.filter(system=system)
        .select_related("created_by")
        .annotate(view_count=Count("views", filter=pages), last_view=Max("views__at", filter=pages))
        .order_by("-created_at", "-id")
    )


def grant_for(*, user, pk) -> InspectorGrant:
    """A grant the office may manage (leadership reads the grants page too)."""
    from .access import require_read

    require_read(get_access(user))
    try:
        return InspectorGrant.objects.select_related("system", "created_by").get(pk=int(pk))
    except (InspectorGrant.DoesNotExist, TypeError, ValueError):
        raise NotFound("该授权不存在。") from None


def grant_log(grant: InspectorGrant, limit: int = 500) -> list[InspectorView]:
    return list(InspectorView.objects.filter(grant=grant).order_by("-at", "-id")[:limit])


# ------------------------------------------------------------------------------------------ evaluator


def client_ip(request) -> str | None:
    """The evaluator's address as django-axes reads it (the proxy's header when one is configured)."""
    for key in getattr(settings, "AXES_IPWARE_META_PRECEDENCE_ORDER", ("REMOTE_ADDR",)):
        value = (request.META.get(key) or "").split(",")[0].strip()
        if value:
            return value
    return None


def grant_by_token(token: str) -> InspectorGrant:
    """The grant of a link, valid or not (the page says which); NotFound for a link that never existed."""
    grant = InspectorGrant.objects.select_related("system", "system__campaign").filter(token=token).first()
    if grant is None:
        raise NotFound(NOT_FOUND)
    return grant


def refusal(grant: InspectorGrant, now=None) -> str:
    """Why this grant opens nothing any more ("" while it is valid)."""
    if grant.revoked_at is not None:
        return REVOKED
    if not grant.is_valid(now):
        at = timezone.localtime(grant.expires_at)
        return EXPIRED.format(at=f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}")
    return ""


def log_view(grant: InspectorGrant, request, what: str) -> InspectorView:
    return InspectorView.objects.create(
        grant=grant, path=request.get_full_path()[:500], what=what[:300], ip=client_ip(request)
    )


def cooloff() -> dt.timedelta:
    return getattr(settings, "AXES_COOLOFF_TIME", dt.timedelta(minutes=15))


def failure_limit() -> int:
    return getattr(settings, "AXES_FAILURE_LIMIT", 5)


def _failures(grant: InspectorGrant, ip: str | None, now) -> list[dt.datetime]:
    """This address's wrong codes within the cool-off window and since it last got in, newest first."""
    since = now - cooloff()
    last_in = (
        InspectorView.objects.filter(grant=grant, ip=ip, what=SIGNED_IN, at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return list(
        InspectorView.objects.filter(grant=grant, ip=ip, what=WRONG_CODE, at__gte=since)
        .filter(at__gt=last_in or since)
        .order_by("-at")
        .values_list("at", flat=True)[: failure_limit()]
    )


def locked_until(grant: InspectorGrant, ip: str | None, now=None) -> dt.datetime | None:
    """When the lockout of this address (or of the grant, guessed at from many addresses) ends; None if the
    code may be tried."""
    now = now or timezone.now()
    mine = _failures(grant, ip, now)
    if len(mine) >= failure_limit():
        return mine[-1] + cooloff()
    everyone = list(
        InspectorView.objects.filter(grant=grant, what=WRONG_CODE, at__gte=now - cooloff())
        .order_by("-at")
        .values_list("at", flat=True)[:GRANT_FAILURE_LIMIT]
    )
    if len(everyone) >= GRANT_FAILURE_LIMIT:
        return everyone[-1] + cooloff()
    return None


@dataclass
class CodeResult:
    ok: bool
    message: str = ""
    locked: bool = False


def code_enter(*, grant: InspectorGrant, code: str, request) -> CodeResult:
    """Check a typed code. On success the grant joins the session (a fresh session key, so a key planted before
    cannot ride on it); a wrong code is logged and counted; a locked address is refused without checking."""
    if refusal(grant):
        return CodeResult(False, refusal(grant))
    ip = client_ip(request)
    until = locked_until(grant, ip)
    if until is not None:
        log_view(grant, request, LOCKED_TRY)
        minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
        return CodeResult(
            False,
            f"访问码输错次数过多，已暂停 {minutes} 分钟。请核对创建办提供的访问码后再试。",
            locked=True,
        )
    typed = "".join((code or "").split()).upper()
    if not typed or not check_password(typed, grant.code_hash):
        log_view(grant, request, WRONG_CODE)
        left = failure_limit() - len(_failures(grant, ip, timezone.now()))
        if left <= 0:
            return CodeResult(
                False,
                f"访问码错误。输错次数过多，已暂停 {int(cooloff().total_seconds() // 60)} 分钟。",
                locked=True,
            )
        return CodeResult(False, f"访问码错误，请核对后重新输入（还可尝试 {left} 次）。")
    request.session.cycle_key()
    held = dict(request.session.get(SESSION_KEY, {}))
    held[grant.token] = grant.pk
    request.session[SESSION_KEY] = held
    log_view(grant, request, SIGNED_IN)
    return CodeResult(True)


def holds(request, grant: InspectorGrant) -> bool:
    """Whether this browser typed the grant's code (and the grant still opens)."""
    return request.session.get(SESSION_KEY, {}).get(grant.token) == grant.pk and not refusal(grant)


def leave(request, grant: InspectorGrant) -> None:
    held = dict(request.session.get(SESSION_KEY, {}))
    held.pop(grant.token, None)
    request.session[SESSION_KEY] = held


# ------------------------------------------------------------------------------------------ reads


@dataclass
class Shown:
    """An indicator as the evaluator sees it: the node, the account text, the picked items."""

    node: Node
    account: str = ""
    items: list[dossier.Item] = field(default_factory=list)
    count: int = 0  # picked items, on the tree page

    @property
    def indicator(self) -> Indicator:
        return self.node.indicator

    @property
    def pick_count(self) -> int:
        """Picked things (a site with its files is one)."""
        return sum(1 for item in self.items if not item.sub)


def inspector_tree(grant: InspectorGrant) -> list[Shown]:
    """Every indicator of the grant's system in tree order, with accounts and the number of picked items (three
    queries). Scores and justifications are not read."""
    roots = indicator_tree(grant.system)
    accounts = dict(
        IndicatorAccount.objects.filter(indicator__system=grant.system).values_list("indicator_id", "account")
    )
    counts = dict(
        dossier.picked(EvidencePick.objects.filter(indicator__system=grant.system))
        .values_list("indicator_id")
        .annotate(n=Count("id"))
    )
    rows = []
    for root in roots:
        for node in root.walk():
            rows.append(
                Shown(node, accounts.get(node.indicator.pk, ""), count=counts.get(node.indicator.pk, 0))
            )
    return rows


def inspector_indicator(grant: InspectorGrant, pk) -> Shown:
    """One indicator of the grant's system with its account and picked items; NotFound for any other."""
    try:
        indicator = Indicator.objects.get(pk=int(pk), system=grant.system)
    except (Indicator.DoesNotExist, TypeError, ValueError):
        raise NotFound("该指标不存在。") from None
    account = IndicatorAccount.objects.filter(indicator=indicator).values_list("account", flat=True).first()
    node = next(
        (n for root in indicator_tree(grant.system) for n in root.walk() if n.indicator.pk == indicator.pk),
        Node(indicator),
    )
    items = dossier.items_of(dossier.pick_queryset(grant.system).filter(indicator=indicator))
    return Shown(node, account or "", items)


def inspector_file(grant: InspectorGrant, source: str, pk):
    """(the file's holder, its item) of a picked evidence file or office file of the grant's system; NotFound
    for anything not picked (an unpicked file, another system's, a report no longer approved)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("文件不存在。") from None
    picks = dossier.pick_queryset(grant.system)
    if source == "evidence":
        pick = picks.filter(evidence_id=pk).first()
    elif source == "office":
        pick = picks.filter(office_file_id=pk).first()
    elif source == "site-naming":
        pick = picks.filter(site_id=pk).first()
    elif source == "site-photo":
        pick = picks.filter(site__photos=pk).first()
    elif source == "site-file":
        pick = picks.filter(site__files=pk).first()
    else:
        pick = None
    if pick is None:
        raise NotFound("文件不存在，或不在评估材料之内。")
    item = next(
        (
            i
            for i in dossier.items_of([pick])
            if i.source == source and i.holder is not None and i.holder.pk == pk
        ),
        None,
    )
    if item is None or not item.has_file:
        raise NotFound("文件不存在。")
    return item
