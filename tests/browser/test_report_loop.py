"""The core loop in a real browser: a liaison files a report with a figure and a photo and submits; the office
returns it with a reason; the liaison sees the reason, fixes and resubmits; the office approves."""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageDraw

from reports.models import ProgressReport
from tasks.models import Metric
from tests.browser.conftest import SCREENSHOTS, login, screenshot

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_photo(path) -> str:
    image = Image.new("RGB", (800, 600), (166, 27, 41))
    draw = ImageDraw.Draw(image)
    draw.rectangle([100, 100, 700, 500], outline=(255, 255, 255), width=12)
    draw.ellipse([300, 200, 500, 400], fill=(255, 215, 0))
    image.save(path, format="PNG")
    return str(path)


def relogin(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    login(page, live_server, username)


def test_liaison_files_office_returns_liaison_fixes_office_approves(
    page, live_server, liaison_a, office_user, open_period, tmp_path
):
    lectures = Metric.objects.get(code="lectures")
    photo = make_photo(tmp_path / "宣讲现场.png")
    page.on("dialog", lambda dialog: dialog.accept())

    # The liaison opens 本季度报送 and starts task 3.
    login(page, live_server, "liaison_a")
    page.goto(f"{live_server.url}/reports/")
    assert page.locator("h1").inner_text() == "本季度报送 · 市委宣传部"
    assert page.get_by_test_id("todo-count").inner_text() == "8"
    screenshot(page, "report-01-period-liaison")
    page.locator('tr[data-task="3"] a', has_text="填写").click()
    assert page.get_by_test_id("task-aside").is_visible()

    # Fills the text, a figure and a photo, and submits (confirming the dialog).
    page.fill("#id_progress", "组织开展“民族团结进步宣传月”活动，举办专题宣讲5场，覆盖干部群众800余人次。")
    page.fill("#id_next_steps", "下一步将继续深化宣传教育。")
    page.fill(f"#id_metric_{lectures.pk}", "5")
    page.set_input_files("#id_evidence_file", photo)
    page.fill("#id_evidence_caption", "宣讲现场")
    screenshot(page, "report-02-form-filled")
    page.get_by_role("button", name="报送", exact=True).click()
    page.wait_for_url("**/reports/?unit=*")
    assert "任务3的报告已报送，等待创建办审核。" in page.content()
    report = ProgressReport.objects.get()
    assert report.state == "submitted"
    assert report.evidence.get().caption == "宣讲现场"
    assert report.metric_values.get().value == 5

    # The office finds it in the queue and returns it with a reason.
    relogin(page, live_server, "office_t")
    page.goto(f"{live_server.url}/reports/review/")
    screenshot(page, "report-03-review-queue")
    page.get_by_role("link", name="3. ").first.click()
    assert page.locator("img[alt='宣讲现场']").is_visible()
    screenshot(page, "report-04-office-report-page")
    page.fill("#id_reason", "请补充宣讲活动的具体时间和地点。")
    page.get_by_role("button", name="退回").click()
    page.wait_for_url("**/reports/review/")
    report.refresh_from_db()
    assert report.state == "returned"

    # The liaison sees the reason, fixes the text and resubmits.
    relogin(page, live_server, "liaison_a")
    page.goto(f"{live_server.url}/reports/")
    assert "退回原因：请补充宣讲活动的具体时间和地点。" in page.locator('tr[data-task="3"]').inner_text()
    page.locator('tr[data-task="3"] a', has_text="修改").click()
    assert "请补充宣讲活动的具体时间和地点。" in page.get_by_test_id("return-reason").inner_text()
    screenshot(page, "report-05-returned-form")
    page.fill("#id_progress", "11月5日至12日在市民讲堂举办专题宣讲5场，覆盖干部群众800余人次。")
    page.get_by_role("button", name="报送", exact=True).click()
    page.wait_for_url("**/reports/?unit=*")
    report.refresh_from_db()
    assert report.state == "submitted"

    # The office approves it (several at once, with the checkbox).
    relogin(page, live_server, "office_t")
    page.goto(f"{live_server.url}/reports/review/")
    page.check(f'input[name=report][value="{report.pk}"]')
    page.get_by_test_id("approve-many").click()
    page.wait_for_load_state("networkidle")
    assert "已批量通过 1 份报告。" in page.content()
    report.refresh_from_db()
    assert report.state == "approved"
    page.goto(f"{live_server.url}/reports/{report.pk}/")
    history = page.get_by_test_id("history").inner_text()
    for step in ("创建", "报送", "退回", "审核通过"):
        assert step in history
    screenshot(page, "report-06-approved-history")
    assert (SCREENSHOTS / "report-06-approved-history.png").exists()


def test_report_form_fits_a_phone(phone_page, live_server, liaison_a, open_period):
    login(phone_page, live_server, "liaison_a")
    phone_page.goto(f"{live_server.url}/reports/")
    phone_page.locator('tr[data-task="3"] a', has_text="填写").click()

    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    assert phone_page.locator("#id_progress").is_visible()
    screenshot(phone_page, "report-07-form-phone")
