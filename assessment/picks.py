"""Evidence by indicator: a leaf's candidates (the APPROVED reports of the tasks linked to it by CONFIRMED
links, and their evidence files; and the 示范点 named as of today in the site register, by default those of the
linked tasks), what the office picks into the dossier and in which order, the files only the office holds
(``OfficeFile``, checked by ``reports/evidence.py`` as every upload is), and the leaf's account (情况说明) with
its version check.

Reads first (fixed number of queries), then writes (keyword-only, ``access.require_edit`` first). Only the
office writes; leadership reads; unit people see none of it (``assessment/access.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from campaign.dates import cn_date
from campaign.errors import DomainError, NotFound, StaleVersion
from campaign.models import ReportingPeriod
from campaign.search import search_words
from reports import evidence as evidence_files
from reports.models import Evidence, ProgressReport
from reports.services import clean_text
from sites.models import Site
from sites.selectors import register_page_sites, sites_as_of
from tasks.models import Responsibility
from units.access import get_access
from units.models import Unit, display_name

from .access import require_edit, require_read
from .dossier import picked
from .models import EvidencePick, Indicator, IndicatorAccount, IndicatorLink, OfficeFile

CANDIDATES_PER_PAGE = 20
SITES_PER_PAGE = 20
LINKED = ""  # the sites filter's default: the sites of the leaf's linked tasks
EVERY = "all"
CAPTION_MAX = OfficeFile._meta.get_field("caption").max_length
COUNTY_KINDS = (Unit.Kind.COUNTY, Unit.Kind.PARK)
NOT_A_LEAF = (
    "“{code} {title}”是上级指标，其分值由下级指标合计；请在下级（末级）指标中选取材料、撰写说明和评分。"
)


# ---------------------------------------------------------------- reads


def indicator_for(*, user, pk) -> Indicator:
    """An indicator the person may read (office and leadership), with its system; 404 otherwise."""
    require_read(get_access(user))
    try:
        return Indicator.objects.select_related("system", "system__campaign", "parent", "parent__parent").get(
            pk=int(pk)
        )
    except (Indicator.DoesNotExist, TypeError, ValueError):
        raise NotFound("指标不存在。") from None


def is_leaf(indicator: Indicator) -> bool:
    return not Indicator.objects.filter(parent=indicator).exists()


def confirmed_links(indicator: Indicator) -> list[IndicatorLink]:
    """The leaf's confirmed links, in task order (1 query)."""
    return list(
        IndicatorLink.objects.filter(indicator=indicator, state=IndicatorLink.State.CONFIRMED)
        .select_related("task", "metric")
        .order_by("task__number", "id")
    )


def _linked_tasks(indicator: Indicator) -> QuerySet:
    """The task ids of the leaf's confirmed links, as a subquery (a task linked twice counts once)."""
    return IndicatorLink.objects.filter(indicator=indicator, state=IndicatorLink.State.CONFIRMED).values(
        "task_id"
    )


def candidate_queryset(indicator: Indicator) -> QuerySet[ProgressReport]:
    """Every candidate report of the leaf: APPROVED, on a task linked to it by a CONFIRMED link."""
    return ProgressReport.objects.filter(
        state=ProgressReport.State.APPROVED, task_id__in=_linked_tasks(indicator)
    )


@dataclass
class CandidateFilters:
    """The candidate list's filters, parsed from the query string (unknown values are ignored)."""

    period: ReportingPeriod | None = None
    unit: Unit | None = None
    county: Unit | None = None  # a county-level unit: its own reports and those of units under it
    q: str = ""

    @classmethod
    def parse(cls, params, *, periods: list[ReportingPeriod], units: list[Unit], counties: list[Unit]):
        def pick(items, raw):
            raw = (raw or "").strip()
            return next((item for item in items if str(item.pk) == raw), None)

        return cls(
            period=pick(periods, params.get("period")),
            unit=pick(units, params.get("unit")),
            county=pick(counties, params.get("county")),
            q=search_words(params.get("q"))[:100],
        )

    def apply(self, qs: QuerySet[ProgressReport]) -> QuerySet[ProgressReport]:
        if self.period is not None:
            qs = qs.filter(period=self.period)
        if self.unit is not None:
            qs = qs.filter(unit=self.unit)
        if self.county is not None:
            qs = qs.filter(Q(unit=self.county) | Q(unit__parent=self.county))
        if self.q:
            q = self.q
            in_files = Evidence.objects.filter(
                Q(caption__icontains=q) | Q(original_name__icontains=q)
            ).values("report_id")
            qs = qs.filter(
                Q(progress__icontains=q)
                | Q(problems__icontains=q)
                | Q(next_steps__icontains=q)
                | Q(unit__name__icontains=q)
                | Q(task__title__icontains=q)
                | Q(pk__in=in_files)
            )
        return qs

    @property
    def active(self) -> bool:
        return bool(self.period or self.unit or self.county or self.q)


