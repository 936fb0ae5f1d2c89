"""The dashboards in a real browser (Debian chromium via Playwright), as the office, leadership and a liaison.

Screenshots go to var/screenshots/dashboard-*.png (desktop and phone widths) to be looked at.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from pathlib import Path

import pytest
from django.conf import settings

from reports.models import ProgressReport
from tasks.models import Responsibility
from tests.conftest import PASSWORD
from tests.factories import make_report

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PAGES = [
    ("period", "/dashboard/", "报送看板"),
    ("targets", "/dashboard/targets/", "量化目标完成情况"),
    ("trends", "/dashboard/trends/", "季度趋势"),
    ("leadership", "/dashboard/leadership/", "平凉市创建全国民族团结进步示范市"),
    ("unit", "/dashboard/units/kongtong/", "崆峒区"),
]
State = ProgressReport.State


@pytest.fixture
def reports(plan, open_period):
    """Every responsibility reported in three quarters, in a spread of states decided by a stable hash."""
    periods = [plan.periods.get(year=2025, quarter=q) for q in (2, 3)] + [open_period]
    states = [State.APPROVED] * 6 + [State.SUBMITTED, State.RETURNED, State.DRAFT, None]
    for period in periods:
        for resp in Responsibility.objects.select_related("task", "unit"):
            h = zlib.crc32(f"{period.pk}-{resp.pk}".encode())
            state = states[h % len(states)] if period != open_period else [State.SUBMITTED, None, None][h % 3]
            if state is None:
                continue
            late = h % 7 == 0
            submitted_on = period.due_on + dt.timedelta(days=2) if late else None
            metrics = {"demo_sites": 1 + h % 3} if resp.task.number >= 22 else {"lectures": 2 + h % 5}
            make_report(
                period=period,
                unit=resp.unit,
                task=resp.task,
                state=state,
                submitted_on=submitted_on,
                metrics=metrics,
            )
    return periods


def login(browser, live_server, username: str, *, width: int = 1400):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("who", "user_fixture", "username"),
    [("office", "office_user", "office_t"), ("leadership", "leadership_user", "leader_t")],
)
def test_each_dashboard_opens_for_office_and_leadership(
    request, browser, live_server, reports, who, user_fixture, username
):
    request.getfixturevalue(user_fixture)
    for width, suffix in ((1400, ""), (390, "-phone")):
        page = login(browser, live_server, username, width=width)
        for name, path, heading in PAGES:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            assert page.locator("h1").first.inner_text().startswith(heading), path
            assert page.locator(".chart svg, table").count() > 0, path
            shoot(page, f"{name}-{who}{suffix}")
        page.context.close()


def test_office_clicks_from_the_matrix_to_a_report_and_filters_by_kind(
    browser, live_server, reports, office_user, liaison_b
):
    page = login(browser, live_server, "office_t")
    page.goto(f"{live_server.url}/dashboard/")
    assert page.get_by_test_id("period-label").inner_text() == "2025年第四季度"
    overdue = page.get_by_test_id("overdue-list")
    assert overdue.locator("a[href='tel:13800000002']").count() == 1  # 崆峒区's liaison 赵崆

    page.select_option("#f-kind", "county")  # submits the form on change: the filter lands in the URL
    page.wait_for_url("**kind=county**")
    assert page.locator("tr[data-unit='kongtong']").count() == 1
    assert page.locator("tr[data-unit='xuanchuanbu']").count() == 0

    cell = page.locator("tr[data-unit='kongtong'] td.c-submitted a").first
    href = cell.get_attribute("href")
    assert href.startswith("/reports/")
    cell.click()
    page.wait_for_url(f"**{href}")


def test_a_liaison_gets_403_on_the_office_dashboards(browser, live_server, liaison_a):
    page = login(browser, live_server, "liaison_a")
    for _, path, _ in PAGES:
        assert page.goto(f"{live_server.url}{path}").status == 403, path
    nav = page.goto(f"{live_server.url}/")
    assert nav.status == 200
    assert page.locator("nav a[href='/dashboard/']").count() == 0
