"""Compiled documents in a real browser (Debian chromium via Playwright): ask from the form the dashboards
link to, watch the HTMX progress fragment poll and stop, download, retry a failed one; a liaison's view.

Jobs run in-process here (as in the quick start); the worker path is in tests/integration. Screenshots go to
var/screenshots/compilations-*.png.
"""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.base import ContentFile
from openpyxl import load_workbook

from campaign.models import ReportingPeriod
from reports.compilations.models import Compilation
from reports.models import ProgressReport
from tests.browser.conftest import login, screenshot
from tests.factories import make_report

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def q3(plan, unit_a, unit_b):
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    make_report(
        period=period, unit=unit_a, task=3, state=ProgressReport.State.APPROVED, metrics={"materials": 1200}
    )
    make_report(period=period, unit=unit_b, task=26, progress="崆峒区开展民族团结进步进校园活动。")
    return period


def test_office_compiles_the_quarterly_summary_from_the_dashboard_link_and_downloads_it(
    page, live_server, office_user, q3, tmp_path
):
    login(page, live_server, office_user.username)
    page.goto(f"{live_server.url}/compilations/new/?kind=quarterly&period={q3.pk}")
    assert page.locator("#id_kind").input_value() == "quarterly"
    assert page.locator("#id_period").input_value() == str(q3.pk)
    page.check("#id_format_xlsx")
    screenshot(page, "compilations-new")

    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=download]")
    assert "已提交生成" in page.locator(".alert-success").first.inner_text()
    screenshot(page, "compilations-done")

    with page.expect_download() as info:
        page.click("[data-testid=download]")
    download = info.value
    assert download.suggested_filename == "2024年第三季度-季度汇总.xlsx"
    path = tmp_path / "summary.xlsx"
    download.save_as(path)
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["汇总", "台账", "单位报送情况", "指标完成"]
    units = [row[1] for row in workbook["台账"].iter_rows(min_row=2, values_only=True)]
    assert units == ["市委宣传部", "崆峒区"]

    page.goto(f"{live_server.url}/compilations/")
    assert page.locator("[data-testid=compilation-list] tbody tr").count() == 1
    screenshot(page, "compilations-list")


def test_progress_polls_every_second_and_stops_when_done(page, live_server, office_user, q3):
    compilation = Compilation.objects.create(
        kind="quarterly",
        format="pdf",
        period=q3,
        state=Compilation.State.RUNNING,
        progress=30,
        stage="读取报告数据",
    )
    polls: list[float] = []
    page.on("request", lambda r: polls.append(time.monotonic()) if r.url.endswith("/progress/") else None)
    login(page, live_server, office_user.username)
    page.goto(f"{live_server.url}/compilations/{compilation.pk}/")
    assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "30"
    assert page.locator("[data-testid=stage]").inner_text() == "读取报告数据"
    screenshot(page, "compilations-running")

    Compilation.objects.filter(pk=compilation.pk).update(progress=70, stage="排版页面（版式、目录与页码）")
    page.wait_for_selector("[role=progressbar][aria-valuenow='70']", timeout=5000)
    assert "排版页面" in page.locator("[data-testid=stage]").inner_text()

    compilation.refresh_from_db()
    compilation.file.save("summary.pdf", ContentFile(b"%PDF-1.7 browser"), save=False)
    compilation.state, compilation.progress, compilation.stage = Compilation.State.DONE, 100, "已完成"
    compilation.save()
    page.wait_for_selector("[data-testid=download]", timeout=5000)
    assert page.locator("[data-testid=progress]").get_attribute("data-state") == "done"
    stopped_at = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == stopped_at  # no more polling once done
    assert stopped_at >= 2


def test_failed_compilation_shows_why_and_is_retried_to_done(page, live_server, office_user, q3, unit_a):
    failed = Compilation.objects.create(
        kind="unit",
        format="xlsx",
        unit=unit_a,
        state=Compilation.State.FAILED,
        error="超过600秒仍未完成（执行进程可能已中断或超时），已标记为失败，可重试。",
    )
    login(page, live_server, office_user.username)
    page.goto(f"{live_server.url}/compilations/{failed.pk}/")
    assert "超过600秒仍未完成" in page.locator("[data-testid=error]").inner_text()
    screenshot(page, "compilations-failed")

    page.click("[data-testid=retry]")
    page.wait_for_selector("[data-testid=download]")
    failed.refresh_from_db()
    assert failed.state == Compilation.State.DONE and failed.error == ""


def test_liaison_compiles_only_their_units_report(page, live_server, liaison_a, unit_a, q3):
    login(page, live_server, liaison_a.username)
    page.goto(f"{live_server.url}/compilations/new/")
    assert page.locator("#id_kind option").all_inner_texts() == ["单位报告"]
    assert page.locator("#id_unit option").all_inner_texts() == ["市委宣传部"]
    page.check("#id_format_docx")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=download]")
    compilation = Compilation.objects.get()
    assert (compilation.kind, compilation.unit_id, compilation.requested_by_id) == (
        "unit",
        unit_a.pk,
        liaison_a.pk,
    )
    screenshot(page, "compilations-liaison")

    other = Compilation.objects.create(
        kind="quarterly", format="pdf", period=q3, state=Compilation.State.DONE
    )
    response = page.goto(f"{live_server.url}/compilations/{other.pk}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/compilations/")
    assert page.locator("[data-testid=compilation-list] tbody tr").count() == 1


def test_compilation_pages_fit_a_phone(phone_page, live_server, office_user, q3):
    login(phone_page, live_server, office_user.username)
    phone_page.goto(f"{live_server.url}/compilations/new/?kind=annual&year=2024")
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(phone_page, "compilations-new-phone")
