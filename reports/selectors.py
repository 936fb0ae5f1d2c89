"""Reads of the reporting loop. Each returns what a page needs in a fixed number of queries, whatever the
number of units, tasks and reports (see ``manage.py benchmark_reports``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from campaign.errors import NotFound
from campaign.models import ReportingPeriod
from campaign.search import search_words
from tasks.models import Metric, Responsibility, Target, Task
from units.access import Access, get_access
from units.models import Unit

from .models import Evidence, MetricValue, PeriodReopening, ProgressReport, ReportEvent

State = ProgressReport.State
NOT_FOUND = "报告不存在，或您无权查看。"
PAGE_NOT_FOUND = "页面不存在，或您无权查看。"
QUEUE_PAGE_SIZE = 50


def visible_reports(access: Access) -> QuerySet[ProgressReport]:
    """Office and leadership read every report; a unit's people read their own units'; others none."""
    qs = ProgressReport.objects.all()
    if access.sees_everything:
        return qs
    if access.unit_ids:
        return qs.filter(unit_id__in=access.unit_ids)
    return qs.none()


def unusual_values_exist() -> Exists:
    return Exists(
        MetricValue.objects.filter(
            report=OuterRef("pk"), metric__typical_max__isnull=False, value__gt=F("metric__typical_max")
        )
    )


def report_for(*, user, pk) -> ProgressReport:
    """A report the user may read, with what its page shows (4 queries); another unit's report is 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(NOT_FOUND) from None
    qs = (
        visible_reports(get_access(user))
        .select_related(
            "period",
            "unit",
            "task",
            "task__section",
            "created_by",
            "updated_by",
            "submitted_by",
            "reviewed_by",
            "signed_off_by",
        )
        .prefetch_related(
            Prefetch(
                "metric_values",
                queryset=MetricValue.objects.select_related("metric").order_by("metric__order"),
            ),
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
            Prefetch("events", queryset=ReportEvent.objects.select_related("actor").order_by("at", "id")),
        )
    )
    try:
        return qs.get(pk=pk)
    except ProgressReport.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


def evidence_for(*, user, pk) -> Evidence:
    access = get_access(user)
    qs = Evidence.objects.select_related("report")
    if not access.sees_everything:
        qs = qs.filter(report__unit_id__in=access.unit_ids)
    try:
        return qs.get(pk=pk)
    except (Evidence.DoesNotExist, ValueError, TypeError):
        raise NotFound("佐证材料不存在，或您无权查看。") from None


def task_with_targets(task_id: int) -> Task:
    return (
        Task.objects.select_related("section")
        .prefetch_related(
            Prefetch("targets", queryset=Target.objects.select_related("metric").order_by("order", "id"))
        )
        .get(pk=task_id)
    )


# ---------------------------------------------------------------- when a unit may write, and what


def reopening_for(
    *, period: ReportingPeriod, unit_id: int, today: dt.date | None = None
) -> PeriodReopening | None:
    """The reopening of ``period`` for the unit in force on ``today``, if any."""
    today = today or timezone.localdate()
    return (
        PeriodReopening.objects.filter(PeriodReopening.active_q(today), period=period, unit_id=unit_id)
        .order_by("-opened_at")
        .first()
    )


def writable_with(period: ReportingPeriod, reopening: PeriodReopening | None) -> bool:
    """The one rule of a period's window: a unit writes in an open period, or in a closed one that the office
    has reopened for it (``reopening`` in force); never in an upcoming one."""
    if period.state == ReportingPeriod.State.OPEN:
        return True
    return period.state == ReportingPeriod.State.CLOSED and reopening is not None


def period_is_writable(*, period: ReportingPeriod, unit_id: int, today: dt.date | None = None) -> bool:
    """May the unit create and change its reports in ``period`` on ``today``? (0 or 1 query)"""
    if period.state != ReportingPeriod.State.CLOSED:
        return writable_with(period, None)
    return writable_with(period, reopening_for(period=period, unit_id=unit_id, today=today))