@dataclass
class FilterChoices:
    periods: list[ReportingPeriod]
    units: list[Unit]
    counties: list[Unit]


def filter_choices(indicator: Indicator) -> FilterChoices:
    """Options of the candidate filters (2 queries): the campaign's periods, newest first, and the units
    responsible for the linked tasks (the counties among them, and every active county-level unit)."""
    periods = list(
        ReportingPeriod.objects.filter(campaign_id=indicator.system.campaign_id).order_by("-year", "-quarter")
    )
    responsible = Responsibility.objects.filter(task_id__in=_linked_tasks(indicator)).values("unit_id")
    units = list(
        Unit.objects.filter(Q(pk__in=responsible) | Q(kind__in=COUNTY_KINDS, is_active=True))
        .order_by("order", "id")
        .only("id", "name", "kind", "order", "parent_id")
    )
    return FilterChoices(
        periods=periods,
        units=units,
        counties=[u for u in units if u.kind in COUNTY_KINDS],
    )


def candidates_page(
    indicator: Indicator,
    *,
    filters: CandidateFilters,
    page: int | str = 1,
    per_page: int = CANDIDATES_PER_PAGE,
) -> Page:
    """One page of the leaf's candidates, newest quarter first, with their evidence (3 queries: the count,
    the page, its evidence)."""
    qs = (
        filters.apply(candidate_queryset(indicator))
        .select_related("period", "unit", "task")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("uploaded_at", "id")))
        .order_by("-period__year", "-period__quarter", "unit__order", "task__number", "id")
    )
    return Paginator(qs, per_page).get_page(page)


def site_candidate_queryset() -> QuerySet[Site]:
    """Every site a leaf may take into the dossier: named as of today, by the register's rule (``sites_as_of``,
    with its level, naming date and document annotated)."""
    return sites_as_of(status=Site.Status.NAMED)


@dataclass
class SiteFilters:
    """The site candidates' filters (``s_`` in the query string, beside the report filters): the scope — the
    linked tasks' sites (default), one 八进 category, or every named site — county, level and a search."""

    scope: str = LINKED
    county: Unit | None = None
    level: str = ""
    q: str = ""

    SCOPES = [(LINKED, "对应任务的示范点"), *Site.Category.choices, (EVERY, "全部已命名示范点")]

    @classmethod
    def parse(cls, params, *, counties: list[Unit]):
        scope = (params.get("s_scope") or "").strip()
        level = (params.get("s_level") or "").strip()
        raw_county = (params.get("s_county") or "").strip()
        return cls(
            scope=scope if scope in dict(cls.SCOPES) else LINKED,
            county=next((c for c in counties if str(c.pk) == raw_county), None),
            level=level if level in Site.Level.values else "",
            q=search_words(params.get("s_q"))[:100],
        )

    @property
    def active(self) -> bool:
        return bool(self.scope or self.county or self.level or self.q)

    @property
    def narrowed(self) -> bool:
        """Filtered beyond the scope (county, level or search)."""
        return bool(self.county or self.level or self.q)


def site_candidates(indicator: Indicator, filters: SiteFilters) -> QuerySet[Site]:
    """The leaf's site candidates under ``filters``: the register's list (``register_page_sites``: named as of
    today, the search in name and address, what a row shows, the register's order), narrowed to the linked
    tasks' sites by default."""
    category = filters.scope if filters.scope not in (LINKED, EVERY) else None
    qs = register_page_sites(
        search=filters.q,
        status=Site.Status.NAMED,
        county=filters.county,
        category=category,
        level=filters.level or None,
    )
    if filters.scope == LINKED:
        qs = qs.filter(task_id__in=_linked_tasks(indicator))
    return qs


