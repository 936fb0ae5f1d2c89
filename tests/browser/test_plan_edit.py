"""The office, in a browser, edits a plan's targets and phases: adds a target on a new metric (searching the
units in scope), sees it and its history row on the task page, deletes a target after the confirmation, adds
and deletes a phase; leadership then reads the plan with no way to change it."""

from __future__ import annotations

import pytest

from campaign.models import Phase
from tasks.models import PlanChange, Target, Task
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_adds_and_deletes_targets_and_phases_and_the_history_shows_them(
    page, live_server, office_user, leadership_user, plan
):
    login(page, live_server, "office_t")
    task = Task.objects.get(campaign=plan, number=14)

    # Add a target on a metric that does not exist yet, for two counties each.
    page.goto(f"{live_server.url}/plan/import/tasks/{task.pk}/")
    page.get_by_test_id("add-target").click()
    page.get_by_label("新指标名称").fill("民族团结示范家庭")
    page.get_by_label("计量单位", exact=True).fill("户")
    page.select_option("#id_new_metric_aggregation", label="存量：截至本季度累计，取最新值")
    page.get_by_label("目标值").fill("30")
    page.select_option("#id_scope", label="列明单位各自")
    page.get_by_label("筛选范围内单位").fill("崆峒")
    page.locator("#target-units [data-unit-option]:not([hidden])").get_by_text("崆峒区").click()
    page.get_by_label("筛选范围内单位").fill("华亭")
    page.locator("#target-units [data-unit-option]:not([hidden])").get_by_text("华亭市").click()
    page.select_option("#id_period_kind", label="截至日期")
    page.get_by_label("截至日期（“截至日期”类必填）").fill("2025-12-31")
    screenshot(page, "plan-edit-target-form")
    page.get_by_test_id("save-target").click()
    page.wait_for_load_state("networkidle")

    assert page.get_by_text(
        "已添加量化目标：崆峒区、华亭市：民族团结示范家庭不少于30户，到2025年底。"
    ).is_visible()
    added = Target.objects.get(task=task, metric__name="民族团结示范家庭")
    assert sorted(added.units.values_list("code", flat=True)) == ["huating", "kongtong"]
    assert (
        page.get_by_test_id(f"target-{added.pk}").inner_text().startswith("崆峒区、华亭市 · 民族团结示范家庭")
    )
    history = page.locator("#history [data-testid=change]")
    texts = [history.nth(i).inner_text() for i in range(history.count())]
    assert any("新增量化目标" in t and "民族团结示范家庭不少于30户" in t and "张主任" in t for t in texts), (
        texts
    )
    assert any("新建指标" in t and "民族团结示范家庭（户" in t for t in texts), texts
    screenshot(page, "plan-edit-target-added")

    # Delete the province-level target: the browser asks first; dismissing keeps it, accepting deletes it.
    provincial = Target.objects.get(task=task, metric__name="省级互嵌式示范点")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id(f"delete-target-{provincial.pk}").click()
    assert Target.objects.filter(pk=provincial.pk).exists()
    questions = []

    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_test_id(f"delete-target-{provincial.pk}").click()
    page.wait_for_load_state("networkidle")
    assert questions and questions[0].startswith("删除量化目标“全市 · 省级互嵌式示范点 不少于7个”？")
    assert page.get_by_text("已删除量化目标：全市：省级互嵌式示范点不少于7个，到2025年底。").is_visible()
    assert not Target.objects.filter(pk=provincial.pk).exists()

    # Add a phase, then delete the first one.
    page.goto(f"{live_server.url}/plan/import/plans/{plan.pk}/")
    page.get_by_test_id("add-phase").click()
    page.get_by_label("阶段名称").fill("总结提升阶段")
    page.get_by_label("开始日期").fill("2024-01-01")
    page.get_by_label("结束日期").fill("2024-06-30")
    page.get_by_role("button", name="新增阶段").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("phase-3").inner_text().startswith("3\t总结提升阶段")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("phase-1").get_by_role("button", name="删除").click()
    page.wait_for_load_state("networkidle")
    assert list(Phase.objects.filter(campaign=plan).order_by("order").values_list("name", flat=True)) == [
        "组织实施阶段",
        "总结提升阶段",
        "申报验收阶段",
    ]
    screenshot(page, "plan-edit-phases")
    assert list(PlanChange.objects.order_by("id").values_list("field", flat=True)) == [
        "新建指标",
        "新增量化目标",
        "删除量化目标",
        "新增阶段",
        "删除阶段",
    ]

    # Leadership reads the plan and its history, with no button that changes anything.
    page.context.clear_cookies()
    login(page, live_server, leadership_user.username)
    page.goto(f"{live_server.url}/plan/import/plans/{plan.pk}/")
    assert page.get_by_test_id("add-phase").count() == 0
    assert page.locator("main form, .container form").filter(has_text="删除").count() == 0
    page.get_by_test_id("task-read-14").locator("summary").click()
    assert "民族团结示范家庭" in page.get_by_test_id("task-read-14").inner_text()
    screenshot(page, "plan-edit-leader-reads")
