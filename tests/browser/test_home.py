"""A liaison and the office log in through the browser and see their home pages in Chinese."""

import pytest

from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_liaison_logs_in_and_sees_the_units_tasks(page, live_server, liaison_b, open_period):
    login(page, live_server, "liaison_b")

    assert page.locator("h1").inner_text() == "平凉市创建全国民族团结进步示范市"
    assert page.get_by_text("崆峒区 承担的任务").is_visible()
    assert page.get_by_text("共 29 项").is_visible()
    assert "联络员" in page.get_by_test_id("whoami").inner_text()
    assert page.get_by_test_id("period-banner").inner_text().startswith("当前报告期：2025年第四季度")
    screenshot(page, "home-liaison")


def test_office_logs_in_and_sees_the_plan_overview(page, live_server, office_user):
    login(page, live_server, "office_t")

    assert page.get_by_test_id("task-count").inner_text() == "29"
    assert page.get_by_text("（八）大力开展“八进”活动").is_visible()
    assert page.locator(".timeline .phase").count() == 3
    assert "创建办" in page.get_by_test_id("whoami").inner_text()
    screenshot(page, "home-office")


def test_wrong_password_is_told_in_chinese(page, live_server, liaison_a):
    login(page, live_server, "liaison_a", password="wrong-password")

    assert page.get_by_role("alert").inner_text() == "用户名或密码不正确，请重新输入。"


def test_plan_reads_on_a_phone(phone_page, live_server, liaison_a):
    login(phone_page, live_server, "liaison_a")
    phone_page.goto(f"{live_server.url}/plan/tasks/26/")

    assert phone_page.locator("h1").inner_text() == "26. 进学校"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # no sideways scrolling on a phone
    screenshot(phone_page, "task-phone")
