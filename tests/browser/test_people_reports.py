"""Issue 13 on the report pages, in a real browser at 390×844 and 1366×900: the 本季度报送 page of a 29-task
unit as cards (height measured before: 8,091 px at 390 px), a failed save's alert in the viewport, typed text
surviving an evidence delete and an expired session, the review queue and the reopen form on a phone, no
sideways scroll and no axe-core WCAG 2 A/AA violation on each page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports import services
from reports.models import ProgressReport
from tasks.models import Metric, Task
from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import login, screenshot
from tests.factories import make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 崆峒区's 本季度报送 page at 390×844 before issue 13 (measured on the old table layout).
HEIGHT_BEFORE = 8091


def photo(name: str) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "green").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue())


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.top >= 0 && r.top < window.innerHeight && r.height > 0; }""",
        selector,
    )


def check_page(page, name: str) -> None:
    assert_no_sideways_scroll(page)
    assert_accessible(page)
    screenshot(page, name)


def test_liaison_on_a_phone_cards_and_a_failed_save_in_view(phone_page, live_server, liaison_b, open_period):
    page = phone_page
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "liaison_b")
    page.goto(f"{live_server.url}/reports/")

    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\n崆峒区 本季度报送 at 390 px: before {HEIGHT_BEFORE} px, now {height} px")
    assert height < HEIGHT_BEFORE / 2
    targets = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=period-table] a.btn')]"
        ".map(a => a.getBoundingClientRect().height)"
    )
    assert len(targets) == 29 and min(targets) >= 44
    check_page(page, "h13a-01-period-phone")

    # A figure that cannot be saved: the alert is on screen, focused, and links to the field.
    page.locator('tr[data-task="3"] a', has_text="填写").click()
    lectures = Metric.objects.get(code="lectures")
    page.fill("#id_progress", "在各乡镇开展宣讲。")
    page.fill(f"#id_metric_{lectures.pk}", "3.7")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state("networkidle")
    assert in_viewport(page, "#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "只能填写整数" in page.get_by_test_id("error-summary").inner_text()
    assert page.input_value("#id_progress") == "在各乡镇开展宣讲。"
    check_page(page, "h13a-02-failed-save-phone")
    page.get_by_test_id("error-summary").get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == f"id_metric_{lectures.pk}"
    assert ProgressReport.objects.count() == 0

    page.goto(f"{live_server.url}/reports/history/")
    check_page(page, "h13a-03-history-phone")


def test_typed_text_survives_an_evidence_delete_and_an_expired_session(
    page, live_server, liaison_a, unit_a, open_period
):
    report = services.report_create(
        period=open_period,
        unit=unit_a,
        task=Task.objects.get(number=3),
        by=liaison_a,
        progress="已保存的进展",
    )
    for name in ("甲.png", "乙.png"):
        services.evidence_add_file(report=report, by=liaison_a, file=photo(name), caption=name[0])
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, live_server, "liaison_a")
    page.goto(f"{live_server.url}/reports/fill/{open_period.pk}/{unit_a.pk}/{report.task_id}/")
    check_page(page, "h13a-04-form-desktop")

    # Delete one file in place: no reload, the unsaved text stays.
    page.fill("#id_progress", "还没保存的新进展")
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="删除 甲").click()
    page.get_by_test_id("evidence-list").locator("li").nth(1).wait_for(state="detached")
    assert page.evaluate("window.__same_page") is True
    assert page.input_value("#id_progress") == "还没保存的新进展"
    assert list(report.evidence.values_list("caption", flat=True)) == ["乙"]

    # The session ends (cookie gone) before the save: after logging in, the text comes back with a notice.
    page.fill("#id_problems", "经费不足")
    page.context.clear_cookies(name="sessionid")
    assert [c["name"] for c in page.context.cookies()] == ["csrftoken"]
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "liaison_a")
    page.fill("#id_password", "test-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/reports/fill/**")
    assert page.get_by_test_id("draft-notice").is_visible()
    assert "已恢复您上次未保存的内容" in page.get_by_test_id("draft-notice").inner_text()
    assert page.input_value("#id_progress") == "还没保存的新进展"
    assert page.input_value("#id_problems") == "经费不足"
    screenshot(page, "h13a-05-restored-desktop")

    # Saved for real: the server has it, and the device forgets its copy.
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state("networkidle")
    report.refresh_from_db()
    assert (report.progress, report.problems) == ("还没保存的新进展", "经费不足")
    assert not page.get_by_test_id("draft-notice").is_visible()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('report-draft:')).length") == 0


def test_office_queue_and_reopen_on_a_phone_and_approve_and_next(
    page, phone_page, live_server, office_user, unit_a, unit_b, open_period
):
    first = make_report(period=open_period, unit=unit_a, task=3)
    second = make_report(period=open_period, unit=unit_b, task=4)
    for n in range(5, 12):
        make_report(period=open_period, unit=unit_b, task=n)

    login(phone_page, live_server, "office_t")
    phone_page.goto(f"{live_server.url}/reports/review/")
    check_page(phone_page, "h13a-06-queue-phone")
    phone_page.goto(f"{live_server.url}/reports/reopen/")
    check_page(phone_page, "h13a-07-reopen-phone")
    phone_page.goto(f"{live_server.url}/reports/{first.pk}/")
    check_page(phone_page, "h13a-08-report-phone")

    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/reports/review/?sort=submitted")
    check_page(page, "h13a-09-queue-desktop")
    page.goto(f"{live_server.url}/reports/{first.pk}/")
    page.get_by_test_id("approve-next").click()
    page.wait_for_url(f"**/reports/{second.pk}/")
    first.refresh_from_db()
    assert first.state == ProgressReport.State.APPROVED
    assert "已通过" in page.content()
    check_page(page, "h13a-10-next-report-desktop")
    page.goto(f"{live_server.url}/reports/reopen/")
    check_page(page, "h13a-11-reopen-desktop")
