"""Each target of the plan against what approved reports add up to — or, for the 示范点 metrics, what the
site register counts — with its light."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Prefetch, Q, Sum

from campaign.lights import GREEN, LIGHTS, RED, YELLOW, worst
from campaign.models import Campaign, ReportingPeriod
from reports.models import FigureTotal
from sites.models import Site
from sites.selectors import site_counts
from tasks.models import Metric, Responsibility, Section, Target, Task
from units.models import Unit

from .completeness import CITY_KINDS, COUNTY_LEVEL_KINDS, ZERO, _today

# The metrics whose actual value is a count of distinct named sites in the register, never a sum of report
# numbers (one site reported by a county and by the lead department would count twice; per-quarter figures
# would add up to hundreds a year). The value: the levels a site counts at (None: any level).
# The plan's "到2025年底打造7个省级、20个市级互嵌式示范点" names two tiers of one list of 27 places, so the
# tiers do not overlap: a site counts at the level of its latest approved naming — 省级 (a 国家级 naming is
# above the plan's top tier and counts there, or it would count nowhere), else 市级. A site promoted from
# 市级 to 省级 moves from the 20 to the 7.
SITE_METRIC_LEVELS: dict[str, tuple[str, ...] | None] = {
    "demo_sites": None,
    "sites_provincial": (Site.Level.PROVINCE, Site.Level.NATION),
    "sites_city": (Site.Level.CITY,),
}
assert set(SITE_METRIC_LEVELS) == Metric.REGISTER_CODES, "every register metric has its levels here"
# Counted per the target's task (the 八进 arena: "进学校" … "各县(市、区)示范点不少于5个" on that task). The tiers
# count every named site of the city: the register does not mark a site "互嵌式" apart from the 八进 arenas.
SITE_PER_TASK = frozenset({"demo_sites"})


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
    """Approved metric values per (unit, task, metric), from the read model (``reports.figures``): summed per
    window in the database, or for "latest" metrics kept per period so the last quarter's value can be
    taken (``Metric.add_up``)."""

    def __init__(self, windows: list[Window], periods: list[ReportingPeriod], *, for_all_units: bool = True):
        self.for_all_units = for_all_units
        self.queried: set[tuple[int, int]] = set()
        self.windows = windows
        self.periods = periods
        self.index = {w: i for i, w in enumerate(windows)}
        self.sums: dict[tuple[int, int, int], list[Decimal]] = {}
        self.by_period: dict[tuple[int, int, int], list[tuple[ReportingPeriod, Decimal]]] = defaultdict(list)
        self.units_by_pair: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.kinds: dict[int, str] | None = None  # unit id → kind, read when a city total is asked for

    @property
    def pairs(self) -> set[tuple[int, int]]:
        return set(self.units_by_pair)

    def load_sums(self, qs, pairs: set[tuple[int, int]]) -> None:
        self.queried |= pairs
        annotations, columns = {}, []
        for i, window in enumerate(self.windows):
            ids = _period_ids(self.periods, window)
            if ids:
                annotations[f"w{i}"] = Sum("value", filter=Q(period_id__in=ids))
            columns.append(f"w{i}" if ids else None)
        if not annotations:
            return
        # position of each window's total in a result row (None: no period in that window)
        positions, n = [], 0
        for c in columns:
            positions.append(n if c else None)
            n += 1 if c else 0
        dense = None not in positions  # every window has a column: the row is the sums as they come
        # No join to the units for their kind (it tripled the query's time): ``city`` asks ``kinds``.
        for unit_id, task_id, metric_id, *totals in (
            qs.values_list("unit_id", "task_id", "metric_id").annotate(**annotations).order_by()
        ):
            if (task_id, metric_id) not in pairs:
                continue
            self.sums[(unit_id, task_id, metric_id)] = (
                [total or ZERO for total in totals]
                if dense
                else [ZERO if i is None else (totals[i] or ZERO) for i in positions]
            )
            self.units_by_pair[(task_id, metric_id)].add(unit_id)

    def load_latest(self, qs, pairs: set[tuple[int, int]]) -> None:
        self.queried |= pairs
        period_by_id = {p.pk: p for p in self.periods}
        for unit_id, task_id, metric_id, period_id, total in (
            qs.values_list("unit_id", "task_id", "metric_id", "period_id")
            .annotate(total=Sum("value"))
            .order_by()
        ):
            if (task_id, metric_id) not in pairs or period_id not in period_by_id:
                continue
            self.by_period[(unit_id, task_id, metric_id)].append((period_by_id[period_id], total or ZERO))
            self.units_by_pair[(task_id, metric_id)].add(unit_id)

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
        if self.kinds is None:
            self.kinds = dict(Unit.objects.values_list("pk", "kind"))
        return sum(
            (
                self.value(unit_id, task_id, metric, window)
                for unit_id in self.units_by_pair.get((task_id, metric.pk), ())
                if self.kinds[unit_id] in CITY_KINDS
            ),
            ZERO,
        )


class SiteTally:
    """Distinct named (命名) sites in the register as of one day, from ``sites.selectors.site_counts`` (the one
    rule for "which sites, in which status and level, on a day"), in one query: per owner unit, the owner's
    kind, task and level. Whose sites a scope counts:

    * a unit (列明单位各自 / 各责任单位各自): the sites that unit owns (created and keeps), wherever they are;
    * 市上: the sites of every unit that is not a county-level one (departments and the like) — the 八进
      table's 市上 row; 市区联合: those plus the listed counties' own;
    * 全市 (a 市上-scope target whose scope reads "全市…", as the plan's 7 省级 / 20 市级): every site."""

    def __init__(self, as_of: dt.date):
        self.as_of = as_of
        self.rows: list[tuple[int, str, int | None, str, int]] = [
            (unit_id, kind, task_id, level, n)
            for (unit_id, kind, task_id, level), n in site_counts(
                as_of, by=("unit", "unit_kind", "task", "level"), status=Site.Status.NAMED
            ).items()
        ]

    def count(
        self,
        code: str,
        task_id: int | None,
        *,
        owners: frozenset[int] = frozenset(),
        city: bool = False,
        everyone: bool = False,
        any_task: bool = False,
    ) -> Decimal:
        """Sites counted for ``code`` on ``task_id`` (``any_task``: on every task, as a whole-plan total)."""
        levels = SITE_METRIC_LEVELS[code]
        total = 0
        for unit_id, kind, site_task_id, level, n in self.rows:
            if levels is not None and level not in levels:
                continue
            if code in SITE_PER_TASK and not any_task and site_task_id != task_id:
                continue
            if everyone or unit_id in owners or (city and kind not in COUNTY_LEVEL_KINDS):
                total += n
        return Decimal(total)

    def per_task(self, code: str) -> dict[int | None, Decimal]:
        """task → sites counted for ``code`` (every owner)."""
        levels = SITE_METRIC_LEVELS[code]
        out: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
        for _unit_id, _kind, task_id, level, n in self.rows:
            if levels is None or level in levels:
                out[task_id] += n
        return dict(out)

    def per_owner_and_task(self, code: str = "demo_sites") -> dict[tuple[int, str, int | None], Decimal]:
        """(owner, owner's kind, task) → sites, for the 八进 table."""
        levels = SITE_METRIC_LEVELS[code]
        out: dict[tuple[int, str, int | None], Decimal] = defaultdict(lambda: ZERO)
        for unit_id, kind, task_id, level, n in self.rows:
            if levels is None or level in levels:
                out[(unit_id, kind, task_id)] += n
        return dict(out)


def is_site_metric(metric: Metric) -> bool:
    return metric.is_counted_from_register


def _city_wide(target: Target) -> bool:
    return (target.scope_label or "").startswith("全市")


class TargetRows(list):
    """``target_progress``'s rows; also carries the register's tally as of the rows' day (``sites``) so the
    八进 table counts from the very same numbers without querying again."""

    sites: SiteTally | None = None


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
    window (5 queries; one more each when a target counts a "latest value" metric, when a 市上 or 市区联合
    target counts reports, when a target counts 示范点). The approved values come from the read model.
    The 示范点 metrics (``SITE_METRIC_LEVELS``) take their actual value from the register, not from reports:
    distinct named sites as of ``as_of`` (for a per-year or per-semester window already over, as of its
    end), by the target's scope as ``SiteTally`` reads it — so the 八进 table, which counts the same tally,
    and the lights next to its cells agree, on the pages, the API and every document. ``unit`` keeps only that unit's
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
        # Built from every column in the model's order (positional: half the cost of keywords, ~1,000 units).
        columns = [f.attname for f in Unit._meta.concrete_fields]
        unit_objs: dict[int, Unit] = {}
        for task_id, *unit_row in resp_qs.values_list("task_id", *(f"unit__{c}" for c in columns)):
            u = unit_objs.get(unit_row[0])
            if u is None:
                u = unit_objs[unit_row[0]] = Unit(*unit_row)
            responsible[task_id].append(u)

    windows_of = {t.pk: target_windows(t, campaign, as_of) for t in targets}
    if latest_window_only:
        windows_of = {pk: ws[-1:] for pk, ws in windows_of.items()}
    whole = campaign_window(campaign)
    windows = list(dict.fromkeys([whole, *(w for ws in windows_of.values() for w in ws)]))
    values = _Values(windows, periods, for_all_units=unit is None)
    latest = Metric.Aggregation.LATEST
    from_reports = [t for t in targets if not is_site_metric(t.metric)]
    for is_latest in (False, True):
        pairs = {
            (t.task_id, t.metric_id) for t in from_reports if (t.metric.aggregation == latest) is is_latest
        }
        if not pairs:
            continue
        # The read model's approved values (``reports.figures``) of the targets' tasks and metrics; the few
        # (task, metric) combinations that are not a target's pair are dropped while loading.
        qs = FigureTotal.objects.filter(
            task_id__in={task_id for task_id, _ in pairs}, metric_id__in={metric_id for _, metric_id in pairs}
        )
        if unit is not None:  # only the unit's own rows are built, so only its values are needed
            qs = qs.filter(unit=unit)
        (values.load_latest if is_latest else values.load_sums)(qs, pairs)

    tallies: dict[dt.date, SiteTally] = {}

    def tally(day: dt.date) -> SiteTally:
        if day not in tallies:
            tallies[day] = SiteTally(day)
        return tallies[day]

    if len(from_reports) < len(targets):
        rows.sites = tally(as_of)

    for target in targets:
        metric, task_id = target.metric, target.task_id
        for window in windows_of[target.pk]:
            # the pace and "past the date" are the same for every row of a target and window
            expected = target_pace(promised=target.value, window=window, as_of=as_of, covered_until=covered)
            add = _row_maker(rows, target, window, expected, past=as_of > window.end)
            if is_site_metric(metric):
                by_date = target.period_kind == Target.PeriodKind.BY_DATE
                day = as_of if by_date else min(as_of, window.end)
                _add_site_rows(target, add, tally(day), unit, responsible.get(task_id, ()))
            elif target.scope == Target.Scope.EACH_UNIT:
                for u in target.units.all():
                    if unit is None or u.pk == unit.pk:
                        add(u, values.value(u.pk, task_id, metric, window))
            elif target.scope == Target.Scope.EACH_RESPONSIBLE:  # the big one: a row per unit
                if metric.aggregation == Metric.Aggregation.LATEST:
                    for u in responsible.get(task_id, ()):
                        add(u, values.value(u.pk, task_id, metric, window))
                else:  # ~2,700 rows at province scale: the sums looked up directly
                    wi, sums, metric_id = values.index[window], values.sums, metric.id
                    for u in responsible.get(task_id, ()):
                        found = sums.get((u.id, task_id, metric_id))
                        add(u, found[wi] if found else ZERO)
            elif unit is None:
                reported = values.city(task_id, metric, window)
                if target.scope == Target.Scope.CITY_DISTRICT:
                    reported += sum(
                        (values.value(u.pk, task_id, metric, window) for u in target.units.all()), ZERO
                    )
                add(None, reported)
    return rows


def _add_site_rows(target: Target, add, sites: SiteTally, unit: Unit | None, responsible) -> None:
    """A 示范点 target's rows from the register, one per unit or one for its scope (as for reports).
    ``responsible``: the task's responsible units (already narrowed to ``unit``)."""
    code, task_id = target.metric.code, target.task_id
    if target.scope in (Target.Scope.EACH_UNIT, Target.Scope.EACH_RESPONSIBLE):
        units = target.units.all() if target.scope == Target.Scope.EACH_UNIT else responsible
        for u in units:
            if unit is None or u.pk == unit.pk:
                add(u, sites.count(code, task_id, owners=frozenset({u.pk})))
    elif unit is None:
        if target.scope == Target.Scope.CITY and _city_wide(target):
            add(None, sites.count(code, task_id, everyone=True))
        else:
            joint = target.scope == Target.Scope.CITY_DISTRICT
            listed = frozenset(u.pk for u in target.units.all()) if joint else frozenset()
            add(None, sites.count(code, task_id, owners=listed, city=True))


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
        key, end = row.target.id, row.window.end  # .id, not .pk: ~3,000 rows at province scale
        known = latest.get(key)
        if known is None or end > known:
            latest[key] = end
    return [row for row in rows if row.window.end == latest[row.target.id]]


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
        return worst(key for key, n in self.counts.items() if n)

    @cached_property
    def current_rows(self) -> list[TargetRow]:
        """The rows of the target's latest window (``current_window_rows`` for one target)."""
        end = max(r.window.end for r in self.rows)
        return [r for r in self.rows if r.window.end == end]

    @cached_property
    def completion(self) -> float:
        """Σ min(reported, promised) ÷ Σ promised over the group's latest window."""
        rows = self.current_rows
        promised = sum((r.promised for r in rows), ZERO)
        done = sum((min(r.reported, r.promised) for r in rows), ZERO)
        return float(done / promised) if promised else 1.0

    @cached_property
    def pace(self) -> float:
        rows = self.current_rows
        promised = sum((r.promised for r in rows), ZERO)
        expected = sum((r.expected for r in rows), ZERO)
        return float(expected / promised) if promised else 0.0

    def sorted_rows(self) -> list[TargetRow]:
        return sorted(self.rows, key=lambda r: (-r.window.end.toordinal(), LIGHTS[r.light].rank))


def group_target_rows(rows: list[TargetRow]) -> list[TargetGroup]:
    groups: dict[int, TargetGroup] = {}
    for row in rows:
        group = groups.get(row.target.id)
        if group is None:
            group = groups[row.target.id] = TargetGroup(row.target, [])
        group.rows.append(row)
    return list(groups.values())
