"""Completeness of a period: which unit × task reports exist in which state, the per-unit, per-kind and
overall tallies (expected, reported, on time), each unit's light, and who is overdue."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.db.models import Count
from django.utils import timezone

from campaign.lights import GREEN, LIGHTS, RED, YELLOW
from campaign.models import Campaign, ReportingPeriod
from reports import figures
from reports.models import FigureCount, ProgressReport
from tasks.models import Responsibility, Section, Task
from units.models import Membership, Unit, display_name

State = ProgressReport.State
REPORTED = ProgressReport.REPORTED_STATES
ZERO = Decimal("0")

# Units whose reports make up 市上 (the city level) in "city" and "city_district" targets.
CITY_KINDS = (Unit.Kind.DEPARTMENT, Unit.Kind.OTHER)
COUNTY_LEVEL_KINDS = (Unit.Kind.COUNTY, Unit.Kind.PARK)
KIND_ORDER = {kind: i for i, kind in enumerate([Unit.Kind.DEPARTMENT, Unit.Kind.OTHER, *COUNTY_LEVEL_KINDS])}
KIND_LABELS = dict(Unit.Kind.choices)

CELL_STATES = ["none", *State.values]
CELL_LABELS = {"none": "未报", **{s.value: str(s.label) for s in State}}


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


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

    def set_counts(self, counts) -> None:
        """Take the counts of a read-model row or of ``figures.count_expressions`` (a mapping by name)."""
        for name in ("submitted", "approved", "returned", "draft", "on_time"):
            setattr(self, name, counts[name])
        self.reported = self.submitted + self.approved

    def count(self, state: str, on_time: bool) -> None:
        if state == State.SUBMITTED:
            self.submitted += 1
        elif state == State.APPROVED:
            self.approved += 1
        elif state == State.RETURNED:
            self.returned += 1
        elif state in ProgressReport.UNSENT_STATES:
            self.draft += 1
        if state in REPORTED:
            self.reported += 1
            if on_time:
                self.on_time += 1

    def add(self, other: Tally) -> None:
        # Written out rather than a loop over names: called for every unit twice per page (~2,000 times).
        self.expected += other.expected
        self.reported += other.reported
        self.submitted += other.submitted
        self.approved += other.approved
        self.returned += other.returned
        self.draft += other.draft
        self.on_time += other.on_time

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
    period: ReportingPeriod,
    *,
    kind: str | None = None,
    section: Section | int | None = None,
    unit: Unit | None = None,
    task: Task | None = None,
    with_cells: bool = True,
) -> Completeness:
    """Units × tasks for ``period`` with per-unit, per-kind and overall tallies. The one count of expected /
    reported / on time: pages, API, documents and the overdue bulletin all read it.

    Expected: the unit's responsibilities, counted in SQL. Reported, on time …: the read model's counts for
    the unit and period (``reports.figures``); narrowed to a section or a task (below the read model's
    grain), the same counts (``figures.count_expressions``) of those tasks' reports, in SQL. 4 queries, and
    2 more for the matrix's cells (``with_cells``; a page asks ``fill_cells`` for the rows it shows)."""
    section_id = section.pk if isinstance(section, Section) else section
    tasks_qs = Task.objects.filter(campaign_id=period.campaign_id).only("id", "number", "title", "section_id")
    resp_qs = Responsibility.objects.filter(task__campaign_id=period.campaign_id, unit__is_active=True)
    units_qs = Unit.objects.filter(is_active=True)  # all columns: cheaper to build than deferred ones
    narrowed = bool(section_id) or task is not None  # below the read model's (period, unit) grain
    if narrowed:
        counts_qs = figures.carried(ProgressReport.objects.filter(period=period, unit__is_active=True))
    else:
        counts_qs = FigureCount.objects.filter(period=period, unit__is_active=True)
    if section_id:
        tasks_qs = tasks_qs.filter(section_id=section_id)
        resp_qs = resp_qs.filter(task__section_id=section_id)
        counts_qs = counts_qs.filter(task__section_id=section_id)
    if kind:
        resp_qs = resp_qs.filter(unit__kind=kind)
        counts_qs = counts_qs.filter(unit__kind=kind)
        units_qs = units_qs.filter(kind=kind)
    if unit is not None:
        resp_qs = resp_qs.filter(unit=unit)
        counts_qs = counts_qs.filter(unit=unit)
        units_qs = units_qs.filter(pk=unit.pk)
    if task is not None:
        tasks_qs = tasks_qs.filter(pk=task.pk)
        resp_qs = resp_qs.filter(task=task)
        counts_qs = counts_qs.filter(task=task)
    tasks = list(tasks_qs.order_by("number"))
    units = {u.pk: u for u in units_qs}

    rows: dict[int, UnitRow] = {}
    for unit_id, expected in (
        resp_qs.values("unit_id").annotate(n=Count("id")).values_list("unit_id", "n").order_by()
    ):
        rows[unit_id] = UnitRow(unit=units[unit_id], expected=expected)
    if narrowed:
        counted = counts_qs.values("unit_id").annotate(**figures.count_expressions()).order_by()
    else:
        counted = counts_qs.values("unit_id", *figures.COUNT_FIELDS)
    for counts in counted:
        row = rows.get(counts["unit_id"])
        if row is not None:  # counts of a unit that carries none of the tasks: not expected
            row.set_counts(counts)

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
    comp = Completeness(
        period=period,
        tasks=tasks,
        units=ordered,
        groups=groups,
        overall=overall,
        kind=kind,
        section=section_obj,
    )
    if with_cells:  # every row: the same filters as the tallies rather than a list of every unit's id
        reports_qs = ProgressReport.objects.filter(period=period, task__in=tasks_qs)
        if kind or unit is not None:
            reports_qs = reports_qs.filter(unit__in=units_qs)
        _fill_cells(comp, ordered, resp_qs, reports_qs)
    return comp