def site_candidates_page(
    indicator: Indicator, *, filters: SiteFilters, page: int | str = 1, per_page: int = SITES_PER_PAGE
) -> Page:
    """One page of the leaf's site candidates (the count, the page, its photos)."""
    return Paginator(site_candidates(indicator, filters), per_page).get_page(page)


def picks_of(indicator: Indicator) -> list[EvidencePick]:
    """The leaf's picked items in the dossier's order, each with what it points at (1 query)."""
    return list(
        EvidencePick.objects.filter(indicator=indicator)
        .select_related(
            "report",
            "report__period",
            "report__unit",
            "report__task",
            "evidence",
            "evidence__report",
            "evidence__report__period",
            "evidence__report__unit",
            "office_file",
            "site",
            "site__owner",
            "picked_by",
        )
        .order_by("order", "id")
    )


def counted_ids(indicator: Indicator) -> set[int]:
    """The leaf's picks that count (``dossier.picked``): the others stay listed, marked 不计入, until the office
    removes them or the report is approved again."""
    return set(picked(EvidencePick.objects.filter(indicator=indicator)).values_list("pk", flat=True))


def pick_key(pick: EvidencePick) -> tuple[str, int]:
    """("report", id) / ("evidence", id) / ("file", id) / ("site", id): what a pick holds, as the pick buttons
    name it."""
    if pick.report_id:
        return "report", pick.report_id
    if pick.evidence_id:
        return "evidence", pick.evidence_id
    if pick.office_file_id:
        return "file", pick.office_file_id
    return "site", pick.site_id


def picked_keys(picks: list[EvidencePick]) -> set[tuple[str, int]]:
    """The ``pick_key`` of what is already picked, for the pick buttons."""
    return {pick_key(pick) for pick in picks}


def office_files_of(indicator: Indicator) -> list[OfficeFile]:
    return list(
        OfficeFile.objects.filter(indicator=indicator)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "id")
    )


def office_file_for(*, user, pk) -> OfficeFile:
    """An office file the person may read (office and leadership)."""
    require_read(get_access(user))
    try:
        return OfficeFile.objects.select_related("indicator").get(pk=int(pk))
    except (OfficeFile.DoesNotExist, TypeError, ValueError):
        raise NotFound("文件不存在。") from None


def pick_for(*, user, pk) -> EvidencePick:
    require_read(get_access(user))
    try:
        return EvidencePick.objects.select_related("indicator").get(pk=int(pk))
    except (EvidencePick.DoesNotExist, TypeError, ValueError):
        raise NotFound("该材料已不在入卷清单中（可能已被移除），请刷新页面。") from None


def account_of(indicator: Indicator) -> IndicatorAccount | None:
    return IndicatorAccount.objects.filter(indicator=indicator).select_related("updated_by").first()


# ---------------------------------------------------------------- writes: shared checks


def require_leaf(indicator: Indicator) -> None:
    if not is_leaf(indicator):
        raise DomainError(NOT_A_LEAF.format(code=indicator.code, title=indicator.title), code="not_leaf")


def _stale(current: IndicatorAccount) -> StaleVersion:
    who = display_name(current.updated_by) if current.updated_by else "他人"
    when = timezone.localtime(current.updated_at)
    return StaleVersion(
        f"该指标的自评内容已被他人修改（{who}于{cn_date(when)} {when:%H:%M}保存），"
        "您刚才填写的内容没有保存，仍保留在下面；请核对对方保存的内容后再保存。"
    )


def parse_version(raw) -> int:
    """The version a form was opened at (0: no account written yet when the form was opened)."""
    try:
        version = int(raw)
    except (TypeError, ValueError):
        raise DomainError("页面缺少版本信息，请刷新页面后重试（请先复制保留您填写的内容）。") from None
    if version < 0:
        raise DomainError("版本信息无效，请刷新页面后重试。")
    return version


