"""Reads for the office and leadership dashboards, also called by the Excel/PDF compilers.

Definitions (issue 4):
- *expected*: the tasks a unit carries, i.e. its Responsibility rows in the campaign (active units only);
- *reported*: a report in state submitted or approved (a returned one counts again once resubmitted);
- *on time*: reported, and first submitted on or before the period's due date (local date, Asia/Shanghai);
- reporting rate = reported ÷ expected; on-time rate = on time ÷ expected (as DHIS2 counts it).
- Target figures use APPROVED reports only, summed (or the latest value) per ``Metric.aggregation``.

Every selector runs a fixed number of queries whatever the number of units: it fetches narrow rows
(``values_list``) or DB aggregates and assembles in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, reduce
from operator import or_

from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone

from campaign.models import Campaign, ReportingPeriod
from tasks.models import Metric, Responsibility, Section, Target, Task
from units.models import Membership, Unit, display_name

from .models import Compilation, MetricValue, ProgressReport

State = ProgressReport.State
REPORTED = (State.SUBMITTED, State.APPROVED)
ZERO = Decimal("0")

# Units whose reports make up 市上 (the city level) in "city" and "city_district" targets.
CITY_KINDS = (Unit.Kind.DEPARTMENT, Unit.Kind.OTHER)
COUNTY_LEVEL_KINDS = (Unit.Kind.COUNTY, Unit.Kind.PARK)
KIND_ORDER = {kind: i for i, kind in enumerate([Unit.Kind.DEPARTMENT, Unit.Kind.OTHER, *COUNTY_LEVEL_KINDS])}
KIND_LABELS = dict(Unit.Kind.choices)

CELL_STATES = ["none", *State.values]
CELL_LABELS = {"none": "未报", **{s.value: str(s.label) for s in State}}

LIGHT_LABELS = {"green": "正常", "yellow": "预警", "red": "逾期"}
LIGHT_RANK = {"red": 0, "yellow": 1, "green": 2}
DUE_SOON_DAYS = 3  # yellow: due within 3 days and not submitted (DOMAIN.md)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def on_time_cutoff(period: ReportingPeriod) -> dt.datetime:
    """The first instant that is late: midnight (local time) after the due date."""
    return timezone.make_aware(dt.datetime.combine(period.due_on + dt.timedelta(days=1), dt.time.min))


def default_period(campaign: Campaign, today: dt.date | None = None) -> ReportingPeriod | None:
    """The period a dashboard opens on: the latest open one, else the latest that has started."""
    today = _today(today)
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter"))
    open_ = [p for p in periods if p.state == ReportingPeriod.State.OPEN]
    if open_:
        return open_[-1]
    started = [p for p in periods if p.starts_on <= today]
    if started:
        return started[-1]
    return periods[0] if periods else None


# ---------------------------------------------------------------------------------------------------------
# Completeness of one period
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    expected: int = 0
    reported: int = 0
    submitted: int = 0
    approved: int = 0
    returned: int = 0
    draft: int = 0
    on_time: int = 0

    @property
    def missing(self) -> int:
        """Expected reports with no report at all."""
        return self.expected - self.reported - self.returned - self.draft

    @property
    def not_reported(self) -> int:
        return self.expected - self.reported

    @property
    def rate(self) -> float | None:
        return self.reported / self.expected if self.expected else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.expected if self.expected else None

    def count(self, state: str, on_time: bool) -> None:
        if state == State.SUBMITTED:
            self.submitted += 1
        elif state == State.APPROVED:
            self.approved += 1
        elif state == State.RETURNED:
            self.returned += 1
        elif state == State.DRAFT:
            self.draft += 1
        if state in REPORTED:
            self.reported += 1
            if on_time:
                self.on_time += 1

    def add(self, other: Tally) -> None:
        for name in ("expected", "reported", "submitted", "approved", "returned", "draft", "on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {
            "expected": self.expected,
            "reported": self.reported,
            "submitted": self.submitted,
            "approved": self.approved,
            "returned": self.returned,
            "draft": self.draft,
            "missing": self.missing,
            "on_time": self.on_time,
            "rate": _round(self.rate),
            "on_time_rate": _round(self.on_time_rate),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(slots=True)
class Cell:
    """One expected report: its state ("none" when the unit has not started it) and the report's id."""

    state: str = "none"
    report_id: int | None = None
    on_time: bool = False

    @property
    def label(self) -> str:
        return CELL_LABELS[self.state]


@dataclass(kw_only=True)
class UnitRow(Tally):
    unit: Unit
    cells: dict[int, Cell] = field(default_factory=dict)  # task id → cell, only for the unit's tasks


@dataclass
class KindGroup:
    kind: str
    label: str
    rows: list[UnitRow]
    totals: Tally


