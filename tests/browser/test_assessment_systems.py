"""The office in a real browser: imports the example table through the preview, sees the tree add up,
generates suggestions and confirms one in place (HTMX), adds a task by hand with the search; the pages pass
axe-core and fit a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from assessment.models import IndicatorLink, IndicatorSystem
from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE = Path(settings.BASE_DIR) / "fixtures" / "indicators-example.txt"


def test_office_imports_maps_and_the_pages_read_well(page, phone_page, live_server, office_user):
    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/assessment/")
    assert_accessible(page)
    page.click("[data-testid=import-link]")
    page.set_input_files("#id_document", str(EXAMPLE))
    page.fill("#id_name", "示范州（市）测评指标（浏览器导入）")
    page.click("form[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=preview-tree]")
    assert "末级指标合计 100 分，与满分 100 分一致" in page.inner_text("[data-testid=preview-total]")
    assert not IndicatorSystem.objects.exists()  # the preview wrote nothing
    assert_accessible(page)
    screenshot(page, "assessment-import-preview")
    page.click("[data-testid=confirm-import]")
    page.wait_for_selector("[data-testid=tree]")
    system = IndicatorSystem.objects.get()
    assert page.inner_text("[data-testid=sum]") == "100"
    assert page.locator("tr[data-level='3']").count() == 50
    assert_accessible(page)
    screenshot(page, "assessment-tree")

    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/mapping/")
    page.click("[data-testid=suggest]")
    page.wait_for_selector("[data-testid=link]")
    leaf = page.locator("section[data-testid=leaf]", has_text="流动人口输出地")
    leaf.locator("[data-state=suggested][data-task='20'] [data-testid=confirm]").click()
    leaf.locator("[data-state=confirmed][data-task='20']").wait_for()
    assert IndicatorLink.objects.get(indicator__code="5.3.1", task__number=20).state == "confirmed"

    funds = page.locator("section[data-testid=leaf]", has_text="创建工作经费列入财政预算")
    funds.locator("summary").click()
    funds.locator("input[type=search]").fill("党建")
    expect(funds.locator("select[name=task] option")).to_have_count(
        2
    )  # the search's answer replaced the list
    funds.locator("select[name=task]").select_option(label="2. 开展“党建+创建”行动")
    funds.locator("[data-testid=add-link-button]").click()
    page.locator("section[data-testid=leaf]", has_text="创建工作经费列入财政预算").locator(
        "[data-state=confirmed][data-task='2']"
    ).wait_for()
    assert_accessible(page)
    screenshot(page, "assessment-mapping")

    login(phone_page, live_server, "office_t")
    for path in (f"/assessment/systems/{system.pk}/", f"/assessment/systems/{system.pk}/mapping/"):
        phone_page.goto(f"{live_server.url}{path}")
        assert_no_sideways_scroll(phone_page)
    screenshot(phone_page, "assessment-mapping-phone")