def locked_account(indicator: Indicator, version: int) -> IndicatorAccount:
    """The leaf's account row locked for this transaction, if the person's form is still current; a new
    unsaved row when none exists yet and the form was opened before any (``version`` 0). Someone else's save
    in between raises ``StaleVersion`` and nothing is written."""
    current = (
        IndicatorAccount.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .filter(indicator=indicator)
        .first()
    )
    if current is None:
        return IndicatorAccount(indicator=indicator, version=0)
    if current.version != version:
        raise _stale(current)
    return current


def save_account_row(account: IndicatorAccount, by) -> IndicatorAccount:
    """Write the row with its version bumped. Two first saves at once: the second is refused as stale."""
    account.version += 1
    account.updated_by = by
    if account.pk is None:
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:
            raise _stale(
                IndicatorAccount.objects.select_related("updated_by").get(indicator=account.indicator)
            ) from None
    else:
        account.save()
    return account


# ---------------------------------------------------------------- writes: the account


@transaction.atomic
def account_save(*, indicator: Indicator, by, account: str, version: int | str) -> IndicatorAccount:
    """Save the leaf's 情况说明. A stale ``version`` is refused (``StaleVersion``) and nothing is written, so
    the page can show the typed text beside the saved one."""
    require_edit(get_access(by))
    require_leaf(indicator)
    text = clean_text(account, label="情况说明")
    row = locked_account(indicator, parse_version(version))
    if row.pk is not None and row.account == text:
        return row
    row.account = text
    return save_account_row(row, by)


# ---------------------------------------------------------------- writes: picks


def _locked_indicator(indicator: Indicator) -> Indicator:
    """The indicator row locked, so two picks at once do not take the same place in the order."""
    return Indicator.objects.select_for_update().get(pk=indicator.pk)


def _next_order(indicator: Indicator) -> int:
    top = EvidencePick.objects.filter(indicator=indicator).aggregate(top=Max("order"))["top"]
    return 0 if top is None else top + 1


@transaction.atomic
def pick_add(
    *,
    indicator: Indicator,
    by,
    report_id: int | str | None = None,
    evidence_id: int | str | None = None,
    office_file_id: int | str | None = None,
    site_id: int | str | None = None,
) -> EvidencePick:
    """Put one item at the end of the leaf's dossier: an approved report of a linked task, one of its
    evidence files, an office file of this leaf, or a site named as of today. Picking what is already picked
    returns that pick."""
    require_edit(get_access(by))
    require_leaf(indicator)
    given = [
        (k, v)
        for k, v in (
            ("report", report_id),
            ("evidence", evidence_id),
            ("file", office_file_id),
            ("site", site_id),
        )
        if v
    ]
    if len(given) != 1:
        raise DomainError("请选择一份报告、一个佐证文件、一份创建办材料或一个示范点。")
    kind, raw = given[0]
    try:
        item_id = int(raw)
    except (TypeError, ValueError):
        raise DomainError("所选材料无效，请刷新页面后重试。") from None
    values: dict[str, object] = {}
    if kind == "report":
        report = candidate_queryset(indicator).filter(pk=item_id).first()
        if report is None:
            raise DomainError(
                "只能选取本指标对应任务（已确认）中审核通过的报告；该报告不符合，请刷新页面后重试。",
                code="not_candidate",
            )
        values["report"] = report
    elif kind == "evidence":
        evidence = (
            Evidence.objects.filter(pk=item_id, report__in=candidate_queryset(indicator))
            .select_related("report")
            .first()
        )
        if evidence is None:
            raise DomainError(
                "只能选取本指标对应任务（已确认）中审核通过报告的佐证材料；该材料不符合，请刷新页面后重试。",
                code="not_candidate",
            )
        if evidence.kind != Evidence.Kind.FILE:
            raise DomainError(
                "链接不能入卷（申报材料只收文件）。可把链接写进情况说明，或选取它所在的报告。",
                code="link_not_file",
            )
        values["evidence"] = evidence
    elif kind == "site":
        site = site_candidate_queryset().filter(pk=item_id).first()
        if site is None:
            raise DomainError(
                "只能选取示范点台账中已命名的示范点；该示范点尚未命名、已被合并或不存在，请刷新页面后重试。",
                code="not_candidate",
            )
        values["site"] = site
    else:
        office_file = OfficeFile.objects.filter(pk=item_id, indicator=indicator).first()
        if office_file is None:
            raise DomainError(
                "该创建办材料不属于本指标，或已被删除，请刷新页面后重试。", code="not_candidate"
            )
        values["office_file"] = office_file
    _locked_indicator(indicator)
    existing = EvidencePick.objects.filter(indicator=indicator, **values).first()
    if existing is not None:
        return existing
    return EvidencePick.objects.create(
        indicator=indicator, order=_next_order(indicator), picked_by=by, picked_at=timezone.now(), **values
    )


