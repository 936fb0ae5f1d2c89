"""The office, in a browser: upload a plan with tasks left open, assign units in the preview (search, several
tasks at once), confirm, activate the new plan (the old one is archived), change a task's lead, and see the
change in the task's history."""

from __future__ import annotations

import pytest

from campaign.models import Campaign
from tasks.models import PlanChange, Responsibility
from tests.browser.conftest import screenshot
from tests.tasks.test_plan_edit import OPEN_PLAN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_imports_assigns_units_activates_and_edits_a_lead(
    page, live_server, office_user, plan, tmp_path
):
    from tests.browser.conftest import login

    login(page, live_server, "office_t")
    source = tmp_path / "某市方案.txt"
    source.write_text(OPEN_PLAN, encoding="utf-8")

    # Upload: the preview says two tasks name no unit.
    page.goto(f"{live_server.url}/plan/import/")
    page.set_input_files("input[type=file]", str(source))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("open-count").inner_text().startswith("有 2 项任务在方案中没有列明责任单位")

    # Assign units to both open tasks at once: tick them, search the directory, pick a lead and a co unit.
    page.get_by_role("button", name="勾选所有未列明单位的任务").click()
    assert page.locator("input[name=tasks]:checked").count() == 2
    page.get_by_label("筛选牵头单位").fill("宣传")
    assert page.locator("#bulk-lead option:not([hidden])").count() == 2  # the placeholder and 市委宣传部
    page.select_option("#bulk-lead", label="市委宣传部")
    page.get_by_label("筛选配合单位").fill("组织部")
    page.locator("#bulk-co [data-unit-option]:not([hidden])").get_by_text("市委组织部").click()
    screenshot(page, "plan-import-assign")
    page.get_by_test_id("assign-selected").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("已为任务1、2指定责任单位（确认导入时写入）。").is_visible()
    assert page.get_by_test_id("assigned").count() == 2
    assert "市委宣传部" in page.get_by_test_id("task-1").inner_text()

    # Confirm: the new plan's page, waiting to be activated beside the current one.
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_load_state("networkidle")
    new = Campaign.objects.get(title="某市民族团结进步创建")
    assert page.url.split("#")[0] == f"{live_server.url}/plan/import/plans/{new.pk}/"
    assert page.get_by_test_id("plan-status").inner_text() == "待启用"
    assert page.get_by_test_id("plan-compare").is_visible()
    screenshot(page, "plan-import-new-plan")

    # Activate, after the confirmation page.
    page.get_by_test_id("activate").click()
    assert page.get_by_text("此操作不能撤销。").is_visible()
    screenshot(page, "plan-import-activate-confirm")
    page.get_by_test_id("confirm-activate").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("plan-status").inner_text() == "当前活动"
    assert Campaign.current() == new
    plan.refresh_from_db()
    assert plan.is_archived

    # Change task 1's lead: 市委组织部 leads, 市委宣传部 co-operates.
    page.get_by_test_id("plan-task-1").get_by_role("link", name="修改").click()
    page.get_by_label("筛选牵头单位").fill("组织部")
    page.select_option("#task-lead", label="市委组织部")
    page.get_by_label("筛选配合单位").fill("宣传部")
    page.locator("#task-co [data-unit-option]:not([hidden])").get_by_text("市委宣传部").click()
    page.get_by_test_id("save-units").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("lead-unit").inner_text() == "牵头单位：市委组织部"

    # The task's history shows the edit, before → after.
    changes = page.get_by_test_id("change")
    assert changes.count() == 2
    texts = [changes.nth(i).inner_text() for i in range(2)]
    assert any("牵头单位" in t and "市委宣传部" in t and "市委组织部" in t for t in texts), texts
    assert all("张主任" in t for t in texts), texts
    screenshot(page, "plan-import-task-history")
    task = new.tasks.get(number=1)
    assert [(r.unit.code, r.role) for r in Responsibility.objects.filter(task=task).order_by("order")] == [
        ("zuzhibu", "lead"),
        ("xuanchuanbu", "co"),
    ]
    assert list(
        PlanChange.objects.filter(task=task).values_list("field", "before", "after").order_by("id")
    ) == [
        ("牵头单位", "市委宣传部", "市委组织部"),
        ("配合单位", "市委组织部", "市委宣传部"),
    ]
