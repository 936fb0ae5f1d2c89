"""The office's plan pages: plans side by side, activate (archive the old one), edit a plan, its history; and
units assigned to tasks in the import preview."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaign.decorators import OFFICE_ONLY, READERS_ONLY
from campaign.models import Campaign, ReportingPeriod
from tasks import services
from tasks.importer import parse_plan_text
from tasks.models import PlanChange, Responsibility, Target, Task
from tasks.plan_import import plan_import
from tests.campaign.test_decorators import assert_error_page
from tests.factories import make_report
from tests.tasks.test_plan_edit import OPEN_PLAN
from units.models import Unit

PLANS = reverse("plan_import:plans")


def new_campaign(office_user) -> Campaign:
    return plan_import(parsed=parse_plan_text(OPEN_PLAN), mapping={}, by=office_user)


READ_PAGES = {"plans", "plan", "history", "period_reports"}  # leadership reads these; the rest edit the plan


def urls(plan: Campaign, *, read: bool | None = None) -> list[tuple[str, str]]:
    """Every plan page, as (method, url); ``read=True`` only the read-only pages, ``read=False`` the others."""
    task = Task.objects.get(campaign=plan, number=2)
    target = Target.objects.filter(task__campaign=plan).first()
    period = ReportingPeriod.objects.filter(campaign=plan).first()
    phase = plan.phases.first()
    pages = [
        ("get", "plans", PLANS),
        ("get", "plan", reverse("plan_import:plan", args=[plan.pk])),
        ("get", "activate", reverse("plan_import:activate", args=[plan.pk])),
        ("post", "activate", reverse("plan_import:activate", args=[plan.pk])),
        ("get", "history", reverse("plan_import:history", args=[plan.pk])),
        ("post", "period_next", reverse("plan_import:period_next", args=[plan.pk])),
        ("get", "task", reverse("plan_import:task", args=[task.pk])),
        ("post", "task", reverse("plan_import:task", args=[task.pk])),
        ("post", "task_units", reverse("plan_import:task_units", args=[task.pk])),
        ("post", "target", reverse("plan_import:target", args=[target.pk])),
        ("get", "target_new", reverse("plan_import:target_new", args=[task.pk])),
        ("post", "target_new", reverse("plan_import:target_new", args=[task.pk])),
        ("get", "target_change", reverse("plan_import:target_change", args=[target.pk])),
        ("post", "target_change", reverse("plan_import:target_change", args=[target.pk])),
        ("post", "target_delete", reverse("plan_import:target_delete", args=[target.pk])),
        ("get", "phase", reverse("plan_import:phase", args=[phase.pk])),
        ("post", "phase", reverse("plan_import:phase", args=[phase.pk])),
        ("get", "phase_new", reverse("plan_import:phase_new", args=[plan.pk])),
        ("post", "phase_new", reverse("plan_import:phase_new", args=[plan.pk])),
        ("post", "phase_delete", reverse("plan_import:phase_delete", args=[phase.pk])),
        ("get", "period", reverse("plan_import:period", args=[period.pk])),
        ("post", "period", reverse("plan_import:period", args=[period.pk])),
        ("get", "period_reports", reverse("plan_import:period_reports", args=[period.pk])),
        ("post", "preview_assign", reverse("plan_import:preview_assign")),
        ("get", "preview_task", reverse("plan_import:preview_task", args=[0])),
    ]
    return [(method, url) for method, name, url in pages if read is None or (name in READ_PAGES) == read]


# ------------------------------------------------------------------------------------------ who may


def test_anonymous_visitors_are_sent_to_the_login_page(client, plan):
    for method, url in urls(plan):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


POSTED = {
    "title": "x",
    "text": "y",
    "name": "新阶段",
    "starts_on": "2024-01-01",
    "ends_on": "2024-02-01",
    "value": "5",
    "comparison": "gte",
    "scope": "city",
    "period_kind": "per_year",
    "new_metric_name": "新指标",
    "new_metric_uom": "个",
    "due_on": "2026-02-01",
}


def _nothing_changed(plan: Campaign, targets: int, phases: int) -> None:
    task = Task.objects.get(campaign=plan, number=2)
    assert task.title == "开展“党建+创建”行动"
    assert PlanChange.objects.count() == 0
    assert Campaign.current() == plan
    assert ReportingPeriod.objects.filter(campaign=plan).count() == 10
    assert Target.objects.filter(task__campaign=plan).count() == targets
    assert plan.phases.count() == phases


def test_leadership_reads_the_plans_but_gets_403_on_every_edit_page_and_changes_nothing(as_leader, plan):
    lead = Unit.objects.get(code="xuanchuanbu")
    targets, phases = Target.objects.filter(task__campaign=plan).count(), plan.phases.count()

    for method, url in urls(plan, read=True):
        assert getattr(as_leader, method)(url).status_code == 200, url
    for method, url in urls(plan, read=False):
        data = {**POSTED, "lead": lead.pk} if method == "post" else None
        response = getattr(as_leader, method)(url, data)
        assert_error_page(response, 403, message=OFFICE_ONLY, nav="总览")

    _nothing_changed(plan, targets, phases)


@pytest.mark.parametrize("who", ["as_liaison_a", "as_liaison_b"])
def test_liaisons_get_403_on_every_plan_page_and_change_nothing(request, plan, who):
    client = request.getfixturevalue(who)
    lead = Unit.objects.get(code="xuanchuanbu")
    targets, phases = Target.objects.filter(task__campaign=plan).count(), plan.phases.count()

    for method, url in urls(plan, read=True):
        assert_error_page(getattr(client, method)(url), 403, message=READERS_ONLY, nav="本季度报送")
    for method, url in urls(plan, read=False):
        data = {**POSTED, "lead": lead.pk} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert_error_page(response, 403, message=OFFICE_ONLY, nav="本季度报送")

    _nothing_changed(plan, targets, phases)


def test_leadership_reads_the_plans_and_an_archived_plan_without_any_edit_link(as_leader, office_user, plan):
    new = new_campaign(office_user)
    services.plan_activate(campaign=new, by=office_user)
    services.task_update(
        task=Task.objects.get(campaign=new, number=1), by=office_user, title="新标题", text="新内容。"
    )

    listing = as_leader.get(PLANS).content.decode()
    archived = as_leader.get(reverse("plan_import:plan", args=[plan.pk])).content.decode()
    current = as_leader.get(reverse("plan_import:plan", args=[new.pk])).content.decode()
    history = as_leader.get(reverse("plan_import:history", args=[new.pk])).content.decode()

    assert f'href="{reverse("plan_import:plan", args=[plan.pk])}"' in listing  # the archived plan
    assert "导入新方案" not in listing and "启用“" not in listing
    assert "此方案已于" in archived and "归档，只能查看" in archived
    assert 'data-testid="task-read-2"' in archived and "开展“党建+创建”行动" in archived
    assert "市委理论学习中心组每年开展民族工作专题学习不少于2次" in current  # a task's text, read inline
    assert "新标题" in history
    for html in (listing, archived, current, history):
        assert "/plan/import/tasks/" not in html and "/plan/import/phases/" not in html
        assert "/phases/new/" not in html and "/activate/" not in html and "/periods/next/" not in html
        assert re.search(r"/plan/import/periods/\d+/\"", html) is None  # 改截止日期; the reports list stays
        assert html.count('method="post"') == 1  # the header's 退出 only
        assert "data-confirm" not in html


def test_the_nav_offers_plan_management_to_the_office_and_leadership_only(
    as_office, client, liaison_a, leadership_user
):
    assert f'href="{PLANS}"' in as_office.get("/").content.decode()
    client.force_login(leadership_user)
    assert f'href="{PLANS}"' in client.get("/").content.decode()
    client.force_login(liaison_a)
    assert f'href="{PLANS}"' not in client.get("/").content.decode()


# ----------------------------------------------------------------------------------- plans, activate


def test_plans_page_shows_the_new_plan_beside_the_active_one_with_counts(as_office, office_user, plan):
    new = new_campaign(office_user)

    html = as_office.get(PLANS).content.decode()

    table = html[html.index('data-testid="plan-compare"') :]
    table = table[: table.index("</table>")]
    assert table.index(plan.title) < table.index(new.title)
    assert '<span class="badge text-bg-success">当前活动</span>' in table
    assert '<span class="badge text-bg-warning">待启用</span>' in table
    for label, figures in [
        ("实施阶段", (3, 2)),
        ("工程/活动", (8, 2)),
        ("任务", (29, 3)),
        ("责任单位", (55, 3)),
        ("量化目标", (27, 1)),
        ("报告期", (10, 7)),
        ("进展报告", (0, 0)),
    ]:
        assert f'<th scope="row">{label}</th><td>{figures[0]}</td><td>{figures[1]}</td>' in table, label
    assert f'href="{reverse("plan_import:activate", args=[new.pk])}"' in html
    assert "没有已归档的方案。" in html


def test_activating_asks_first_then_archives_the_current_plan(as_office, office_user, plan, unit_a):
    new = new_campaign(office_user)
    url = reverse("plan_import:activate", args=[new.pk])

    confirm = as_office.get(url).content.decode()
    assert "“平凉市创建全国民族团结进步示范市”将归档" in confirm and "此操作不能撤销。" in confirm
    assert Campaign.current() == plan

    response = as_office.post(url)

    assert response.status_code == 302
    assert response.url == reverse("plan_import:plan", args=[new.pk])
    assert Campaign.current() == new
    page = as_office.get(response.url).content.decode()
    assert "已设为当前活动，“平凉市创建全国民族团结进步示范市”已归档（只读，其报告和汇编仍可查看）。" in page
    archived = as_office.get(reverse("plan_import:plan", args=[plan.pk])).content.decode()
    assert "此方案已于" in archived and "归档，只能查看" in archived
    assert (
        "改截止日期" not in archived and "新增下一个报告期" not in archived and "启用此方案" not in archived
    )


def test_activating_an_archived_plan_is_refused_with_a_message(as_office, office_user, plan):
    services.plan_activate(campaign=new_campaign(office_user), by=office_user)

    response = as_office.post(reverse("plan_import:activate", args=[plan.pk]))

    assert response.status_code == 400
    assert "已归档，不能重新启用。" in response.content.decode()


def test_an_archived_plans_reports_stay_readable(as_office, office_user, plan, unit_a, liaison_a, client):
    period = ReportingPeriod.objects.get(campaign=plan, year=2024, quarter=1)
    report = make_report(period=period, unit=unit_a, task=3)
    services.plan_activate(campaign=new_campaign(office_user), by=office_user)

    listing = as_office.get(reverse("plan_import:period_reports", args=[period.pk])).content.decode()
    assert f'href="{reverse("reports:detail", args=[report.pk])}"' in listing
    assert "共 1 份；方案已归档，报告保留原样，可查看。" in listing
    plan_page = as_office.get(reverse("plan_import:plan", args=[plan.pk])).content.decode()
    assert f'href="{reverse("plan_import:period_reports", args=[period.pk])}">1 份</a>' in plan_page
    client.force_login(liaison_a)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 200


def test_an_archived_plans_task_page_has_no_forms(as_office, office_user, plan):
    task = Task.objects.get(campaign=plan, number=2)
    services.plan_activate(campaign=new_campaign(office_user), by=office_user)

    html = as_office.get(reverse("plan_import:task", args=[task.pk])).content.decode()

    assert "此方案已归档，只能查看。" in html
    assert 'name="title"' not in html and 'name="lead"' not in html and 'name="value"' not in html
    response = as_office.post(reverse("plan_import:task", args=[task.pk]), {"title": "x", "text": "y"})
    assert response.status_code == 400
    assert "已归档，只能查看，不能修改。" in response.content.decode()


# ---------------------------------------------------------------------------------------------- edits


def test_editing_a_tasks_lead_redirects_and_shows_in_the_task_history(as_office, plan):
    task = Task.objects.get(campaign=plan, number=2)
    url = reverse("plan_import:task_units", args=[task.pk])
    xuanchuan, zuzhi = Unit.objects.get(code="xuanchuanbu"), Unit.objects.get(code="zuzhibu")

    response = as_office.post(url, {"lead": xuanchuan.pk, "co": [zuzhi.pk]})

    assert response.status_code == 302
    assert response.url == reverse("plan_import:task", args=[task.pk]) + "#units"
    html = as_office.get(response.url).content.decode()
    assert "已保存（修改了：牵头单位、配合单位），修改记录见“修改记录”。" in html
    assert '<p class="mb-1" data-testid="lead-unit">牵头单位：<strong>市委宣传部</strong></p>' in html
    assert html.count('data-testid="change"') == 2
    public = as_office.get(reverse("task_detail", args=[2])).content.decode()
    assert "最近修改" in public and "市委组织部" in public and public.count('data-testid="change"') == 2


def test_liaisons_see_the_task_page_without_its_history(as_office, plan, client, liaison_a):
    task = Task.objects.get(campaign=plan, number=2)
    as_office.post(reverse("plan_import:task", args=[task.pk]), {"title": "新标题", "text": task.text})
    client.force_login(liaison_a)

    html = client.get(reverse("task_detail", args=[2])).content.decode()

    assert "新标题" in html
    assert "最近修改" not in html and "修改任务" not in html


def test_a_refused_unit_change_shows_the_reason_and_keeps_the_choice(as_office, plan, unit_a):
    make_report(period=ReportingPeriod.objects.get(campaign=plan, year=2024, quarter=1), unit=unit_a, task=2)
    task = Task.objects.get(campaign=plan, number=2)
    zuzhi = Unit.objects.get(code="zuzhibu")

    response = as_office.post(reverse("plan_import:task_units", args=[task.pk]), {"lead": zuzhi.pk})

    assert response.status_code == 400
    html = response.content.decode()
    assert "市委宣传部已就任务2填报过进展报告，不能从责任单位中移除" in html
    assert f'<option value="{zuzhi.pk}" selected>市委组织部</option>' in html
    assert Responsibility.objects.filter(task=task, unit=unit_a).exists()


def test_a_unit_form_without_a_lead_is_refused(as_office, plan):
    task = Task.objects.get(campaign=plan, number=2)

    response = as_office.post(reverse("plan_import:task_units", args=[task.pk]), {"co": []})

    assert response.status_code == 400
    assert "牵头单位：请选择一个牵头单位：每项任务有且只有一个牵头单位。" in response.content.decode()


def test_target_phase_and_period_forms_save_and_validate(as_office, plan, open_period):
    target = Target.objects.get(task__campaign=plan, task__number=14, metric__name="省级互嵌式示范点")
    phase = plan.phases.get(order=3)

    bad = as_office.post(
        reverse("plan_import:target", args=[target.pk]), {"value": "-2", "comparison": "gte"}
    )
    assert bad.status_code == 400 and "目标值：目标值不能小于 0。" in bad.content.decode()
    ok = as_office.post(
        reverse("plan_import:target", args=[target.pk]),
        {"value": "8", "comparison": "gte", "due_on": "2025-12-31"},
    )
    assert ok.status_code == 302
    bad = as_office.post(
        reverse("plan_import:phase", args=[phase.pk]),
        {"name": "申报验收阶段", "starts_on": "2025-12-01", "ends_on": "2025-03-01"},
    )
    assert (
        bad.status_code == 400
        and "阶段的开始日期（2025年12月1日）晚于结束日期（2025年3月1日）" in bad.content.decode()
    )
    bad = as_office.post(reverse("plan_import:period", args=[open_period.pk]), {"due_on": "2026-13-01"})
    assert bad.status_code == 400 and "请按“年-月-日”填写日期" in bad.content.decode()
    ok = as_office.post(reverse("plan_import:period", args=[open_period.pk]), {"due_on": "2026-01-20"})
    assert ok.status_code == 302
    ok = as_office.post(reverse("plan_import:period_next", args=[plan.pk]))
    assert ok.url == reverse("plan_import:plan", args=[plan.pk]) + "#periods"

    assert [(c.field, c.before, c.after) for c in PlanChange.objects.order_by("id")] == [
        ("目标值", "7", "8"),
        ("报送截止日期", "2026年1月10日", "2026年1月20日"),
        ("新增报告期", "", "2026年第一季度，报送截止2026年4月10日"),
    ]


# -------------------------------------------------------------------------------------------- history


def test_history_filters_by_task_person_and_date_and_pages(as_office, office_user, plan):
    other = Task.objects.get(campaign=plan, number=3)
    task = Task.objects.get(campaign=plan, number=2)
    for i in range(55):
        services.task_update(task=task, by=office_user, title=f"标题{i}", text=task.text)
    services.task_update(task=other, by=office_user, title="另一项", text=other.text)
    PlanChange.objects.filter(task=other).update(at=dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))
    url = reverse("plan_import:history", args=[plan.pk])

    first = as_office.get(url).content.decode()
    assert "共 56 条。" in first and first.count('data-testid="change"') == 50 and "第 1 / 2 页" in first
    by_task = as_office.get(url, {"task": 3}).content.decode()
    assert "共 1 条。" in by_task and "另一项" in by_task
    by_date = as_office.get(url, {"date_from": "2024-04-30", "date_to": "2024-05-02"}).content.decode()
    assert "共 1 条。" in by_date
    by_person = as_office.get(url, {"person": office_user.pk, "task": 2, "page": 2}).content.decode()
    assert "共 55 条。" in by_person and by_person.count('data-testid="change"') == 5
    nobody = as_office.get(url, {"person": office_user.pk + 1000}).content.decode()
    assert "共 0 条。" in nobody
    missing = as_office.get(url, {"task": 99}).content.decode()
    assert "本方案没有任务99。" in missing and "共 0 条。" in missing


# ------------------------------------------------------------------------------- import: assign units


def upload_open_plan(client):
    client.post(
        reverse("plan_import:upload"), {"document": SimpleUploadedFile("plan.txt", OPEN_PLAN.encode())}
    )


def test_preview_counts_tasks_left_open_and_marks_them(as_office):
    upload_open_plan(as_office)

    html = as_office.get(reverse("plan_import:preview")).content.decode()

    assert "有 2 项任务在方案中没有列明责任单位。" in html
    assert html.count(" data-open>") == 2
    assert html.count('<span class="badge text-bg-warning">未列明</span>') == 2


def test_units_assigned_to_many_tasks_at_once_are_kept_and_written_on_confirm(as_office):
    upload_open_plan(as_office)
    xuanchuan, zuzhi = Unit.objects.get(code="xuanchuanbu"), Unit.objects.get(code="zuzhibu")

    response = as_office.post(
        reverse("plan_import:preview_assign"),
        {
            "op": "assign",
            "tasks": ["0", "1"],
            "lead": xuanchuan.pk,
            "co": [zuzhi.pk],
            "starts_on": "2024-04-01",
            "ends_on": "2025-12-31",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("plan_import:preview") + "#task-1"
    html = as_office.get(reverse("plan_import:preview")).content.decode()
    assert "已为任务1、2指定责任单位（确认导入时写入）。" in html
    assert html.count('data-testid="assigned"') == 2
    assert "每项任务都已有责任单位。" in html
    assert 'name="starts_on" class="form-control form-control-sm w-auto" value="2024-04-01"' in html

    confirmed = as_office.post(
        reverse("plan_import:preview"), {"starts_on": "2024-04-01", "ends_on": "2025-12-31"}
    )

    campaign = Campaign.objects.get(title="某市民族团结进步创建")
    assert confirmed.url == reverse("plan_import:plan", args=[campaign.pk])
    assert campaign.starts_on == dt.date(2024, 4, 1)
    assert {
        t.number: [(r.unit.code, r.role) for r in t.responsibilities.order_by("order")]
        for t in campaign.tasks.all()
    } == {
        1: [("xuanchuanbu", "lead"), ("zuzhibu", "co")],
        2: [("xuanchuanbu", "lead"), ("zuzhibu", "co")],
        3: [("minzongwei", "lead"), ("tuanshiwei", "co"), ("jiaoyuju", "co")],
    }
    assert "plan_import_draft" not in as_office.session


def test_assigning_without_ticking_a_task_or_without_a_lead_says_what_to_do(as_office):
    upload_open_plan(as_office)
    zuzhi = Unit.objects.get(code="zuzhibu")

    as_office.post(reverse("plan_import:preview_assign"), {"op": "assign", "lead": zuzhi.pk})
    html = as_office.get(reverse("plan_import:preview")).content.decode()
    assert "请先勾选要指定责任单位的任务，再点击按钮。" in html

    as_office.post(reverse("plan_import:preview_assign"), {"op": "assign", "tasks": ["0"], "co": [zuzhi.pk]})
    html = as_office.get(reverse("plan_import:preview")).content.decode()
    assert "请选择一个牵头单位：每项任务有且只有一个牵头单位。" in html
    assert 'data-testid="assigned"' not in html


def test_one_tasks_own_page_assigns_it_and_clearing_restores_the_plans_units(as_office):
    upload_open_plan(as_office)
    minzong, jiaoyu = Unit.objects.get(code="minzongwei"), Unit.objects.get(code="jiaoyuju")

    opened = as_office.post(reverse("plan_import:preview_assign"), {"edit": "2", "starts_on": "2024-04-01"})
    assert opened.url == reverse("plan_import:preview_task", args=[2])
    page = as_office.get(opened.url).content.decode()
    assert "方案原文列明的单位：市民宗委、团市委、市教育局" in page
    assert f'<option value="{minzong.pk}" selected>' in page

    as_office.post(
        reverse("plan_import:preview_assign"),
        {"from": "task", "op": "assign", "tasks": ["2"], "lead": jiaoyu.pk, "co": [minzong.pk]},
    )
    html = as_office.get(reverse("plan_import:preview")).content.decode()
    assert html.count('data-testid="assigned"') == 1
    assert 'value="2024-04-01"' in html  # the date typed before opening the task's page is kept

    as_office.post(reverse("plan_import:preview_assign"), {"from": "task", "op": "clear", "tasks": ["2"]})
    html = as_office.get(reverse("plan_import:preview")).content.decode()
    assert "任务3已恢复为方案原文中的责任单位。" in html
    assert 'data-testid="assigned"' not in html


@pytest.mark.parametrize(
    ("path", "lit"),
    [("/plan/import/tasks/1/", "方案管理"), ("/plan/import/plans/", "方案管理"), ("/plan/", "实施方案")],
)
def test_a_page_lights_only_the_nav_item_it_belongs_to(office_user, path, lit):
    from campaign.nav import nav_items
    from units.access import get_access

    active = [item["label"] for item in nav_items(get_access(office_user), path) if item["active"]]

    assert active == [lit]
