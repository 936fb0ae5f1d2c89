"""Each target of the plan against what approved reports add up to, with its light."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, reduce
from operator import or_

from django.db.models import Prefetch, Q, Sum

from campaign.lights import GREEN, LIGHTS, RED, YELLOW, worst
from campaign.models import Campaign, ReportingPeriod
from reports.models import MetricValue
from tasks.models import Metric, Responsibility, Section, Target, Task
from units.models import Unit

from .completeness import CITY_KINDS, ZERO, State, _today


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
    light: str  # GREEN | YELLOW | RED (campaign.lights)
    window_label: str
    window: Window
    expected: Decimal  # what the linear pace asks for by now

    @property
    def ratio(self) -> float:
        return float(self.reported / self.promised) if self.promised else 1.0

    @property
    def light_label(self) -> str:
        if self.light == GREEN:
            return "已达标" if self.reported >= self.promised else "进度正常"
        if self.light == YELLOW:
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


def target_windows(target: Target, campaign: Campaign, as_of: dt.date) -> list[Window]:
    """The windows a target is judged in. By date: campaign start → target date. Per year / semester: the
    current one and the one before, "current" taken within the campaign's years (the plan's promises
    belong to the plan's years)."""
    if target.period_kind == Target.PeriodKind.BY_DATE:
        end = target.due_on or campaign.ends_on
        return [Window(campaign.starts_on, end, target.period_display)]
    ref = min(max(as_of, campaign.starts_on), campaign.ends_on)
    if target.period_kind == Target.PeriodKind.PER_YEAR:
        windows = [_year_window(ref.year - 1), _year_window(ref.year)]
    else:
        half = 1 if ref.month <= 6 else 2
        prev = (ref.year, 1) if half == 2 else (ref.year - 1, 2)
        windows = [_half_window(*prev), _half_window(ref.year, half)]
    return [w for w in windows if w.end >= campaign.starts_on]


def target_pace(
    *, promised: Decimal, window: Window, as_of: dt.date, covered_until: dt.date | None
) -> Decimal:
    """What a linear pace asks for by now: the promise × the share of the window already covered by
    reports that are due (``covered_until``: the end of the last quarter whose due date has passed —
    figures for a quarter cannot exist before its reports are in). The whole promise once the window is over."""
    if as_of > window.end:
        return promised
    if covered_until is None or covered_until < window.start:
        return ZERO
    elapsed = min((covered_until - window.start).days + 1, window.days)
    return (promised * elapsed / window.days).quantize(Decimal("0.01"))


def light_for(*, reported: Decimal, promised: Decimal, expected: Decimal, past: bool) -> str:
    """A target row's light: green when met or on pace (``reported`` ≥ ``expected``, the linear pace of
    ``target_pace``); red when its window is over and it is short; yellow while it is behind the pace."""
    if reported >= promised:
        return GREEN
    if past:
        return RED
    return YELLOW if reported < expected else GREEN


def target_light(
    *,
    reported: Decimal,
    promised: Decimal,
    window: Window,
    as_of: dt.date,
    covered_until: dt.date | None,
) -> tuple[str, Decimal]:
    """The light and the value expected by now, for one row."""
    expected = target_pace(promised=promised, window=window, as_of=as_of, covered_until=covered_until)
    past = as_of > window.end
    return light_for(reported=reported, promised=promised, expected=expected, past=past), expected


def _covered_until(periods: list[ReportingPeriod], as_of: dt.date) -> dt.date | None:
    ends = [p.ends_on for p in periods if p.is_past_due(as_of)]
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
            return self._latest(unit_id, task_id, metric, window)
        return self.sum_at(unit_id, task_id, metric.pk, self.index[window])

    def sum_at(self, unit_id: int, task_id: int, metric_id: int, window_index: int) -> Decimal:
        sums = self.sums.get((unit_id, task_id, metric_id))
        return sums[window_index] if sums else ZERO

    def _latest(self, unit_id: int, task_id: int, metric: Metric, window: Window) -> Decimal:
        return metric.add_up(
            ((p.year, p.quarter), v)
            for p, v in self.by_period.get((unit_id, task_id, metric.pk), ())
            if p.starts_on <= window.end and p.ends_on >= window.start
        )

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
    as_of: dt.date | None = None,
    unit: Unit | None = None,
    section: Section | int | None = None,
    latest_window_only: bool = True,
) -> TargetRows:
    """Every target of the plan against what approved reports add up to, one row per unit or scope and
    window (5 queries; 6 when a target counts a "latest value" metric). ``unit`` keeps only that unit's
    rows; ``section`` only that section's targets. Per-year and per-semester targets are judged in their
    current window (the year or semester of ``as_of``); ``latest_window_only=False`` adds the one before,
    for a target's history. Every count of targets (on track, behind, overdue) is over the current window,
    so the pages, API and documents give the same numbers."""
    as_of = _today(as_of)
    # Only what was reported for quarters begun by ``as_of``: a page or document about a past quarter
    # shows nothing from a later one.
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).as_of(as_of).order_by("year", "quarter"))
    covered = _covered_until(periods, as_of)

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

    windows_of = {t.pk: target_windows(t, campaign, as_of) for t in targets}
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
            expected = target_pace(promised=target.value, window=window, as_of=as_of, covered_until=covered)
            add = _row_maker(rows, target, window, expected, past=as_of > window.end)
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
        out = {GREEN: 0, YELLOW: 0, RED: 0}
        for row in self.rows:
            out[row.light] += 1
        return out

    @cached_property
    def worst(self) -> str:
        return worst(r.light for r in self.rows)

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
        return sorted(self.rows, key=lambda r: (-r.window.end.toordinal(), LIGHTS[r.light].rank))


def group_target_rows(rows: list[TargetRow]) -> list[TargetGroup]:
    groups: dict[int, TargetGroup] = {}
    for row in rows:
        groups.setdefault(row.target.pk, TargetGroup(row.target, [])).rows.append(row)
    return list(groups.values())
