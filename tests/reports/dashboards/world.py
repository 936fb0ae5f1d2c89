"""A small hand-made campaign for the dashboard tests (builders only; no tests in this module).

Numbers are easier to prove on a world that fits in one's head than on the 55-unit plan:

    units        kind        tasks carried
    部门甲        department  1, 2
    部门乙        department  1, 22
    甲县          county      1, 2, 22
    乙县          county      22

Periods: every quarter of 2024 and 2025, due on the 10th day after the quarter ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from campaign.models import Campaign, Phase, ReportingPeriod
from reports import figures
from reports.models import MetricValue, ProgressReport
from sites.models import Site, SiteNaming
from tasks.models import Metric, Responsibility, Section, Target, Task
from tests import factories
from units.models import Unit

State = ProgressReport.State


@dataclass
class World:
    campaign: Campaign
    s1: Section
    s8: Section
    t1: Task
    t2: Task
    t22: Task
    dept_a: Unit
    dept_b: Unit
    county_c: Unit
    county_d: Unit
    demo_sites: Metric
    meetings: Metric
    staff: Metric
    lectures: Metric

    def period(self, year: int, quarter: int) -> ReportingPeriod:
        return ReportingPeriod.objects.get(campaign=self.campaign, year=year, quarter=quarter)


def local(day: dt.date, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, minute, second))


def metric(code: str, name: str, uom: str, aggregation: str = Metric.Aggregation.SUM) -> Metric:
    found, _ = Metric.objects.get_or_create(
        code=code,
        defaults={"name": name, "unit_of_measure": uom, "aggregation": aggregation, "is_common": True},
    )
    return found


def build_world() -> World:
    campaign = Campaign.objects.create(
        title="测试市创建全国民族团结进步示范市",
        city="测试市",
        starts_on=dt.date(2024, 1, 1),
        ends_on=dt.date(2025, 12, 31),
    )
    Phase.objects.create(
        campaign=campaign,
        order=1,
        name="宣传动员阶段",
        starts_on=dt.date(2024, 1, 1),
        ends_on=dt.date(2024, 3, 31),
    )
    Phase.objects.create(
        campaign=campaign,
        order=2,
        name="组织实施阶段",
        starts_on=dt.date(2024, 4, 1),
        ends_on=dt.date(2025, 6, 30),
    )
    Phase.objects.create(
        campaign=campaign,
        order=3,
        name="申报验收阶段",
        starts_on=dt.date(2025, 7, 1),
        ends_on=dt.date(2025, 12, 31),
    )
    s1 = Section.objects.create(
        campaign=campaign, order=1, numeral="一", title="政治引领工程", short_title="“政治引领”工程"
    )
    s8 = Section.objects.create(
        campaign=campaign, order=8, numeral="八", title="大力开展“八进”活动", short_title="“八进”活动"
    )
    t1 = Task.objects.create(
        campaign=campaign, section=s1, number=1, title="坚持主线思维", text="坚持主线思维。"
    )
    t2 = Task.objects.create(
        campaign=campaign, section=s1, number=2, title="开展党建创建", text="开展党建创建。"
    )
    t22 = Task.objects.create(campaign=campaign, section=s8, number=22, title="进乡镇(街道)", text="进乡镇。")
    dept_a = Unit.objects.create(code="dept-a", name="部门甲", kind=Unit.Kind.DEPARTMENT, order=10)
    dept_b = Unit.objects.create(code="dept-b", name="部门乙", kind=Unit.Kind.DEPARTMENT, order=20)
    county_c = Unit.objects.create(code="county-c", name="甲县", kind=Unit.Kind.COUNTY, order=30)
    county_d = Unit.objects.create(code="county-d", name="乙县", kind=Unit.Kind.COUNTY, order=40)
    for task, units in (
        (t1, [dept_a, dept_b, county_c]),
        (t2, [dept_a, county_c]),
        (t22, [dept_b, county_c, county_d]),
    ):
        for order, unit in enumerate(units):
            Responsibility.objects.create(
                task=task, unit=unit, role="lead" if order == 0 else "co", order=order + 1
            )
    for year in (2024, 2025):
        for quarter in (1, 2, 3, 4):
            starts, ends, due = ReportingPeriod.bounds_for(year, quarter)
            ReportingPeriod.objects.create(
                campaign=campaign,
                year=year,
                quarter=quarter,
                starts_on=starts,
                ends_on=ends,
                due_on=due,
                state=ReportingPeriod.State.CLOSED,
            )
    return World(
        campaign=campaign,
        s1=s1,
        s8=s8,
        t1=t1,
        t2=t2,
        t22=t22,
        dept_a=dept_a,
        dept_b=dept_b,
        county_c=county_c,
        county_d=county_d,
        demo_sites=metric("demo_sites", "示范点", "个"),
        meetings=metric("meetings", "研究民族工作会议", "次"),
        staff=metric("staff", "专职人员", "人", Metric.Aggregation.LATEST),
        lectures=metric("lectures", "宣讲/讲座", "场次"),
    )


def report(
    period: ReportingPeriod,
    unit: Unit,
    task: Task,
    state: str = State.SUBMITTED,
    *,
    first_submitted_at: dt.datetime | None = None,
    values: dict[Metric, int | str] | None = None,
) -> ProgressReport:
    """A report in ``state``; reported ones are first submitted at ``first_submitted_at`` (default: the
    morning of the due date, i.e. on time)."""
    when = None
    if state != State.DRAFT:
        when = first_submitted_at or local(period.due_on)
    made = ProgressReport.objects.create(
        period=period, unit=unit, task=task, state=state, first_submitted_at=when, submitted_at=when
    )
    for m, value in (values or {}).items():
        MetricValue.objects.create(report=made, metric=m, value=Decimal(str(value)))
    # Made without the services, so the read model is told here, as the services tell it.
    figures.report_moved(made)
    return made


def make_report(**kwargs) -> ProgressReport:
    """``tests.factories.make_report``, and the read model told of the report, as the services tell it (the
    factory writes rows directly). Harmless once the factory tells it itself: a refresh is idempotent."""
    made = factories.make_report(**kwargs)
    figures.report_moved(made)
    return made


def target(
    task: Task,
    metric_: Metric,
    value: int | str,
    scope: str,
    *,
    units: list[Unit] | None = None,
    period_kind: str = Target.PeriodKind.BY_DATE,
    due_on: dt.date | None = dt.date(2025, 12, 31),
    label: str = "",
    comparison: str = Target.Comparison.AT_LEAST,
) -> Target:
    made = Target.objects.create(
        task=task,
        metric=metric_,
        value=Decimal(str(value)),
        comparison=comparison,
        scope=scope,
        scope_label=label or scope,
        period_kind=period_kind,
        due_on=due_on if period_kind == Target.PeriodKind.BY_DATE else None,
        source_text=label or scope,
    )
    if units:
        made.units.set(units)
    return made


def site(
    owner: Unit,
    task: Task | None,
    *,
    named_on: dt.date | None = dt.date(2024, 6, 30),
    level: str = Site.Level.COUNTY,
    county: Unit | None = None,
    created: dt.date = dt.date(2024, 1, 10),
    name: str = "",
) -> Site:
    """A register site of ``owner`` serving ``task``, created on ``created``; named at ``level`` on
    ``named_on`` by an approved naming (``None``: still 培育)."""
    county = county or (
        owner if owner.is_county_level else Unit.objects.filter(kind=Unit.Kind.COUNTY).first()
    )
    made = Site.objects.create(
        name=name or f"{owner.name}示范点{Site.objects.count() + 1}",
        category=Site.Category.TOWNSHIP,
        owner=owner,
        county=county,
        task=task,
        level=level,
        created_at=local(created),
    )
    if named_on is not None:
        naming = SiteNaming(
            site=made,
            level=level,
            named_on=named_on,
            document_name="命名.pdf",
            state=SiteNaming.State.APPROVED,
        )
        naming.document.save("naming.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
        naming.save()
        made.status, made.named_on = Site.Status.NAMED, named_on
        made.save()
    return made


def more_units(world: World, n: int, *, start: int = 0) -> list[Unit]:
    """``n`` more units, each carrying task 1 and 22 with a report in 2025 Q1 and a named site on task 22
    (for query-count tests)."""
    period = world.period(2025, 1)
    made = []
    for i in range(start, start + n):
        kind = Unit.Kind.COUNTY if i % 2 else Unit.Kind.DEPARTMENT
        unit = Unit.objects.create(code=f"extra-{i}", name=f"追加单位{i}", kind=kind, order=100 + i)
        for task in (world.t1, world.t22):
            Responsibility.objects.create(task=task, unit=unit, role="co", order=50 + i)
        report(period, unit, world.t1, State.APPROVED, values={world.meetings: 1})
        report(period, unit, world.t22, State.APPROVED, values={world.lectures: 1})
        site(unit, world.t22, county=world.county_c)
        made.append(unit)
    return made