@dataclass
class Completeness:
    period: ReportingPeriod
    tasks: list[Task]
    units: list[UnitRow]
    groups: list[KindGroup]
    overall: Tally
    kind: str | None = None
    section: Section | None = None

    @property
    def matrix(self) -> dict[int, dict[int, Cell]]:
        """unit id → task id → cell (only the tasks the unit carries)."""
        return {row.unit.pk: row.cells for row in self.units}

    def row_cells(self, row: UnitRow) -> list[tuple[Task, Cell | None]]:
        """The row's cells in task order; None where the unit does not carry the task."""
        return [(task, row.cells.get(task.pk)) for task in self.tasks]


def completeness(
    period: ReportingPeriod, *, kind: str | None = None, section: Section | int | None = None
) -> Completeness:
    """Units × tasks for ``period`` with per-unit, per-kind and overall tallies (4 queries)."""
    section_id = section.pk if isinstance(section, Section) else section
    tasks_qs = Task.objects.filter(campaign_id=period.campaign_id).only("id", "number", "title", "section_id")
    resp_qs = Responsibility.objects.filter(task__campaign_id=period.campaign_id, unit__is_active=True)
    reports_qs = ProgressReport.objects.filter(period=period)
    units_qs = Unit.objects.filter(is_active=True)  # all columns: cheaper to build than deferred ones
    if section_id:
        tasks_qs = tasks_qs.filter(section_id=section_id)
        resp_qs = resp_qs.filter(task__section_id=section_id)
        reports_qs = reports_qs.filter(task__section_id=section_id)
    if kind:
        resp_qs = resp_qs.filter(unit__kind=kind)
        reports_qs = reports_qs.filter(unit__kind=kind)
        units_qs = units_qs.filter(kind=kind)
    tasks = list(tasks_qs.order_by("number"))
    units = {u.pk: u for u in units_qs}

    rows: dict[int, UnitRow] = {}
    for unit_id, task_id in resp_qs.values_list("unit_id", "task_id").order_by():
        row = rows.get(unit_id)
        if row is None:
            row = rows[unit_id] = UnitRow(unit=units[unit_id])
        row.expected += 1
        row.cells[task_id] = Cell()

    cutoff = on_time_cutoff(period)
    for report_id, unit_id, task_id, state, first_submitted in reports_qs.values_list(
        "id", "unit_id", "task_id", "state", "first_submitted_at"
    ).order_by():
        row = rows.get(unit_id)
        cell = row.cells.get(task_id) if row else None
        if cell is None:  # a report on a task the unit no longer carries: not expected, not counted
            continue
        on_time = state in REPORTED and first_submitted is not None and first_submitted < cutoff
        cell.state, cell.report_id, cell.on_time = state, report_id, on_time
        row.count(state, on_time)

    ordered = sorted(rows.values(), key=lambda r: (KIND_ORDER.get(r.unit.kind, 9), r.unit.order, r.unit.pk))
    groups: list[KindGroup] = []
    overall = Tally()
    for row in ordered:
        if not groups or groups[-1].kind != row.unit.kind:
            groups.append(KindGroup(row.unit.kind, KIND_LABELS.get(row.unit.kind, ""), [], Tally()))
        groups[-1].rows.append(row)
        groups[-1].totals.add(row)
        overall.add(row)
    section_obj = section if isinstance(section, Section) else None
    return Completeness(
        period=period,
        tasks=tasks,
        units=ordered,
        groups=groups,
        overall=overall,
        kind=kind,
        section=section_obj,
    )


def unit_period_light(row: Tally, period: ReportingPeriod, today: dt.date | None = None) -> tuple[str, str]:
    """红黄绿灯 for a unit in a period: red when overdue or returned and not resubmitted; yellow when due
    within 3 days and not all submitted; green otherwise."""
    today = _today(today)
    if row.returned:
        return "red", f"退回未重报{row.returned}项"
    if row.not_reported and today > period.due_on:
        return "red", f"逾期未报{row.not_reported}项"
    if row.not_reported and (period.due_on - today).days <= DUE_SOON_DAYS:
        return "yellow", f"即将截止，未报{row.not_reported}项"
    return "green", "正常"


@dataclass
class Liaison:
    name: str
    phone: str


@dataclass
class OverdueRow:
    row: UnitRow
    light: str
    label: str
    liaisons: list[Liaison]

    @property
    def unit(self) -> Unit:
        return self.row.unit


