"""八进: demonstration sites from the register per county-level unit and category against the plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from campaign.models import Campaign
from tasks.models import Target, Task
from units.models import Unit

from .completeness import COUNTY_LEVEL_KINDS, ZERO, _today
from .targets import SiteTally, TargetRow, current_window_rows, target_progress

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
    campaign: Campaign, *, as_of: dt.date | None = None, target_rows: list[TargetRow] | None = None
) -> EightIntoTable:
    """示范点 named as of ``as_of`` in the register (``targets.SiteTally``: each site once) per county-level
    unit × 八进 task, next to the plan's numbers and lights. 2 queries when given ``target_progress``'s rows
    for the same day (their tally is reused, so each cell and the light next to it read one count), else
    those plus ``target_progress``'s."""
    as_of = _today(as_of)
    categories = list(
        Task.objects.filter(campaign=campaign, section__title__contains="八进").order_by("number")
    ) or list(Task.objects.filter(campaign=campaign, number__in=EIGHT_INTO_TASKS).order_by("number"))
    task_ids = [t.pk for t in categories]
    if target_rows is None:
        target_rows = target_progress(campaign, as_of=as_of)
    sites: SiteTally | None = getattr(target_rows, "sites", None)
    demo_rows = [
        r for r in target_rows if r.target.task_id in task_ids and r.target.metric.code == DEMO_SITES
    ]
    target_rows = current_window_rows(demo_rows)

    counties = list(
        Unit.objects.filter(is_active=True, kind__in=COUNTY_LEVEL_KINDS)
        .only("id", "code", "name", "kind", "order")
        .order_by("order", "id")
    )
    # Distinct named sites from the register, per owner unit and task, as the site targets count them: a site
    # counts once whoever reports on it; a county's own sites in its row, other units' in 市上.
    if sites is None or sites.as_of != as_of:
        sites = SiteTally(as_of)
    column = {task_id: i for i, task_id in enumerate(task_ids)}

    city = EightRow("市直单位（市上）", None, [EightCell() for _ in categories])
    by_unit = {u.pk: EightRow(u.name, u, [EightCell() for _ in categories]) for u in counties}
    for (unit_id, kind, task_id), total in sites.per_owner_and_task(DEMO_SITES).items():
        if task_id not in column:
            continue
        if unit_id in by_unit:
            by_unit[unit_id].cells[column[task_id]].reported += total
        elif kind not in COUNTY_LEVEL_KINDS:
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