def unit_carries(*, unit_id: int, task_id: int) -> bool:
    """Is the unit responsible (lead or co-responsible) for the task? Only then does it report on it."""
    return Responsibility.objects.filter(unit_id=unit_id, task_id=task_id).exists()


def report_metrics(*, task: Task) -> list[Metric]:
    """The metrics a report on ``task`` may carry: the task's own target metrics first, then the common
    publicity metrics (1 query, or 2 when ``task.targets`` is not prefetched). 示范点 are not typed into
    reports: they are counted from the register (``Metric.REGISTER_CODES``)."""
    metrics = (
        Metric.objects.filter(Q(is_common=True) | Q(targets__task=task))
        .exclude(code__in=Metric.REGISTER_CODES)
        .distinct()
    )
    own = {target.metric_id for target in task.targets.all()} if task.pk else set()
    return sorted(metrics, key=lambda m: (m.pk not in own, m.order, m.pk))


def previous_report(*, period: ReportingPeriod, unit_id: int, task_id: int) -> ProgressReport | None:
    """The unit's latest earlier report on the task, with text (for "copy from last quarter"; 2 queries)."""
    return (
        ProgressReport.objects.filter(
            unit_id=unit_id, task_id=task_id, period__campaign_id=period.campaign_id
        )
        .filter(
            Q(period__year__lt=period.year) | Q(period__year=period.year, period__quarter__lt=period.quarter)
        )
        .exclude(progress="")
        .select_related("period")
        .prefetch_related("metric_values")
        .order_by("-period__year", "-period__quarter")
        .first()
    )


# ---------------------------------------------------------------- the report form


def report_on(*, period: ReportingPeriod, unit: Unit, task: Task) -> ProgressReport | None:
    """The unit's report on the task in the period, with what the form shows (3 queries)."""
    report = (
        ProgressReport.objects.filter(period=period, unit=unit, task=task)
        .select_related("updated_by")
        .prefetch_related("metric_values", "evidence")
        .first()
    )
    if report is not None:
        report.period, report.unit, report.task = period, unit, task
    return report


@dataclass
class ReportFormState:
    """What the report form needs. ``can_author``: the person is one of the unit's own people; ``carries``:
    the unit is responsible for the task; ``writable``: the period is open, or reopened for the unit;
    ``previous``: the unit's latest earlier report on the task, to copy from (GET only)."""

    period: ReportingPeriod
    unit: Unit
    task: Task
    report: ProgressReport | None
    metrics: list[Metric]
    can_author: bool
    carries: bool
    writable: bool
    previous: ProgressReport | None = None