def overdue_units(comp: Completeness, *, today: dt.date | None = None) -> list[OverdueRow]:
    """Units with a red or yellow light in the period, red first, with their liaisons (1 query)."""
    today = _today(today)
    flagged = []
    for row in comp.units:
        light, label = unit_period_light(row, comp.period, today)
        if light != "green":
            flagged.append((row, light, label))
    if not flagged:
        return []
    contacts: dict[int, list[Liaison]] = defaultdict(list)
    memberships = (
        Membership.objects.filter(
            unit_id__in=[row.unit.pk for row, _, _ in flagged],
            role=Membership.Role.LIAISON,
            is_active=True,
        )
        .select_related("user")
        .only("unit_id", "phone", "user__first_name", "user__last_name", "user__username")
        .order_by("unit_id", "id")
    )
    for membership in memberships:
        contacts[membership.unit_id].append(Liaison(display_name(membership.user), membership.phone))
    out = [OverdueRow(row, light, label, contacts.get(row.unit.pk, [])) for row, light, label in flagged]
    out.sort(key=lambda o: (LIGHT_RANK[o.light], -o.row.returned - o.row.not_reported, o.row.unit.order))
    return out


# ---------------------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A stretch of time a target is judged over. Equal by dates alone, so a by-date target that runs
    the whole campaign shares its database column with the campaign's own window."""

    start: dt.date
    end: dt.date
    label: str = field(compare=False)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(slots=True)
class TargetRow:
    target: Target
    scope_label: str
    unit: Unit | None
    reported: Decimal
    promised: Decimal
    light: str  # "green" | "yellow" | "red"
    window_label: str
    window: Window
    expected: Decimal  # what the linear pace asks for by now

    @property
    def ratio(self) -> float:
        return float(self.reported / self.promised) if self.promised else 1.0

    @property
    def light_label(self) -> str:
        if self.light == "green":
            return "已达标" if self.reported >= self.promised else "进度正常"
        if self.light == "yellow":
            return "进度滞后"
        return "逾期未完成"

    @property
    def task(self) -> Task:
        return self.target.task

    @property
    def unit_name(self) -> str:
        return self.unit.name if self.unit else self.scope_label


