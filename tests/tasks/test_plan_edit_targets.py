"""Adding, changing and deleting a task's targets and the plan's phases in the portal (tasks.services): each
change is written with exactly one history row per changed field (who, before → after); wrong input is
refused with a message that says what to do, and nothing is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from campaign.errors import DomainError, PermissionDenied
from campaign.models import Phase
from tasks import services
from tasks.models import Metric, PlanChange, Target
from tests.factories import task
from tests.tasks.test_plan_edit import rows, unit

PROVINCIAL = "省级互嵌式示范点"


def provincial() -> Target:
    return Target.objects.get(task=task(14), metric__name=PROVINCIAL)


# ------------------------------------------------------------------------------------------- add target


def test_adding_a_target_on_an_existing_metric_writes_it_and_one_history_row(office_user):
    lectures = Metric.objects.get(code="lectures")

    target = services.target_create(
        task=task(5),
        by=office_user,
        metric=lectures,
        value=Decimal("50"),
        comparison="gte",
        scope="city",
        period_kind="per_year",
    )

    target.refresh_from_db()
    assert (target.task, target.metric, target.value, target.comparison) == (task(5), lectures, 50, "gte")
    assert (target.scope, target.scope_label, target.period_kind, target.due_on) == (
        "city",
        "市上",
        "per_year",
        None,
    )
    assert target.source_text == "在系统中添加"
    assert rows() == [
        (
            "target",
            "任务5·市上宣讲/讲座",
            "新增量化目标",
            "",
            "市上：宣讲/讲座不少于50场次，每年",
            "office_t",
            5,
        )
    ]


def test_adding_a_target_on_a_new_metric_creates_the_metric_and_records_both(office_user):
    before = Metric.objects.count()

    target = services.target_create(
        task=task(14),
        by=office_user,
        new_metric=services.NewMetric(name="民族团结示范家庭", unit_of_measure="户", aggregation="latest"),
        value=Decimal("30"),
        comparison="gte",
        scope="each_unit",
        units=[unit("kongtong"), unit("huating")],
        period_kind="by_date",
        due_on=dt.date(2025, 12, 31),
        source_text="崆峒区、华亭市各培育示范家庭30户以上",
    )

    assert Metric.objects.count() == before + 1
    metric = target.metric
    assert (metric.code, metric.name, metric.unit_of_measure, metric.aggregation) == (
        "custom-1",
        "民族团结示范家庭",
        "户",
        "latest",
    )
    assert [u.code for u in target.units.order_by("order")] == ["kongtong", "huating"]
    assert target.scope_label == "崆峒区、华亭市"
    assert rows() == [
        (
            "target",
            "任务14·崆峒区、华亭市民族团结示范家庭",
            "新建指标",
            "",
            "民族团结示范家庭（户，存量：截至本季度累计，取最新值）",
            "office_t",
            14,
        ),
        (
            "target",
            "任务14·崆峒区、华亭市民族团结示范家庭",
            "新增量化目标",
            "",
            "崆峒区、华亭市：民族团结示范家庭不少于30户，到2025年底",
            "office_t",
            14,
        ),
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"metric": None}, "请选择一个已有指标，或填写新指标的名称和计量单位（二者选一）。"),
        ({"value": Decimal("-1")}, "目标值须为不小于 0 的数字。"),
        ({"scope": "each_unit"}, "范围为“列明单位各自”时请选择范围内的单位（至少一个）。"),
        ({"scope": "city_district"}, "范围为“市区联合”时请选择范围内的单位（至少一个）。"),
        (
            {"units": ["kongtong"]},
            "范围为“市上”时不选择范围内单位；如需列明的单位各自达标，请把范围选为“列明单位各自”。",
        ),
        ({"period_kind": "by_date"}, "这是“截至日期”类目标，请填写截至日期。"),
        ({"scope_label": "长" * 61}, "范围说明有 61 个字，最多 60 个字。"),
        ({"period_kind": "monthly"}, "请选择时限：截至日期、每年或每学期。"),
    ],
)
def test_a_target_that_breaks_a_rule_is_refused_and_nothing_is_written(office_user, given, message):
    count = Target.objects.count()
    fields = {
        "metric": Metric.objects.get(code="lectures"),
        "value": Decimal("5"),
        "comparison": "gte",
        "scope": "city",
        "units": [],
        "period_kind": "per_year",
        "due_on": None,
        **given,
    }
    fields["units"] = [unit(code) for code in fields["units"]]

    with pytest.raises(DomainError) as error:
        services.target_create(task=task(5), by=office_user, **fields)

    assert error.value.message == message
    assert Target.objects.count() == count
    assert rows() == []


def test_a_new_metric_needs_a_name_and_unit_and_is_not_a_duplicate(office_user):
    common = {"value": Decimal(1), "comparison": "gte", "scope": "city", "period_kind": "per_year"}
    for spec, message in [
        (services.NewMetric(name="", unit_of_measure="个"), "请填写新指标的名称，如“宣讲场次”。"),
        (services.NewMetric(name="示范户", unit_of_measure=""), "请填写新指标的计量单位，如“场”“个”“人次”。"),
        (
            services.NewMetric(name="示范点", unit_of_measure="个"),
            "指标“示范点（个）”已经存在，请在“已有指标”中选择它，不要重复新建。",
        ),
    ]:
        with pytest.raises(DomainError) as error:
            services.target_create(task=task(5), by=office_user, new_metric=spec, **common)
        assert error.value.message == message
    assert not Metric.objects.filter(code__startswith="custom-").exists()
    assert rows() == []


# ---------------------------------------------------------------------------------------- change target


def test_changing_a_targets_metric_and_scope_records_each_field(office_user):
    target = provincial()

    services.target_update(
        target=target,
        by=office_user,
        value=Decimal("7"),
        comparison="gte",
        due_on=dt.date(2025, 12, 31),
        metric=Metric.objects.get(code="demo_sites"),
        scope="each_unit",
        scope_label="",
        units=[unit("kongtong"), unit("huating")],
        period_kind="by_date",
    )

    target.refresh_from_db()
    assert (target.metric.code, target.scope, target.scope_label) == (
        "demo_sites",
        "each_unit",
        "崆峒区、华亭市",
    )
    assert [u.code for u in target.units.order_by("order")] == ["kongtong", "huating"]
    label = "任务14·全市省级互嵌式示范点"
    assert rows() == [
        (
            "target",
            label,
            "指标",
            "省级互嵌式示范点（个，流量：本季度新增，逐季累加）",
            "示范点（个，流量：本季度新增，逐季累加）",
            "office_t",
            14,
        ),
        ("target", label, "范围", "市上", "列明单位各自", "office_t", 14),
        ("target", label, "范围说明", "全市", "崆峒区、华亭市", "office_t", 14),
        ("target", label, "范围内单位", "", "崆峒区、华亭市", "office_t", 14),
    ]


def test_changing_only_the_value_keeps_metric_scope_and_units(office_user):
    target = provincial()

    services.target_update(
        target=target, by=office_user, value=Decimal("8"), comparison="gte", due_on=target.due_on
    )

    target.refresh_from_db()
    assert (target.metric.name, target.scope, target.scope_label) == (PROVINCIAL, "city", "全市")
    assert rows() == [("target", "任务14·全市省级互嵌式示范点", "目标值", "7", "8", "office_t", 14)]


# ---------------------------------------------------------------------------------------- delete target


def test_deleting_a_target_records_the_whole_target_and_keeps_the_metric(office_user):
    target = provincial()
    metric = target.metric

    change = services.target_delete(target=target, by=office_user)

    assert not Target.objects.filter(pk=target.pk).exists()
    assert Metric.objects.filter(pk=metric.pk).exists()
    assert change.object_id == target.pk
    assert rows() == [
        (
            "target",
            "任务14·全市省级互嵌式示范点",
            "删除量化目标",
            "全市：省级互嵌式示范点不少于7个，到2025年底",
            "",
            "office_t",
            14,
        )
    ]


def test_targets_of_an_archived_plan_cannot_be_added_changed_or_deleted(office_user, plan):
    from tests.tasks.test_plan_pages import new_campaign

    services.plan_activate(campaign=new_campaign(office_user), by=office_user)
    PlanChange.objects.all().delete()
    target = provincial()
    calls = [
        lambda: services.target_create(
            task=task(14),
            by=office_user,
            metric=target.metric,
            value=Decimal(1),
            comparison="gte",
            scope="city",
            period_kind="per_year",
        ),
        lambda: services.target_update(
            target=target, by=office_user, value=Decimal(9), comparison="gte", due_on=target.due_on
        ),
        lambda: services.target_delete(target=target, by=office_user),
        lambda: services.phase_create(
            campaign=plan, by=office_user, name="x", starts_on=plan.starts_on, ends_on=plan.starts_on
        ),
        lambda: services.phase_delete(phase=plan.phases.first(), by=office_user),
    ]
    for call in calls:
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.message.endswith("已归档，只能查看，不能修改。请在当前活动或待启用的方案中修改。")
    assert Target.objects.filter(pk=target.pk, value=7).exists()
    assert plan.phases.count() == 3
    assert rows() == []


# ---------------------------------------------------------------------------------------------- phases


def phases(plan) -> list[tuple[int, str, dt.date, dt.date]]:
    return list(
        Phase.objects.filter(campaign=plan)
        .order_by("order")
        .values_list("order", "name", "starts_on", "ends_on")
    )


def test_adding_a_phase_numbers_phases_by_their_dates_and_records_it(office_user, plan):
    phase = services.phase_create(
        campaign=plan,
        by=office_user,
        name="总结提升阶段",
        starts_on=dt.date(2024, 1, 1),
        ends_on=dt.date(2024, 6, 30),
        description="总结经验。",
    )

    assert (phase.order, phase.description) == (3, "总结经验。")
    assert phases(plan) == [
        (1, "宣传动员阶段", dt.date(2023, 6, 1), dt.date(2023, 7, 31)),
        (2, "组织实施阶段", dt.date(2023, 7, 1), dt.date(2025, 3, 31)),
        (3, "总结提升阶段", dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
        (4, "申报验收阶段", dt.date(2025, 3, 1), dt.date(2025, 12, 31)),
    ]
    assert rows() == [
        (
            "phase",
            "总结提升阶段",
            "新增阶段",
            "",
            "总结提升阶段，2024年1月1日至2024年6月30日",
            "office_t",
            None,
        )
    ]


@pytest.mark.parametrize(
    ("name", "starts_on", "ends_on", "message"),
    [
        (
            "延伸阶段",
            dt.date(2025, 10, 1),
            dt.date(2026, 3, 31),
            "阶段须在创建活动的实施期内（2023年6月1日至2025年12月31日），所填为2025年10月1日至2026年3月31日。"
            "请调整阶段日期。",
        ),
        (
            "筹备阶段",
            dt.date(2023, 5, 1),
            dt.date(2023, 5, 31),
            "阶段须在创建活动的实施期内（2023年6月1日至2025年12月31日），所填为2023年5月1日至2023年5月31日。"
            "请调整阶段日期。",
        ),
        (
            "组织实施阶段",
            dt.date(2024, 1, 1),
            dt.date(2024, 2, 1),
            "本方案已有名为“组织实施阶段”的阶段，请换一个名称。",
        ),
        (
            "x",
            dt.date(2024, 2, 1),
            dt.date(2024, 1, 1),
            "阶段的开始日期（2024年2月1日）晚于结束日期（2024年1月1日），请检查。",
        ),
        ("  ", dt.date(2024, 1, 1), dt.date(2024, 2, 1), "阶段名称不能为空。"),
    ],
)
def test_a_phase_outside_the_campaign_or_with_a_taken_name_is_refused(
    office_user, plan, name, starts_on, ends_on, message
):
    with pytest.raises(DomainError) as error:
        services.phase_create(campaign=plan, by=office_user, name=name, starts_on=starts_on, ends_on=ends_on)

    assert error.value.message == message
    assert plan.phases.count() == 3
    assert rows() == []


def test_moving_a_phase_renumbers_the_phases_by_date(office_user, plan):
    first = Phase.objects.get(campaign=plan, order=1)

    services.phase_update(
        phase=first,
        by=office_user,
        name=first.name,
        starts_on=dt.date(2025, 4, 1),
        ends_on=dt.date(2025, 5, 31),
    )

    assert [name for _, name, _, _ in phases(plan)] == ["组织实施阶段", "申报验收阶段", "宣传动员阶段"]


def test_deleting_a_phase_moves_the_later_ones_up_and_records_it(office_user, plan):
    middle = Phase.objects.get(campaign=plan, order=2)

    change = services.phase_delete(phase=middle, by=office_user)

    assert change.object_id == middle.pk
    assert [(order, name) for order, name, _, _ in phases(plan)] == [(1, "宣传动员阶段"), (2, "申报验收阶段")]
    assert rows() == [
        (
            "phase",
            "组织实施阶段",
            "删除阶段",
            "组织实施阶段，2023年7月1日至2025年3月31日",
            "",
            "office_t",
            None,
        )
    ]


@pytest.mark.parametrize("who", ["liaison_a", "leadership_user"])
def test_only_the_office_may_add_or_delete_targets_and_phases(request, who, plan):
    user = request.getfixturevalue(who)
    target = provincial()
    calls = [
        lambda: services.target_create(
            task=task(5),
            by=user,
            metric=target.metric,
            value=Decimal(1),
            comparison="gte",
            scope="city",
            period_kind="per_year",
        ),
        lambda: services.target_update(
            target=target, by=user, value=Decimal(1), comparison="gte", due_on=None, scope="each_unit"
        ),
        lambda: services.target_delete(target=target, by=user),
        lambda: services.phase_create(
            campaign=plan, by=user, name="x", starts_on=plan.starts_on, ends_on=plan.ends_on
        ),
        lambda: services.phase_delete(phase=plan.phases.first(), by=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied) as error:
            call()
        assert error.value.message == "只有创建办工作人员可以修改实施方案。"
    assert Target.objects.filter(pk=target.pk).exists() and plan.phases.count() == 3
    assert rows() == []


def test_changing_the_value_of_an_imported_target_whose_units_were_skipped_still_works(office_user):
    # An each-unit target whose unit names were all skipped in the import preview has no units in scope.
    target = provincial()
    Target.objects.filter(pk=target.pk).update(scope="each_unit", scope_label="崆峒区")

    services.target_update(
        target=target, by=office_user, value=Decimal("8"), comparison="gte", due_on=target.due_on
    )

    assert rows() == [("target", "任务14·崆峒区省级互嵌式示范点", "目标值", "7", "8", "office_t", 14)]
    with pytest.raises(DomainError) as error:
        services.target_update(
            target=target,
            by=office_user,
            value=Decimal("8"),
            comparison="gte",
            due_on=target.due_on,
            units=[],
        )
    assert error.value.message == "范围为“列明单位各自”时请选择范围内的单位（至少一个）。"