def fill_cells(comp: Completeness, rows: list[UnitRow]) -> None:
    """The matrix cells of ``rows`` (the page of them a page shows): one per task the unit carries among
    ``comp.tasks``, with its report's state, id and whether it counts on time (2 queries)."""
    unit_ids = [row.unit.pk for row in rows]
    task_ids = [t.pk for t in comp.tasks]
    _fill_cells(
        comp,
        rows,
        Responsibility.objects.filter(unit_id__in=unit_ids, task_id__in=task_ids),
        ProgressReport.objects.filter(period=comp.period, unit_id__in=unit_ids, task_id__in=task_ids),
    )


def _fill_cells(comp: Completeness, rows: list[UnitRow], resp_qs, reports_qs) -> None:
    by_unit = {row.unit.pk: row for row in rows}
    for row in rows:
        row.cells = {}
    if not rows or not comp.tasks:
        return
    for unit_id, task_id in resp_qs.values_list("unit_id", "task_id").order_by():
        row = by_unit.get(unit_id)
        if row is not None:
            row.cells[task_id] = Cell()
    period = comp.period
    for report_id, unit_id, task_id, state, first_submitted in reports_qs.values_list(
        "id", "unit_id", "task_id", "state", "first_submitted_at"
    ).order_by():
        row = by_unit.get(unit_id)
        cell = row.cells.get(task_id) if row is not None else None
        if cell is None:  # a report on a task the unit no longer carries: not expected, not counted
            continue
        cell.state, cell.report_id = state, report_id
        cell.on_time = ProgressReport.counts_on_time(state, first_submitted, period)


def completeness_over(
    periods: list[ReportingPeriod], *, unit: Unit | None = None, task: Task | None = None
) -> tuple[list[UnitRow], Tally]:
    """Per-unit and overall tallies added up over several periods (a year, a unit's or a task's whole
    record): ``completeness`` of each period, summed (4 queries a period). Units in the first period's order."""
    return add_up_completeness([completeness(period, unit=unit, task=task) for period in periods])


def add_up_completeness(comps: list[Completeness]) -> tuple[list[UnitRow], Tally]:
    """Per-unit and overall tallies of several periods' ``completeness``, added up."""
    rows: dict[int, UnitRow] = {}
    overall = Tally()
    for comp in comps:
        for row in comp.units:
            rows.setdefault(row.unit.pk, UnitRow(unit=row.unit)).add(row)
        overall.add(comp.overall)
    return list(rows.values()), overall


def unit_period_light(row: Tally, period: ReportingPeriod, today: dt.date | None = None) -> tuple[str, str]:
    """红黄绿灯 for a unit in a period: the worst of its reports' lights (``ProgressReport.light_for``),
    with the number of reports behind it; green when none is red or yellow."""
    today = _today(today)
    if row.returned:
        return RED, f"退回未重报{row.returned}项"
    pending = row.not_reported - row.returned
    if pending:
        key = _missing_light(period.pk, period.due_on, period, today)
        if key == RED:
            return RED, f"逾期未报{pending}项"
        if key == YELLOW:
            return YELLOW, f"即将截止，未报{pending}项"
    return GREEN, LIGHTS[GREEN].label


@lru_cache(maxsize=64)
def _missing_light(_period_id: int, _due_on: dt.date, period: ReportingPeriod, today: dt.date) -> str:
    """The light of a report not reported in ``period`` on ``today`` (``ProgressReport.light_for``): the same
    for every unit of a period, so asked once per period and day, not once per unit (~1,000 on a page)."""
    return ProgressReport.light_for(None, period, today)[0]


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
        if light != GREEN:
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
    out.sort(key=lambda o: (LIGHTS[o.light].rank, -o.row.returned - o.row.not_reported, o.row.unit.order))
    return out