def report_form_state(
    *,
    user,
    period_id: int,
    unit_id: int,
    task_id: int,
    with_previous: bool = True,
    today: dt.date | None = None,
) -> ReportFormState:
    """The report form of a unit on a task in a period, in a fixed number of queries whatever the number of
    units, tasks and reports (11, and 1 more for a closed period; 2 fewer without ``with_previous``;
    plus the 2 of ``get_access`` once per request). A unit the person may not read,
    or a period, unit or task that does not exist, is NotFound. What to do about the flags (redirect, 403,
    404) is the page's business."""
    access = get_access(user)
    if not access.can_read_unit(unit_id):
        raise NotFound(PAGE_NOT_FOUND)
    period = ReportingPeriod.objects.filter(pk=period_id).first()
    unit = Unit.objects.filter(pk=unit_id).first()
    if period is None or unit is None:
        raise NotFound(PAGE_NOT_FOUND)
    task = (
        Task.objects.select_related("section")
        .prefetch_related(
            Prefetch("targets", queryset=Target.objects.select_related("metric").order_by("order", "id"))
        )
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound("任务不存在。")
    state = ReportFormState(
        period=period,
        unit=unit,
        task=task,
        report=report_on(period=period, unit=unit, task=task),
        metrics=report_metrics(task=task),
        can_author=access.can_edit_unit(unit.pk),
        carries=unit_carries(unit_id=unit.pk, task_id=task.pk),
        writable=period_is_writable(period=period, unit_id=unit.pk, today=today),
    )
    if with_previous:
        state.previous = previous_report(period=period, unit_id=unit.pk, task_id=task.pk)
    return state


# ---------------------------------------------------------------- the liaison's period page


@dataclass
class PeriodRow:
    task: Task
    role: str
    report: ProgressReport | None
    light: str
    light_label: str

    @property
    def is_done(self) -> bool:
        return self.report is not None and self.report.is_reported


@dataclass
class PeriodOverview:
    unit: Unit
    period: ReportingPeriod | None
    rows: list[PeriodRow] = field(default_factory=list)
    reopening: PeriodReopening | None = None
    writable: bool = False

    @property
    def todo(self) -> int:
        return sum(1 for row in self.rows if not row.is_done)

    @property
    def done(self) -> int:
        return len(self.rows) - self.todo

    @property
    def returned(self) -> int:
        return sum(1 for row in self.rows if row.report is not None and row.report.state == State.RETURNED)


def unit_period_overview(
    *, unit: Unit, period: ReportingPeriod | None, today: dt.date | None = None
) -> PeriodOverview:
    """The unit's tasks in ``period`` with each report's state and light (3 queries)."""
    today = today or timezone.localdate()
    overview = PeriodOverview(unit=unit, period=period)
    if period is None:
        return overview
    responsibilities = list(
        Responsibility.objects.filter(unit=unit, task__campaign_id=period.campaign_id)
        .select_related("task", "task__section")
        .order_by("task__number")
    )
    reports = {
        r.task_id: r
        for r in ProgressReport.objects.filter(unit=unit, period=period).only(
            "id",
            "task_id",
            "state",
            "version",
            "updated_at",
            "submitted_at",
            "first_submitted_at",
            "return_reason",
            "progress_status",
            "period_id",
            "unit_id",
        )
    }
    overview.reopening = reopening_for(period=period, unit_id=unit.pk, today=today)
    overview.writable = writable_with(period, overview.reopening)
    for resp in responsibilities:
        report = reports.get(resp.task_id)
        if report is not None:
            report.period = period
        colour, label = ProgressReport.light_for(report, period, today)
        overview.rows.append(PeriodRow(resp.task, resp.get_role_display(), report, colour, label))
    return overview


def unit_history(
    *, unit: Unit, campaign, exclude_period: ReportingPeriod | None = None
) -> list[tuple[ReportingPeriod, list[ProgressReport]]]:
    """The unit's reports grouped by period, newest period first (2 queries)."""
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("-year", "-quarter"))
    reports = (
        ProgressReport.objects.filter(unit=unit, period__campaign=campaign)
        .select_related("task")
        .order_by("task__number")
    )
    by_period: dict[int, list[ProgressReport]] = {}
    for r in reports:
        by_period.setdefault(r.period_id, []).append(r)
    out = []
    for p in periods:
        if exclude_period is not None and p.pk == exclude_period.pk:
            continue
        if p.pk in by_period:
            for r in by_period[p.pk]:
                r.period = p
            out.append((p, by_period[p.pk]))
    return out


# ---------------------------------------------------------------- the office's review queue


# The queue's sort keys (a leading "-" reverses): what the office sorts by, and the columns it orders.
QUEUE_SORTS = {
    "deadline": ("period__due_on", "period__year", "period__quarter"),
    "unit": ("unit__order", "unit__id"),
    "task": ("task__number",),
    "submitted": ("submitted_at",),
}
QUEUE_DEFAULT_SORT = "-deadline"


@dataclass
class QueueFilters:
    period: int | None = None
    unit: int | None = None
    task: int | None = None
    state: str | None = State.SUBMITTED
    q: str = ""
    sort: str = QUEUE_DEFAULT_SORT

    def __post_init__(self):
        if self.sort.lstrip("-") not in QUEUE_SORTS:
            self.sort = QUEUE_DEFAULT_SORT


