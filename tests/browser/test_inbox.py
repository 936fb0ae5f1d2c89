"""A liaison sees the bell count, opens the inbox, and follows the link to the report that was returned."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from notifications.services import notify_report_returned
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.factories import make_report

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def returned(period, unit, task: int, reason: str):
    """A returned report (made directly) and the notification the return raises."""
    report = make_report(period=period, unit=unit, task=task, state="returned")
    report.return_reason = reason
    report.save()
    notify_report_returned(report=report, reason=reason)
    return report


def test_liaison_follows_the_bell_to_the_returned_report(
    page, live_server, liaison_a, liaison_b, open_period, unit_a
):
    report = returned(open_period, unit_a, 3, "请补充活动照片和参与人数。")
    returned(open_period, unit_a, 4, "参与人数与附件不一致。")

    login(page, live_server, "liaison_a")

    bell = page.get_by_test_id("bell")
    assert page.get_by_test_id("bell-count").inner_text() == "2"
    assert bell.get_attribute("aria-label") == "消息，2 条未读"
    screenshot(page, "inbox-1-home")
    page.locator("nav.navbar").screenshot(path=str(SCREENSHOTS / "inbox-1-navbar.png"))

    bell.click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    items = page.get_by_test_id("notification")
    assert items.count() == 2
    first = items.nth(1)  # newest first: the report on task 3 is the older one
    assert "【报告退回】市委宣传部“任务3”进展报告被退回" in first.inner_text()
    assert "退回原因：请补充活动照片和参与人数。" in first.inner_text()
    screenshot(page, "inbox-2-list")

    first.get_by_test_id("notification-link").click()
    page.wait_for_url(re.compile(rf"/reports/{report.pk}/$"))
    assert page.url == f"{live_server.url}/reports/{report.pk}/"
    assert page.get_by_text("请补充活动照片和参与人数。").is_visible()
    # The message was marked read on the way: one unread left.
    assert page.get_by_test_id("bell-count").inner_text() == "1"
    screenshot(page, "inbox-3-report")

    # Marking the other read in the inbox (HTMX) empties the bell without a reload.
    page.get_by_test_id("bell").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    page.get_by_role("button", name="标为已读", exact=True).click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    expect(page.locator(".notif-unread")).to_have_count(0)
    expect(page.locator("#unread-pill")).to_have_text("")
    screenshot(page, "inbox-4-all-read")

    # E-mail off in the settings.
    page.get_by_role("link", name="提醒设置").click()
    page.get_by_label("通过电子邮件接收提醒").uncheck()
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("alert").inner_text().startswith("提醒设置已保存。")
    assert not page.get_by_label("通过电子邮件接收提醒").is_checked()
    screenshot(page, "inbox-5-settings")


def test_another_liaison_sees_none_of_it(page, live_server, liaison_a, liaison_b, open_period, unit_a):
    returned(open_period, unit_a, 3, "请补充。")

    login(page, live_server, "liaison_b")

    assert page.get_by_test_id("bell-count").count() == 0
    page.goto(f"{live_server.url}/notifications/")
    assert page.get_by_test_id("inbox-empty").is_visible()


def test_office_follows_the_digest_to_the_bulletin_and_downloads_it(
    page, live_server, office_user, liaison_a, open_period
):
    import datetime as dt

    from notifications.services import reminders_send_daily

    reminders_send_daily(today=open_period.due_on + dt.timedelta(days=1))

    login(page, live_server, "office_t")
    page.get_by_test_id("bell").click()
    digest = page.get_by_test_id("notification").filter(has_text="每日汇总")
    assert "【每日汇总】2025年第四季度报送情况" in digest.inner_text()
    screenshot(page, "bulletin-1-inbox")

    digest.get_by_test_id("notification-link").click()
    page.wait_for_url(re.compile(r"/notifications/bulletin/\?period=\d+$"))
    assert (
        page.get_by_test_id("bulletin-title").inner_text() == "关于2025年第四季度工作进展逾期未报送情况的通报"
    )
    assert page.get_by_test_id("bulletin-row").count() == 55
    screenshot(page, "bulletin-2-page")

    with page.expect_download() as info:
        page.get_by_test_id("download-pdf").click()
    download = info.value
    assert download.suggested_filename == "2025年第四季度逾期未报送情况通报.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
