"""One unit across periods: its tallies, cells, returned reports, targets and liaisons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaign.models import Campaign, ReportingPeriod
from reports import figures
from reports.models import FigureCount, ProgressReport
from tasks.models import Task
from units.models import Membership, Unit, display_name

from .completeness import Cell, Liaison, State, Tally, _today, unit_period_light
from .targets import TargetRow, target_progress


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
    """One unit's record: per period tallies (the read model's counts, as ``completeness``) and cells,
    reports now returned, its target rows (≤ 11 queries)."""
    today = _today(today)
    periods = list(
        ReportingPeriod.objects.filter(campaign=campaign).as_of(today).order_by("-year", "-quarter")
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
    for counts in FigureCount.objects.filter(unit=unit, period__in=periods).values(
        "period_id", *figures.COUNT_FIELDS
    ):
        tallies[counts["period_id"]].set_counts(counts)
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
        on_time = ProgressReport.counts_on_time(state, first_submitted, period)
        cell.state, cell.report_id, cell.on_time = state, report_id, on_time
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
        targets=target_progress(campaign, as_of=today, unit=unit),
        liaisons=liaisons,
    )