def queue_default_period(campaign) -> ReportingPeriod | None:
    """The period the review queue opens on: the one being reported now (the latest open period), else the
    latest period with a report waiting for review (2 queries at most)."""
    current = ReportingPeriod.current_open(campaign)
    if current is not None:
        return current
    return (
        ReportingPeriod.objects.filter(campaign=campaign, reports__state=State.SUBMITTED)
        .order_by("-year", "-quarter")
        .first()
    )


def review_queryset(filters: QueueFilters) -> QuerySet[ProgressReport]:
    qs = ProgressReport.objects.select_related("period", "unit", "task", "submitted_by").annotate(
        has_unusual=unusual_values_exist()
    )
    if filters.period:
        qs = qs.filter(period_id=filters.period)
    if filters.unit:
        qs = qs.filter(unit_id=filters.unit)
    if filters.task:
        qs = qs.filter(task_id=filters.task)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if q := search_words(filters.q):
        qs = qs.filter(
            Q(progress__icontains=q)
            | Q(problems__icontains=q)
            | Q(next_steps__icontains=q)
            | Q(unit__name__icontains=q)
            | Q(task__title__icontains=q)
        )
    return qs.order_by(*queue_order(filters.sort))


def queue_order(sort: str) -> list:
    """The ORDER BY of a queue sort key; ties go to the earliest submitted (first come, first reviewed)."""
    descending = sort.startswith("-")
    columns = QUEUE_SORTS.get(sort.lstrip("-"), QUEUE_SORTS["deadline"])
    order = [F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True) for c in columns]
    return [*order, F("submitted_at").asc(nulls_last=True), "id"]


def next_pending(*, after: ProgressReport) -> ProgressReport | None:
    """The report to review after ``after``: the next one waiting in the queue's default order, in the same
    period first, then in any period (1–2 queries)."""
    waiting = ProgressReport.objects.filter(state=State.SUBMITTED).exclude(pk=after.pk)
    order = queue_order(QUEUE_DEFAULT_SORT)
    return (
        waiting.filter(period_id=after.period_id).order_by(*order).first() or waiting.order_by(*order).first()
    )


def review_queue(*, filters: QueueFilters, page: int | str = 1, per_page: int = QUEUE_PAGE_SIZE) -> Page:
    """One page of the queue (2 queries: the count and the page)."""
    return Paginator(review_queryset(filters), per_page).get_page(page)


def queue_choices(campaign) -> dict:
    """Options of the queue's filters (3 queries)."""
    return {
        "periods": list(ReportingPeriod.objects.filter(campaign=campaign).order_by("-year", "-quarter")),
        "units": list(Unit.objects.filter(is_active=True).order_by("order", "id").only("id", "name")),
        "tasks": list(
            Task.objects.filter(campaign=campaign).order_by("number").only("id", "number", "title")
        ),
    }


def active_reopenings(
    campaign, today: dt.date | None = None, unit: Unit | None = None
) -> list[PeriodReopening]:
    today = today or timezone.localdate()
    qs = PeriodReopening.objects.filter(PeriodReopening.active_q(today), period__campaign=campaign)
    if unit is not None:
        qs = qs.filter(unit=unit)
    return list(qs.select_related("period", "unit", "opened_by").order_by("-opened_at"))


def awaiting_signoff(*, unit_ids) -> QuerySet[ProgressReport]:
    """Reports of ``unit_ids`` waiting for their 分管领导's sign-off, oldest sent first (the leader's queue)."""
    return (
        ProgressReport.objects.filter(state=State.AWAITING_SIGNOFF, unit_id__in=list(unit_ids))
        .select_related("period", "unit", "task", "submitted_by")
        .order_by("period__due_on", F("sent_for_signoff_at").asc(nulls_last=True), "unit__order", "id")
    )
