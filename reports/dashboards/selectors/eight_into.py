"""八进: demonstration sites per county-level unit and category against the plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from campaign.models import Campaign
from reports.models import MetricValue
from tasks.models import Metric, Target, Task
from units.models import Unit

from .completeness import CITY_KINDS, COUNTY_LEVEL_KINDS, ZERO, State, _today
from .targets import TargetRow, _Values, campaign_window, current_window_rows, target_progress

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
    """示范点 reported (approved reports in the campaign's quarters) per county-level unit × 八进 category,
    next to the plan's numbers and lights. 2 queries when given ``target_progress``'s rows (whose sums it
    reuses), else those 2 plus ``target_progress``'s."""
    as_of = _today(as_of)
    categories = list(
        Task.objects.filter(campaign=campaign, section__title__contains="八进").order_by("number")
    ) or list(Task.objects.filter(campaign=campaign, number__in=EIGHT_INTO_TASKS).order_by("number"))
    task_ids = [t.pk for t in categories]
    if target_rows is None:
        target_rows = target_progress(campaign, as_of=as_of)
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
                report__period__starts_on__lte=min(whole.end, as_of),
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
