"""Editing the plan in the portal (tasks.services): each save changes the row and records exactly what changed,
who and when; an archived plan is read-only; a unit that has filed reports is not dropped from its task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, Phase, ReportingPeriod
from reports.models import ProgressReport
from tasks import services
from tasks.importer import parse_plan_text
from tasks.models import PlanChange, Responsibility, Target
from tasks.plan_import import UnitDirectory, assignment_clean, plan_import
from tests.factories import make_report, task
from units.models import Unit

OPEN_PLAN = """\
某市民族团结进步创建实施方案
2024年3月1日
一、总体要求
坚持以铸牢中华民族共同体意识为主线。
二、实施步骤
1.部署阶段(2024年3月至4月)。印发方案。
2.实施阶段(2024年5月至2025年12月)。全面推进。
三、主要任务
(一)强化思想引领
1.深化理论武装。市委理论学习中心组每年开展民族工作专题学习不少于2次。
2.加强阵地建设。依托新时代文明实践中心建设教育基地。
(二)促进交往交流交融
3.开展结对活动。组织各族群众结对联谊。（牵头单位：市民宗委；配合单位：团市委、市教育局）
"""


def rows(changes=None):
    """History rows as tuples, oldest first: (kind, object, field, before, after, by, task number)."""
    qs = PlanChange.objects.order_by("at", "id") if changes is None else changes
    return [
        (
            c.kind,
            c.object_label,
            c.field,
            c.before,
            c.after,
            c.by.username if c.by else None,
            c.task and c.task.number,
        )
        for c in qs
    ]


def named(number: int) -> list[tuple[str, str]]:
    return [
        (r.unit.code, r.role)
        for r in Responsibility.objects.filter(task=task(number), by_rule=False).order_by("order", "id")
    ]


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


# ------------------------------------------------------------------------------------------------ tasks


def test_task_update_saves_title_and_text_and_records_both(office_user):
    before = task(3).text

    services.task_update(task=task(3), by=office_user, title="弘扬伟大民族精神", text="新的任务内容。")

    assert (task(3).title, task(3).text) == ("弘扬伟大民族精神", "新的任务内容。")
    assert rows() == [
        ("task", "任务3", "标题", "弘扬中华民族伟大精神", "弘扬伟大民族精神", "office_t", 3),
        ("task", "任务3", "任务内容", before, "新的任务内容。", "office_t", 3),
    ]
    first, second = PlanChange.objects.all()
    assert first.at == second.at
    assert abs((timezone.now() - first.at).total_seconds()) < 60


def test_task_update_records_only_the_fields_that_changed(office_user):
    services.task_update(task=task(3), by=office_user, title="  新标题 ", text=task(3).text)

    assert rows() == [("task", "任务3", "标题", "弘扬中华民族伟大精神", "新标题", "office_t", 3)]


@pytest.mark.parametrize(
    ("title", "text", "message"),
    [
        ("", "内容", "任务标题不能为空。"),
        ("标题", "  ", "任务内容不能为空。"),
        ("长" * 201, "内容", "任务标题有 201 个字，最多 200 个字。"),
    ],
)
def test_task_update_refuses_empty_or_overlong_fields(office_user, title, text, message):
    with pytest.raises(DomainError) as error:
        services.task_update(task=task(3), by=office_user, title=title, text=text)

    assert error.value.message == message
    assert task(3).title == "弘扬中华民族伟大精神"
    assert rows() == []


def test_saving_without_a_change_says_so_and_records_nothing(office_user):
    t = task(3)
    with pytest.raises(DomainError) as error:
        services.task_update(task=t, by=office_user, title=t.title, text=t.text)

    assert error.value.message == "没有修改任何内容。"
    assert rows() == []


# ------------------------------------------------------------------------------------------------ units


def test_changing_the_lead_makes_the_old_lead_co_responsible_and_records_before_and_after(office_user):
    assert named(2) == [("zuzhibu", "lead"), ("xuanchuanbu", "co"), ("jiguangongwei", "co")]

    services.task_set_units(
        task=task(2), by=office_user, lead=unit("xuanchuanbu"), co=[unit("zuzhibu"), unit("jiguangongwei")]
    )

    assert named(2) == [("xuanchuanbu", "lead"), ("zuzhibu", "co"), ("jiguangongwei", "co")]
    assert Responsibility.objects.filter(task=task(2)).leads().count() == 1
    assert rows() == [
        ("responsibility", "任务2", "牵头单位", "市委组织部", "市委宣传部", "office_t", 2),
        (
            "responsibility",
            "任务2",
            "配合单位",
            "市委宣传部、市委直属机关工委",
            "市委组织部、市委直属机关工委",
            "office_t",
            2,
        ),
    ]


def test_adding_and_removing_co_units_keeps_the_by_rule_units(office_user):
    by_rule_before = set(
        Responsibility.objects.filter(task=task(2), by_rule=True).values_list("unit__code", flat=True)
    )

    services.task_set_units(task=task(2), by=office_user, lead=unit("zuzhibu"), co=[unit("tongzhanbu")])

    assert named(2) == [("zuzhibu", "lead"), ("tongzhanbu", "co")]
    assert set(
        Responsibility.objects.filter(task=task(2), by_rule=True).values_list("unit__code", flat=True)
    ) == (by_rule_before)
    assert rows() == [
        ("responsibility", "任务2", "配合单位", "市委宣传部、市委直属机关工委", "市委统战部", "office_t", 2),
    ]


def test_naming_a_by_rule_unit_makes_it_named(office_user):
    by_rule = Responsibility.objects.filter(task=task(2), by_rule=True).select_related("unit").first()

    services.task_set_units(
        task=task(2),
        by=office_user,
        lead=unit("zuzhibu"),
        co=[unit("xuanchuanbu"), unit("jiguangongwei"), by_rule.unit],
    )

    by_rule.refresh_from_db()
    assert (by_rule.by_rule, by_rule.role, by_rule.order) == (False, "co", 4)


def test_a_unit_that_filed_a_report_on_the_task_cannot_be_removed_but_can_become_co(office_user, unit_a):
    period = ReportingPeriod.objects.get(year=2024, quarter=1)
    report = make_report(period=period, unit=unit_a, task=2)

    with pytest.raises(DomainError) as error:
        services.task_set_units(
            task=task(2), by=office_user, lead=unit("zuzhibu"), co=[unit("jiguangongwei")]
        )

    assert error.value.message == (
        "市委宣传部已就任务2填报过进展报告，不能从责任单位中移除（移除后这些报告将不再计入任务）。可以改为配合单位。"
    )
    assert named(2) == [("zuzhibu", "lead"), ("xuanchuanbu", "co"), ("jiguangongwei", "co")]
    assert rows() == []

    services.task_set_units(
        task=task(2), by=office_user, lead=unit("jiguangongwei"), co=[unit_a, unit("zuzhibu")]
    )

    assert named(2) == [("jiguangongwei", "lead"), ("xuanchuanbu", "co"), ("zuzhibu", "co")]
    assert ProgressReport.objects.get(pk=report.pk).unit == unit_a


def test_a_task_needs_a_lead_and_active_units(office_user):
    with pytest.raises(DomainError) as error:
        services.task_set_units(task=task(2), by=office_user, lead=None, co=[unit("zuzhibu")])
    assert error.value.message == "请选择一个牵头单位：每项任务有且只有一个牵头单位。"

    closed = unit("tongzhanbu")
    closed.is_active = False
    closed.save()
    with pytest.raises(DomainError) as error:
        services.task_set_units(task=task(2), by=office_user, lead=unit("zuzhibu"), co=[closed])
    assert error.value.message == "以下单位已停用，不能指定为责任单位：市委统战部。"
    assert rows() == []


# ---------------------------------------------------------------------------------------------- targets


def test_target_update_records_value_comparison_and_due_date(office_user):
    target = Target.objects.get(task=task(14), metric__name="省级互嵌式示范点")

    services.target_update(
        target=target, by=office_user, value=Decimal("9"), comparison="eq", due_on=dt.date(2025, 6, 30)
    )

    target.refresh_from_db()
    assert (target.value, target.comparison, target.due_on) == (Decimal("9"), "eq", dt.date(2025, 6, 30))
    label = "任务14·全市省级互嵌式示范点"
    assert rows() == [
        ("target", label, "目标值", "7", "9", "office_t", 14),
        ("target", label, "比较", "不少于", "达到", "office_t", 14),
        ("target", label, "截至日期", "2025年12月31日", "2025年6月30日", "office_t", 14),
    ]


def test_a_by_date_target_needs_its_date_and_a_value_is_not_negative(office_user):
    target = Target.objects.get(task=task(14), metric__name="省级互嵌式示范点")

    with pytest.raises(DomainError) as error:
        services.target_update(
            target=target, by=office_user, value=Decimal("7"), comparison="gte", due_on=None
        )
    assert error.value.message == "这是“截至日期”类目标，请填写截至日期。"
    with pytest.raises(DomainError) as error:
        services.target_update(
            target=target, by=office_user, value=Decimal("-1"), comparison="gte", due_on=target.due_on
        )
    assert error.value.message == "目标值须为不小于 0 的数字。"
    assert rows() == []


# ------------------------------------------------------------------------------------- phases, periods


def test_phase_update_records_name_and_dates(office_user, plan):
    phase = Phase.objects.get(campaign=plan, order=3)

    services.phase_update(
        phase=phase,
        by=office_user,
        name="申报验收阶段",
        starts_on=dt.date(2025, 4, 1),
        ends_on=dt.date(2025, 11, 30),
    )

    phase.refresh_from_db()
    assert (phase.starts_on, phase.ends_on) == (dt.date(2025, 4, 1), dt.date(2025, 11, 30))
    assert rows() == [
        ("phase", "申报验收阶段", "开始日期", "2025年3月1日", "2025年4月1日", "office_t", None),
        ("phase", "申报验收阶段", "结束日期", "2025年12月31日", "2025年11月30日", "office_t", None),
    ]


def test_a_phase_cannot_end_before_it_starts(office_user, plan):
    phase = Phase.objects.get(campaign=plan, order=3)

    with pytest.raises(DomainError) as error:
        services.phase_update(
            phase=phase, by=office_user, name="x", starts_on=dt.date(2025, 5, 1), ends_on=dt.date(2025, 4, 1)
        )

    assert error.value.message == "阶段的开始日期（2025年5月1日）晚于结束日期（2025年4月1日），请检查。"


def test_period_update_moves_the_due_date_and_records_it(office_user, open_period):
    services.period_update(period=open_period, by=office_user, due_on=dt.date(2026, 1, 15))

    open_period.refresh_from_db()
    assert open_period.due_on == dt.date(2026, 1, 15)
    assert open_period.on_time_cutoff == timezone.make_aware(dt.datetime(2026, 1, 16))
    assert rows() == [
        ("period", "2025年第四季度", "报送截止日期", "2026年1月10日", "2026年1月15日", "office_t", None)
    ]


def test_a_due_date_is_not_before_the_quarter_ends_and_a_closed_period_keeps_its_date(office_user, plan):
    period = ReportingPeriod.objects.get(campaign=plan, year=2025, quarter=4)
    with pytest.raises(DomainError) as error:
        services.period_update(period=period, by=office_user, due_on=dt.date(2025, 12, 30))
    assert error.value.message == "报送截止日期不能早于2025年第四季度的最后一天（2025年12月31日）。"

    period.state = ReportingPeriod.State.CLOSED
    period.save()
    with pytest.raises(DomainError) as error:
        services.period_update(period=period, by=office_user, due_on=dt.date(2026, 2, 1))
    assert error.value.message.startswith("2025年第四季度已截止，不能再改截止日期")
    assert rows() == []


def test_period_create_next_adds_the_following_quarter_with_the_default_due_date(office_user, plan):
    period = services.period_create_next(campaign=plan, by=office_user)

    assert (period.year, period.quarter, period.starts_on, period.ends_on, period.due_on, period.state) == (
        2026,
        1,
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 10),
        "upcoming",
    )
    assert rows() == [
        (
            "period",
            "2026年第一季度",
            "新增报告期",
            "",
            "2026年第一季度，报送截止2026年4月10日",
            "office_t",
            None,
        )
    ]


# ------------------------------------------------------------------------------------ activate, archive


def _new_campaign(office_user) -> Campaign:
    return plan_import(parsed=parse_plan_text(OPEN_PLAN), mapping={}, by=office_user)


def test_activating_a_new_plan_archives_the_current_one_and_records_both(office_user, plan):
    new = _new_campaign(office_user)
    assert (new.is_active, new.is_archived, new.status_label) == (False, False, "待启用")

    services.plan_activate(campaign=new, by=office_user)

    plan.refresh_from_db()
    new.refresh_from_db()
    assert Campaign.current() == new
    assert (plan.is_active, plan.is_archived, plan.status_label) == (False, True, "已归档")
    assert (new.is_active, new.archived_at) == (True, None)
    assert rows() == [
        ("campaign", plan.title, "状态", "当前活动", "已归档", "office_t", None),
        ("campaign", new.title, "状态", "待启用", "当前活动", "office_t", None),
    ]


def test_an_archived_plan_is_read_only_and_cannot_be_activated_again(office_user, plan, unit_a):
    period = ReportingPeriod.objects.get(campaign=plan, year=2024, quarter=1)
    report = make_report(period=period, unit=unit_a, task=3)
    old_task = task(3)
    services.plan_activate(campaign=_new_campaign(office_user), by=office_user)
    before = rows()
    archived = Campaign.objects.get(pk=plan.pk)

    edits = [
        lambda: services.task_update(task=old_task, by=office_user, title="x", text="y"),
        lambda: services.task_set_units(task=old_task, by=office_user, lead=unit("zuzhibu"), co=[]),
        lambda: services.phase_update(
            phase=archived.phases.first(),
            by=office_user,
            name="x",
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
        ),
        lambda: services.period_update(period=period, by=office_user, due_on=dt.date(2024, 5, 1)),
        lambda: services.period_create_next(campaign=archived, by=office_user),
    ]
    for edit in edits:
        with pytest.raises(DomainError) as error:
            edit()
        assert error.value.message == (
            "“平凉市创建全国民族团结进步示范市”已归档，只能查看，不能修改。请在当前活动或待启用的方案中修改。"
        )
    with pytest.raises(DomainError) as error:
        services.plan_activate(campaign=archived, by=office_user)
    assert (
        error.value.message
        == "“平凉市创建全国民族团结进步示范市”已归档，不能重新启用。归档的方案及其报告、汇编仍可查看。"
    )
    assert rows() == before
    assert ProgressReport.objects.get(pk=report.pk).task.campaign == archived


def test_import_with_activate_archives_the_previous_campaign_through_the_same_rule(office_user, plan):
    new = plan_import(parsed=parse_plan_text(OPEN_PLAN), mapping={}, by=office_user, activate=True)

    plan.refresh_from_db()
    assert new.is_active and Campaign.current() == new
    assert plan.is_archived and not plan.is_active
    assert [r[2:5] for r in rows()] == [("状态", "当前活动", "已归档"), ("状态", "待启用", "当前活动")]


# --------------------------------------------------------------------------------------------- import


def test_units_assigned_in_the_preview_are_written_for_tasks_the_plan_left_open(office_user):
    parsed = parse_plan_text(OPEN_PLAN)
    assert [(t.number, t.names) for t in parsed.tasks] == [
        (1, []),
        (2, []),
        (3, ["市民宗委", "团市委", "市教育局"]),
    ]
    assigned = assignment_clean(
        lead=unit("xuanchuanbu").pk,
        co=[unit("zuzhibu").pk, unit("xuanchuanbu").pk],
        directory=UnitDirectory(parsed.city),
    )
    assert assigned == {"lead": unit("xuanchuanbu").pk, "co": [unit("zuzhibu").pk]}

    campaign = plan_import(parsed=parsed, mapping={}, by=office_user, assignments={0: assigned, 1: assigned})

    by_task = {
        t.number: [(r.unit.code, r.role) for r in t.responsibilities.order_by("order")]
        for t in campaign.tasks.prefetch_related("responsibilities__unit")
    }
    assert by_task == {
        1: [("xuanchuanbu", "lead"), ("zuzhibu", "co")],
        2: [("xuanchuanbu", "lead"), ("zuzhibu", "co")],
        3: [("minzongwei", "lead"), ("tuanshiwei", "co"), ("jiaoyuju", "co")],
    }


def test_tasks_left_open_import_without_units(office_user):
    campaign = plan_import(parsed=parse_plan_text(OPEN_PLAN), mapping={}, by=office_user)

    assert [t.responsibilities.count() for t in campaign.tasks.order_by("number")] == [0, 0, 3]


def test_an_assignment_needs_a_lead_and_known_units(office_user):
    directory = UnitDirectory("")
    with pytest.raises(DomainError) as error:
        assignment_clean(lead=None, co=[unit("zuzhibu").pk], directory=directory)
    assert error.value.message == "请选择一个牵头单位：每项任务有且只有一个牵头单位。"
    with pytest.raises(DomainError) as error:
        assignment_clean(lead=999999, co=[], directory=directory)
    assert error.value.message == "所选单位不存在或已停用，请刷新页面后重新选择。"


# ----------------------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", ["liaison_a", "leadership_user"])
def test_only_the_office_may_change_the_plan(request, who, plan, open_period):
    user = request.getfixturevalue(who)
    target = Target.objects.get(task=task(14), metric__name="省级互嵌式示范点")
    calls = [
        lambda: services.task_update(task=task(3), by=user, title="x", text="y"),
        lambda: services.task_set_units(task=task(3), by=user, lead=unit("xuanchuanbu"), co=[]),
        lambda: services.target_update(
            target=target, by=user, value=Decimal(1), comparison="gte", due_on=None
        ),
        lambda: services.phase_update(
            phase=plan.phases.first(), by=user, name="x", starts_on=plan.starts_on, ends_on=plan.ends_on
        ),
        lambda: services.period_update(period=open_period, by=user, due_on=dt.date(2026, 2, 1)),
        lambda: services.period_create_next(campaign=plan, by=user),
        lambda: services.plan_activate(campaign=plan, by=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied) as error:
            call()
        assert error.value.message == "只有创建办工作人员可以修改实施方案。"
    assert rows() == []
