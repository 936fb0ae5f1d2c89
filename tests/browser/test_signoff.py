"""The unit leader's sign-off in a real browser, on a phone: a liaison of a unit that requires sign-off submits;
the unit's 分管领导 opens the queue on a phone and signs the report off (HTMX, in place); it then reaches the
office's review queue."""

from __future__ import annotations

import os

import pytest

from reports import services
from reports.models import ProgressReport
from tasks.models import Task
from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import login, screenshot
from tests.conftest import make_user
from units.models import Membership

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_signs_off_on_a_phone_and_the_report_reaches_the_office_queue(
    phone_page, page, live_server, unit_a, liaison_a, office_user, open_period
):
    unit_a.requires_signoff = True
    unit_a.save()
    leader = make_user("leader_a", surname="刘", given="分管")
    Membership.objects.create(user=leader, unit=unit_a, role=Membership.Role.LEADER)
    report = services.report_create(
        period=open_period,
        unit=unit_a,
        task=Task.objects.get(number=3),
        by=liaison_a,
        progress="组织开展民族团结进步宣传月活动，举办专题宣讲5场。",
    )
    services.report_submit(report=report, by=liaison_a)

    # The office does not see it yet.
    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/reports/review/?period={open_period.pk}")
    assert page.locator(f'tr[data-report="{report.pk}"]').count() == 0

    # The leader opens the queue on a phone.
    login(phone_page, live_server, "leader_a")
    phone_page.goto(f"{live_server.url}/reports/signoff/")
    card = phone_page.locator(f"#signoff-{report.pk}")
    assert card.is_visible()
    assert (
        "按时：以报送到创建办（分管领导审核通过）的时间计算"
        in phone_page.get_by_test_id("on-time-note").inner_text()
    )
    assert_accessible(phone_page)
    assert_no_sideways_scroll(phone_page)
    screenshot(phone_page, "signoff-01-leader-queue-phone")

    # Signs it off: the card says so in place (HTMX), without leaving the page.
    card.get_by_test_id("signoff").click()
    done = phone_page.locator(f"#signoff-{report.pk}").get_by_test_id("signoff-done")
    done.wait_for()
    assert done.inner_text() == "已签发，报告已报送到创建办。"
    assert phone_page.url.endswith("/reports/signoff/")
    assert_accessible(phone_page)
    screenshot(phone_page, "signoff-02-signed-phone")
    report.refresh_from_db()
    assert report.state == ProgressReport.State.SUBMITTED

    # It reaches the office's queue.
    page.goto(f"{live_server.url}/reports/review/?period={open_period.pk}")
    row = page.locator(f'tr[data-report="{report.pk}"]')
    assert row.is_visible()
    assert "已报送" in row.inner_text()