@transaction.atomic
def pick_remove(*, pick: EvidencePick, by) -> None:
    """Take an item out of the dossier (the report or file itself is untouched)."""
    require_edit(get_access(by))
    EvidencePick.objects.filter(pk=pick.pk).delete()


def _renumber(indicator: Indicator, ids: list[int]) -> None:
    for order, pk in enumerate(ids):
        EvidencePick.objects.filter(pk=pk, indicator=indicator).update(order=order)


@transaction.atomic
def pick_move(*, pick: EvidencePick, by, direction: str) -> None:
    """Move an item one place up or down in the leaf's dossier."""
    require_edit(get_access(by))
    if direction not in ("up", "down"):
        raise DomainError("请选择上移或下移。")
    indicator = _locked_indicator(pick.indicator)
    ids = list(
        EvidencePick.objects.filter(indicator=indicator).order_by("order", "id").values_list("pk", flat=True)
    )
    if pick.pk not in ids:
        raise NotFound("该材料已不在入卷清单中（可能已被移除），请刷新页面。")
    at = ids.index(pick.pk)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    _renumber(indicator, ids)


@transaction.atomic
def picks_reorder(*, indicator: Indicator, by, pick_ids: list[int | str]) -> None:
    """Put the leaf's picks in the given order; the list must name every pick of the leaf exactly once."""
    require_edit(get_access(by))
    indicator = _locked_indicator(indicator)
    try:
        wanted = [int(pk) for pk in pick_ids]
    except (TypeError, ValueError):
        raise DomainError("排序信息无效，请刷新页面后重试。") from None
    current = set(EvidencePick.objects.filter(indicator=indicator).values_list("pk", flat=True))
    if len(wanted) != len(set(wanted)) or set(wanted) != current:
        raise DomainError("入卷清单已有变化（他人刚增删了材料），请刷新页面后重新排序。", code="stale_order")
    _renumber(indicator, wanted)


# ---------------------------------------------------------------- writes: office files


@transaction.atomic
def office_file_add(*, indicator: Indicator, by, upload, caption: str = "", pick: bool = True) -> OfficeFile:
    """Add a file only the office holds (a 命名文件, a meeting record) to the leaf, checked by content and
    size as every evidence file is (``reports/evidence.py``), and put it into the dossier (``pick``)."""
    require_edit(get_access(by))
    require_leaf(indicator)
    if upload is None:
        raise DomainError("请选择要上传的文件。", code="required")
    caption = clean_text(caption, label="材料说明", limit=CAPTION_MAX)
    kind, sha256, size = evidence_files.check_upload(upload)
    office_file = OfficeFile(
        indicator=indicator,
        original_name=evidence_files.display_name(getattr(upload, "name", "")),
        content_type=kind.content_type,
        size=size,
        sha256=sha256,
        caption=caption,
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    office_file.file.save(evidence_files.stored_name(kind.extension), upload, save=False)
    office_file.save()
    if pick:
        _locked_indicator(indicator)
        EvidencePick.objects.create(
            indicator=indicator,
            office_file=office_file,
            order=_next_order(indicator),
            picked_by=by,
            picked_at=timezone.now(),
        )
    return office_file


@transaction.atomic
def office_file_remove(*, office_file: OfficeFile, by) -> None:
    """Delete an office file (and its place in the dossier); the stored file goes once the delete commits."""
    require_edit(get_access(by))
    stored = office_file.file
    name, storage = stored.name, stored.storage
    office_file.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