def _year_window(year: int) -> Window:
    return Window(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年")


def _half_window(year: int, half: int) -> Window:
    if half == 1:
        return Window(dt.date(year, 1, 1), dt.date(year, 6, 30), f"{year}年春季学期（1—6月）")
    return Window(dt.date(year, 7, 1), dt.date(year, 12, 31), f"{year}年秋季学期（7—12月）")


def target_windows(target: Target, campaign: Campaign, today: dt.date) -> list[Window]:
    """The windows a target is judged in. By date: campaign start → target date. Per year / semester: the
    current one and the one before, "current" taken within the campaign's years (the plan's promises
    belong to the plan's years)."""
    if target.period_kind == Target.PeriodKind.BY_DATE:
        end = target.due_on or campaign.ends_on
        return [Window(campaign.starts_on, end, target.period_display)]
    ref = min(max(today, campaign.starts_on), campaign.ends_on)
    if target.period_kind == Target.PeriodKind.PER_YEAR:
        windows = [_year_window(ref.year - 1), _year_window(ref.year)]
    else:
        half = 1 if ref.month <= 6 else 2
        prev = (ref.year, 1) if half == 2 else (ref.year - 1, 2)
        windows = [_half_window(*prev), _half_window(ref.year, half)]
    return [w for w in windows if w.end >= campaign.starts_on]


def target_pace(
    *, promised: Decimal, window: Window, today: dt.date, covered_until: dt.date | None
) -> Decimal:
    """What a linear pace asks for by now: the promise × the share of the window already covered by
    reports that are due (``covered_until``: the end of the last quarter whose due date has passed —
    figures for a quarter cannot exist before its reports are in). The whole promise once the window is over."""
    if today > window.end:
        return promised
    if covered_until is None or covered_until < window.start:
        return ZERO
    elapsed = min((covered_until - window.start).days + 1, window.days)
    return (promised * elapsed / window.days).quantize(Decimal("0.01"))


def light_for(*, reported: Decimal, promised: Decimal, expected: Decimal, past: bool) -> str:
    """Green when met or on pace; red past the window's end and short; yellow behind the pace."""
    if reported >= promised:
        return "green"
    if past:
        return "red"
    return "yellow" if reported < expected else "green"


def target_light(
    *,
    reported: Decimal,
    promised: Decimal,
    window: Window,
    today: dt.date,
    covered_until: dt.date | None,
) -> tuple[str, Decimal]:
    """The light and the value expected by now, for one row."""
    expected = target_pace(promised=promised, window=window, today=today, covered_until=covered_until)
    past = today > window.end
    return light_for(reported=reported, promised=promised, expected=expected, past=past), expected


def _covered_until(periods: list[ReportingPeriod], today: dt.date) -> dt.date | None:
    ends = [p.ends_on for p in periods if p.due_on < today]
    return max(ends) if ends else None


def _period_ids(periods: list[ReportingPeriod], window: Window) -> list[int]:
    return [p.pk for p in periods if p.starts_on <= window.end and p.ends_on >= window.start]


class _Values:
    """Approved metric values per (unit, task, metric): summed per window in the database, or for
    "latest" metrics kept per period so the last quarter's value can be taken."""

    def __init__(self, windows: list[Window], periods: list[ReportingPeriod], *, for_all_units: bool = True):
        self.for_all_units = for_all_units
        self.queried: set[tuple[int, int]] = set()
        self.windows = windows
        self.periods = periods
        self.index = {w: i for i, w in enumerate(windows)}
        self.sums: dict[tuple[int, int, int], tuple] = {}
        self.by_period: dict[tuple[int, int, int], list[tuple[ReportingPeriod, Decimal]]] = defaultdict(list)
        self.units_by_pair: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.kind: dict[int, str] = {}

    @property
    def pairs(self) -> set[tuple[int, int]]:
        return set(self.units_by_pair)

    def load_sums(self, qs, pairs: set[tuple[int, int]]) -> None:
        self.queried |= pairs
        annotations, columns = {}, []
        for i, window in enumerate(self.windows):
            ids = _period_ids(self.periods, window)
            if ids:
                annotations[f"w{i}"] = Sum("value", filter=Q(report__period_id__in=ids))
            columns.append(f"w{i}" if ids else None)
        if not annotations:
            return
        # position of each window's total in a result row (None: no period in that window)
        positions, n = [], 0
        for c in columns:
            positions.append(n if c else None)
            n += 1 if c else 0
        for unit_id, kind, task_id, metric_id, *totals in (
            qs.values_list("report__unit_id", "report__unit__kind", "report__task_id", "metric_id")
            .annotate(**annotations)
            .order_by()
        ):
            if (task_id, metric_id) not in pairs:
                continue
            self.sums[(unit_id, task_id, metric_id)] = tuple(
                ZERO if i is None else (totals[i] or ZERO) for i in positions
            )
            self.units_by_pair[(task_id, metric_id)].add(unit_id)
            self.kind[unit_id] = kind

    def load_latest(self, qs, pairs: set[tuple[int, int]]) -> None:
        self.queried |= pairs
        period_by_id = {p.pk: p for p in self.periods}
        for unit_id, kind, task_id, metric_id, period_id, total in (
            qs.values_list(
                "report__unit_id", "report__unit__kind", "report__task_id", "metric_id", "report__period_id"
            )
            .annotate(total=Sum("value"))
            .order_by()
        ):
            if (task_id, metric_id) not in pairs or period_id not in period_by_id:
                continue
            self.by_period[(unit_id, task_id, metric_id)].append((period_by_id[period_id], total or ZERO))
            self.units_by_pair[(task_id, metric_id)].add(unit_id)
            self.kind[unit_id] = kind

    def value(self, unit_id: int, task_id: int, metric: Metric, window: Window) -> Decimal:
        if metric.aggregation == Metric.Aggregation.LATEST:
            return self._latest(unit_id, task_id, metric.pk, window)
        return self.sum_at(unit_id, task_id, metric.pk, self.index[window])

    def sum_at(self, unit_id: int, task_id: int, metric_id: int, window_index: int) -> Decimal:
        sums = self.sums.get((unit_id, task_id, metric_id))
        return sums[window_index] if sums else ZERO

    def _latest(self, unit_id: int, task_id: int, metric_id: int, window: Window) -> Decimal:
        entries = [
            (p, v)
            for p, v in self.by_period.get((unit_id, task_id, metric_id), ())
            if p.starts_on <= window.end and p.ends_on >= window.start
        ]
        return max(entries, key=lambda e: (e[0].year, e[0].quarter))[1] if entries else ZERO

    def city(self, task_id: int, metric: Metric, window: Window) -> Decimal:
        return sum(
            (
                self.value(unit_id, task_id, metric, window)
                for unit_id in self.units_by_pair.get((task_id, metric.pk), ())
                if self.kind[unit_id] in CITY_KINDS
            ),
            ZERO,
        )


class TargetRows(list):
    """``target_progress``'s rows; also carries the approved sums it read (``values``, with the campaign's
    own window ``campaign_window``) so the 八进 table can reuse them instead of querying again."""

    values: _Values | None = None
    campaign_window: Window | None = None


def campaign_window(campaign: Campaign) -> Window:
    return Window(campaign.starts_on, campaign.ends_on, "创建期内")


def target_progress(
    campaign: Campaign,
    *,
    today: dt.date | None = None,
    unit: Unit | None = None,
    section: Section | int | None = None,
    latest_window_only: bool = False,
) -> TargetRows:
    """Every target of the plan against what approved reports add up to, one row per unit or scope and
    window (5 queries; 6 when a target counts a "latest value" metric). ``unit`` keeps only that unit's
    rows; ``section`` only that section's targets; ``latest_window_only`` drops the previous year or
    semester of per-year / per-semester targets."""
    today = _today(today)
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter"))
    covered = _covered_until(periods, today)

    targets_qs = (
        Target.objects.filter(task__campaign=campaign)
        .select_related("task", "task__section", "metric")
        .prefetch_related(Prefetch("units", queryset=Unit.objects.filter(is_active=True).order_by("order")))
        .order_by("task__number", "order", "id")
    )
    section_id = section.pk if isinstance(section, Section) else section
    if section_id:
        targets_qs = targets_qs.filter(task__section_id=section_id)
    targets = list(targets_qs)
    rows = TargetRows()
    if not targets:
        return rows

    responsible: dict[int, list[Unit]] = defaultdict(list)
    each_responsible_tasks = {t.task_id for t in targets if t.scope == Target.Scope.EACH_RESPONSIBLE}
    if each_responsible_tasks:
        resp_qs = Responsibility.objects.filter(
            task_id__in=each_responsible_tasks, unit__is_active=True
        ).order_by("task_id", "order", "id")
        if unit is not None:
            resp_qs = resp_qs.filter(unit=unit)
        # Narrow rows and one Unit object per unit (not per responsibility): ~3,000 rows at province scale.
        unit_objs: dict[int, Unit] = {}
        for task_id, unit_id, code, name, kind, order in resp_qs.values_list(
            "task_id", "unit_id", "unit__code", "unit__name", "unit__kind", "unit__order"
        ):
            u = unit_objs.get(unit_id)
            if u is None:
                u = unit_objs[unit_id] = Unit(id=unit_id, code=code, name=name, kind=kind, order=order)
            responsible[task_id].append(u)

    windows_of = {t.pk: target_windows(t, campaign, today) for t in targets}
    if latest_window_only:
        windows_of = {pk: ws[-1:] for pk, ws in windows_of.items()}
    whole = campaign_window(campaign)
    windows = list(dict.fromkeys([whole, *(w for ws in windows_of.values() for w in ws)]))
    values = _Values(windows, periods, for_all_units=unit is None)
    latest = Metric.Aggregation.LATEST
    for is_latest in (False, True):
        pairs = {(t.task_id, t.metric_id) for t in targets if (t.metric.aggregation == latest) is is_latest}
        if not pairs:
            continue
        qs = MetricValue.objects.filter(
            reduce(or_, (Q(report__task_id=task_id, metric_id=metric_id) for task_id, metric_id in pairs)),
            report__state=State.APPROVED,
            report__task_id__in={task_id for task_id, _ in pairs},
            metric_id__in={metric_id for _, metric_id in pairs},
        )
        if unit is not None:  # only the unit's own rows are built, so only its values are needed
            qs = qs.filter(report__unit=unit)
        (values.load_latest if is_latest else values.load_sums)(qs, pairs)
    rows.values, rows.campaign_window = values, whole

    for target in targets:
        metric, task_id = target.metric, target.task_id
        for window in windows_of[target.pk]:
            # the pace and "past the date" are the same for every row of a target and window
            expected = target_pace(promised=target.value, window=window, today=today, covered_until=covered)
            add = _row_maker(rows, target, window, expected, past=today > window.end)
            if target.scope == Target.Scope.EACH_UNIT:
                for u in target.units.all():
                    if unit is None or u.pk == unit.pk:
                        add(u, values.value(u.pk, task_id, metric, window))
            elif target.scope == Target.Scope.EACH_RESPONSIBLE:  # the big one: a row per unit
                if metric.aggregation == Metric.Aggregation.LATEST:
                    for u in responsible.get(task_id, ()):
                        add(u, values.value(u.pk, task_id, metric, window))
                else:
                    wi = values.index[window]
                    for u in responsible.get(task_id, ()):
                        add(u, values.sum_at(u.pk, task_id, metric.pk, wi))
            elif unit is None:
                reported = values.city(task_id, metric, window)
                if target.scope == Target.Scope.CITY_DISTRICT:
                    reported += sum(
                        (values.value(u.pk, task_id, metric, window) for u in target.units.all()), ZERO
                    )
                add(None, reported)
    return rows


def _row_maker(rows: list[TargetRow], target: Target, window: Window, expected: Decimal, *, past: bool):
    promised, label = target.value, target.scope_label

    def add(row_unit: Unit | None, reported: Decimal) -> None:
        light = light_for(reported=reported, promised=promised, expected=expected, past=past)
        rows.append(
            TargetRow(target, label, row_unit, reported, promised, light, window.label, window, expected)
        )

    return add


def current_window_rows(rows: list[TargetRow]) -> list[TargetRow]:
    """Only each target's latest window (per-year and per-semester targets also have the previous one)."""
    latest: dict[int, dt.date] = {}
    for row in rows:
        latest[row.target.pk] = max(latest.get(row.target.pk, row.window.end), row.window.end)
    return [row for row in rows if row.window.end == latest[row.target.pk]]


@dataclass
class TargetGroup:
    """One target and its rows, for pages: a summary plus the rows worth showing first."""

    target: Target
    rows: list[TargetRow]

    @cached_property
    def counts(self) -> dict[str, int]:
        out = {"green": 0, "yellow": 0, "red": 0}
        for row in self.rows:
            out[row.light] += 1
        return out

    @cached_property
    def worst(self) -> str:
        return min((r.light for r in self.rows), key=LIGHT_RANK.__getitem__, default="green")

    @cached_property
    def completion(self) -> float:
        """Σ min(reported, promised) ÷ Σ promised over the group's latest window."""
        rows = current_window_rows(self.rows)
        promised = sum((r.promised for r in rows), ZERO)
        done = sum((min(r.reported, r.promised) for r in rows), ZERO)
        return float(done / promised) if promised else 1.0

    @cached_property
    def pace(self) -> float:
        rows = current_window_rows(self.rows)
        promised = sum((r.promised for r in rows), ZERO)
        expected = sum((r.expected for r in rows), ZERO)
        return float(expected / promised) if promised else 0.0

    def sorted_rows(self) -> list[TargetRow]:
        return sorted(self.rows, key=lambda r: (-r.window.end.toordinal(), LIGHT_RANK[r.light]))


def group_target_rows(rows: list[TargetRow]) -> list[TargetGroup]:
    groups: dict[int, TargetGroup] = {}
    for row in rows:
        groups.setdefault(row.target.pk, TargetGroup(row.target, [])).rows.append(row)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------------------
# 八进: demonstration sites per county-level unit and category against the plan
# ---------------------------------------------------------------------------------------------------------

EIGHT_INTO_TASKS = range(22, 30)  # fallback when no section is titled 八进
DEMO_SITES = "demo_sites"


@dataclass
class EightCell:
    reported: Decimal = ZERO
    planned: Decimal | None = None
    note: str = ""  # "市区联合" when the plan's number is shared by the city and the county
    light: str | None = None


@dataclass
class EightRow:
    label: str
    unit: Unit | None
    cells: list[EightCell]

    @property
    def reported(self) -> Decimal:
        return sum((c.reported for c in self.cells), ZERO)

    @property
    def planned(self) -> Decimal:
        return sum((c.planned for c in self.cells if c.planned is not None and not c.note), ZERO)


@dataclass
class EightIntoTable:
    categories: list[Task]
    rows: list[EightRow]  # 市上 first, then every county-level unit
    total: EightRow


def eight_into_table(
    campaign: Campaign, *, today: dt.date | None = None, target_rows: list[TargetRow] | None = None
) -> EightIntoTable:
    """示范点 reported (approved reports in the campaign's quarters) per county-level unit × 八进 category,
    next to the plan's numbers and lights. 2 queries when given ``target_progress``'s rows (whose sums it
    reuses), else those 2 plus ``target_progress``'s."""
    today = _today(today)
    categories = list(
        Task.objects.filter(campaign=campaign, section__title__contains="八进").order_by("number")
    ) or list(Task.objects.filter(campaign=campaign, number__in=EIGHT_INTO_TASKS).order_by("number"))
    task_ids = [t.pk for t in categories]
    if target_rows is None:
        target_rows = target_progress(campaign, today=today)
    demo_rows = [
        r for r in target_rows if r.target.task_id in task_ids and r.target.metric.code == DEMO_SITES
    ]
    values: _Values | None = getattr(target_rows, "values", None)
    whole = campaign_window(campaign)
    target_rows = current_window_rows(demo_rows)

    counties = list(
        Unit.objects.filter(is_active=True, kind__in=COUNTY_LEVEL_KINDS)
        .only("id", "code", "name", "kind", "order")
        .order_by("order", "id")
    )
    sums: dict[tuple[int, int], Decimal] = {}
    city_unit_ids: set[int] = set()
    demo = demo_rows[0].target.metric if demo_rows else None
    if (
        values is not None
        and demo is not None
        and demo.aggregation == Metric.Aggregation.SUM
        and whole in values.index
        and values.for_all_units
        and all((task_id, demo.pk) in values.queried for task_id in task_ids)
    ):
        # target_progress already summed these (all units, the campaign's window): reuse, no query
        for task_id in task_ids:
            for unit_id in values.units_by_pair.get((task_id, demo.pk), ()):
                sums[(unit_id, task_id)] = values.value(unit_id, task_id, demo, whole)
                if values.kind[unit_id] in CITY_KINDS:
                    city_unit_ids.add(unit_id)
    else:
        for unit_id, kind, task_id, total in (
            MetricValue.objects.filter(
                report__task_id__in=task_ids,
                metric__code=DEMO_SITES,
                report__state=State.APPROVED,
                report__period__starts_on__lte=whole.end,
                report__period__ends_on__gte=whole.start,
            )
            .values_list("report__unit_id", "report__unit__kind", "report__task_id")
            .annotate(total=Sum("value"))
            .order_by()
        ):
            sums[(unit_id, task_id)] = total or ZERO
            if kind in CITY_KINDS:
                city_unit_ids.add(unit_id)
    column = {task_id: i for i, task_id in enumerate(task_ids)}

    city = EightRow("市直单位（市上）", None, [EightCell() for _ in categories])
    by_unit = {u.pk: EightRow(u.name, u, [EightCell() for _ in categories]) for u in counties}
    for (unit_id, task_id), total in sums.items():
        if unit_id in by_unit:
            by_unit[unit_id].cells[column[task_id]].reported += total
        elif unit_id in city_unit_ids:
            city.cells[column[task_id]].reported += total
    total_row = EightRow("合计", None, [EightCell() for _ in categories])
    for row in target_rows:
        i = column[row.target.task_id]
        scope = row.target.scope
        if scope == Target.Scope.EACH_UNIT and row.unit and row.unit.pk in by_unit:
            cell = by_unit[row.unit.pk].cells[i]  # the county's own number wins over a joint one
            cell.planned, cell.light, cell.note = row.promised, row.light, ""
            total_row.cells[i].planned = (total_row.cells[i].planned or ZERO) + row.promised
        elif scope in (Target.Scope.CITY, Target.Scope.CITY_DISTRICT):
            note = "市区联合" if scope == Target.Scope.CITY_DISTRICT else ""
            city.cells[i].planned, city.cells[i].light, city.cells[i].note = row.promised, row.light, note
            total_row.cells[i].planned = (total_row.cells[i].planned or ZERO) + row.promised
            if scope == Target.Scope.CITY_DISTRICT:
                for u in row.target.units.all():
                    cell = by_unit[u.pk].cells[i] if u.pk in by_unit else None
                    if cell is not None and (cell.planned is None or cell.note):
                        cell.planned, cell.light, cell.note = row.promised, row.light, note
    rows = [city, *by_unit.values()]
    for i in range(len(categories)):
        total_row.cells[i].reported = sum((r.cells[i].reported for r in rows), ZERO)
    return EightIntoTable(categories=categories, rows=rows, total=total_row)


# ---------------------------------------------------------------------------------------------------------
# Trends quarter by quarter
# ---------------------------------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    period: ReportingPeriod
    tally: Tally
    metrics: dict[str, Decimal]  # metric code → total over approved reports of the quarter

    @property
    def rate(self) -> float | None:
        return self.tally.rate

    @property
    def on_time_rate(self) -> float | None:
        return self.tally.on_time_rate


@dataclass
class Trends:
    points: list[TrendPoint]
    metrics: list[Metric]
    kind: str | None = None

    def series(self, code: str) -> list[Decimal]:
        return [p.metrics.get(code, ZERO) for p in self.points]


def trends(
    campaign: Campaign,
    *,
    kind: str | None = None,
    today: dt.date | None = None,
    with_metrics: bool = True,
) -> Trends:
    """Reporting and on-time rates and the common metrics' totals for every quarter that has started
    (5 queries; 3 without metrics). Expected = today's responsibilities of active units.

    Unlike ``completeness`` (which checks every report against the unit's tasks), reports are counted
    without joining responsibilities: services only create reports on tasks the unit carries, and the
    semi-join would cost a second pass over ~100,000 reports at province scale."""
    today = _today(today)
    periods = list(
        ReportingPeriod.objects.filter(campaign=campaign, starts_on__lte=today).order_by("year", "quarter")
    )
    metrics = list(Metric.objects.filter(is_common=True).order_by("order", "id")) if with_metrics else []
    resp_qs = Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True)
    reports_qs = ProgressReport.objects.filter(period__in=periods, unit__is_active=True)
    values_qs = MetricValue.objects.filter(
        report__period__in=periods, report__state=State.APPROVED, metric__in=metrics
    )
    if kind:
        resp_qs = resp_qs.filter(unit__kind=kind)
        reports_qs = reports_qs.filter(unit__kind=kind)
        values_qs = values_qs.filter(report__unit__kind=kind)
    expected = resp_qs.count()
    if not periods:
        return Trends([], metrics, kind)
    on_time_q = reduce(
        or_, (Q(period_id=p.pk, first_submitted_at__lt=on_time_cutoff(p)) for p in periods)
    ) & Q(state__in=REPORTED)
    counts = {
        row["period_id"]: row
        for row in reports_qs.values("period_id")
        .annotate(
            submitted=Count("id", filter=Q(state=State.SUBMITTED)),
            approved=Count("id", filter=Q(state=State.APPROVED)),
            returned=Count("id", filter=Q(state=State.RETURNED)),
            draft=Count("id", filter=Q(state=State.DRAFT)),
            on_time=Count("id", filter=on_time_q),
        )
        .order_by()
    }
    code_by_id = {m.pk: m.code for m in metrics}
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if metrics:
        for period_id, metric_id, total in (
            values_qs.values_list("report__period_id", "metric_id").annotate(total=Sum("value")).order_by()
        ):
            totals[period_id][code_by_id[metric_id]] = total or ZERO
    points = []
    for p in periods:
        c = counts.get(p.pk, {})
        tally = Tally(
            expected=expected,
            submitted=c.get("submitted", 0),
            approved=c.get("approved", 0),
            returned=c.get("returned", 0),
            draft=c.get("draft", 0),
            on_time=c.get("on_time", 0),
        )
        tally.reported = tally.submitted + tally.approved
        points.append(TrendPoint(p, tally, totals.get(p.pk, {})))
    return Trends(points, metrics, kind)


