"""The quick start's background builds in a real browser: with COMPILATIONS_IN_BACKGROUND on, 生成 returns at
once and the person watches the progress page until the download button appears; a dashboard's download
button for a document already built lands on that file, with 重新生成 for a fresh one.

The build runs the real quarterly PDF renderer in a thread of the live server's process. Screenshots:
var/screenshots/compilations-background-*.png.
"""

from __future__ import annotations

import os
import re

import pytest
from pypdf import PdfReader

from campaign.models import ReportingPeriod
from reports.compilations import background
from reports.compilations.models import Compilation
from reports.models import ProgressReport
from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import login, screenshot
from tests.factories import make_report
from tests.reports.compilations.test_background import shared_memory_db_reads  # noqa: F401 (a fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUILD_TIMEOUT = 180_000  # ms: a real PDF on a shared two-core machine


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


@pytest.fixture
def in_background(settings, shared_memory_db_reads):  # noqa: F811
    settings.COMPILATIONS_IN_BACKGROUND = True
    assert background.enabled()


def test_the_progress_page_is_seen_then_the_download_and_the_dashboard_button_finds_the_file(
    page, live_server, office_user, q3, in_background, tmp_path
):
    login(page, live_server, office_user.username)
    page.goto(f"{live_server.url}/compilations/new/?kind=quarterly&format=pdf&period={q3.pk}")
    assert page.locator("#id_format_pdf").is_checked()  # nothing built yet: the form
    page.click("[data-testid=submit]")

    # The request returned before the file was built: the progress bar, with its percentage.
    page.locator("[role=progressbar]").wait_for()
    assert re.fullmatch(r"\d{1,2}%", page.locator("[data-testid=percent]").inner_text())
    assert page.locator("[data-testid=progress]").get_attribute("data-state") in ("queued", "running")
    assert "已提交生成" in page.locator(".alert-success").first.inner_text()
    screenshot(page, "compilations-background-progress")
    assert_accessible(page)

    page.wait_for_selector("[data-testid=download]", timeout=BUILD_TIMEOUT)
    built = Compilation.objects.get()
    assert built.state == Compilation.State.DONE and page.url.endswith(f"/compilations/{built.pk}/")
    with page.expect_download() as info:
        page.click("[data-testid=download]")
    path = tmp_path / "summary.pdf"
    info.value.save_as(path)
    assert "2024年第三季度" in "".join(p.extract_text() for p in PdfReader(path).pages)
    screenshot(page, "compilations-background-done")

    # The period dashboard's download button: the file just built, not the form.
    page.goto(f"{live_server.url}/dashboard/?period={q3.pk}")
    page.click("[data-testid=download]")
    page.wait_for_url(f"{live_server.url}/compilations/{built.pk}/")
    message = page.locator(".alert-info").first.inner_text()
    assert re.search(r"该文件已于\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}生成，可直接下载；", message)
    assert "如需包含最新数据，请点击“重新生成”" in message
    assert page.locator("[data-testid=download]").is_visible()
    screenshot(page, "compilations-background-existing")
    assert_accessible(page)

    # 重新生成: a fresh build of the same request, watched on its own progress page.
    page.click("[data-testid=regenerate]")
    page.wait_for_url(re.compile(r"/compilations/\d+/$"))
    fresh = Compilation.objects.exclude(pk=built.pk).get()
    assert page.url.endswith(f"/compilations/{fresh.pk}/")
    assert (fresh.kind, fresh.format, fresh.period_id) == ("quarterly", "pdf", q3.pk)
    page.wait_for_selector("[data-testid=download]", timeout=BUILD_TIMEOUT)


def test_the_existing_file_page_fits_a_phone(phone_page, live_server, office_user, q3, in_background):
    built = Compilation.objects.create(
        kind="quarterly", format="xlsx", campaign=q3.campaign, period=q3, automatic=True
    )
    from reports.compilations.build import compilation_run

    assert compilation_run(compilation_id=built.pk) == "done"  # the beat's automatic summary, built
    login(phone_page, live_server, office_user.username)
    phone_page.goto(f"{live_server.url}/compilations/new/?kind=quarterly&format=xlsx&period={q3.pk}")
    phone_page.wait_for_url(f"{live_server.url}/compilations/{built.pk}/")
    assert "可直接下载" in phone_page.locator(".alert-info").first.inner_text()
    assert phone_page.locator("[data-testid=regenerate]").is_visible()
    assert_no_sideways_scroll(phone_page)
    screenshot(phone_page, "compilations-background-existing-phone")