# ---------------------------------------------------------------------------------------------------------
# One unit across periods; the leadership page's extras
# ---------------------------------------------------------------------------------------------------------


@dataclass
class UnitPeriodRow:
    period: ReportingPeriod
    tally: Tally
    cells: list[Cell | None]  # aligned with UnitRecord.tasks
    light: str
    light_label: str


@dataclass
class ReturnedReport:
    report_id: int
    period: ReportingPeriod
    task: Task
    reason: str
    reviewed_at: dt.datetime | None


@dataclass
class UnitRecord:
    unit: Unit
    tasks: list[Task]
    periods: list[UnitPeriodRow]
    overall: Tally
    returned: list[ReturnedReport]
    targets: list[TargetRow]
    liaisons: list[Liaison]


def unit_record(unit: Unit, campaign: Campaign, *, today: dt.date | None = None) -> UnitRecord:
    """One unit's record: per period tallies and cells, reports now returned, its target rows (≤ 10 queries)."""
    today = _today(today)
    periods = list(
        ReportingPeriod.objects.filter(campaign=campaign, starts_on__lte=today).order_by("-year", "-quarter")
    )
    tasks = list(
        Task.objects.filter(campaign=campaign, responsibilities__unit=unit)
        .only("id", "number", "title", "section_id")
        .order_by("number")
    )
    task_by_id = {t.pk: t for t in tasks}
    period_by_id = {p.pk: p for p in periods}
    cells: dict[int, dict[int, Cell]] = {p.pk: {t.pk: Cell() for t in tasks} for p in periods}
    tallies = {p.pk: Tally(expected=len(tasks)) for p in periods}
    returned: list[ReturnedReport] = []
    for report_id, period_id, task_id, state, first_submitted, reason, reviewed_at in (
        ProgressReport.objects.filter(unit=unit, period__in=periods)
        .values_list(
            "id", "period_id", "task_id", "state", "first_submitted_at", "return_reason", "reviewed_at"
        )
        .order_by()
    ):
        cell = cells[period_id].get(task_id)
        if cell is None:
            continue
        period = period_by_id[period_id]
        on_time = (
            state in REPORTED and first_submitted is not None and first_submitted < on_time_cutoff(period)
        )
        cell.state, cell.report_id, cell.on_time = state, report_id, on_time
        tallies[period_id].count(state, on_time)
        if state == State.RETURNED:
            returned.append(ReturnedReport(report_id, period, task_by_id[task_id], reason, reviewed_at))
    overall = Tally()
    period_rows = []
    for p in periods:
        overall.add(tallies[p.pk])
        light, label = unit_period_light(tallies[p.pk], p, today)
        period_rows.append(
            UnitPeriodRow(p, tallies[p.pk], [cells[p.pk].get(t.pk) for t in tasks], light, label)
        )
    returned.sort(key=lambda r: (-r.period.year, -r.period.quarter, r.task.number))
    liaisons = [
        Liaison(display_name(m.user), m.phone)
        for m in Membership.objects.filter(unit=unit, role=Membership.Role.LIAISON, is_active=True)
        .select_related("user")
        .order_by("id")
    ]
    return UnitRecord(
        unit=unit,
        tasks=tasks,
        periods=period_rows,
        overall=overall,
        returned=returned,
        targets=target_progress(campaign, today=today, unit=unit),
        liaisons=liaisons,
    )


def latest_compilations(limit: int = 5) -> list[Compilation]:
    return list(
        Compilation.objects.filter(state=Compilation.State.DONE)
        .select_related("period", "unit", "task")
        .order_by("-finished_at", "-id")[:limit]
    )
