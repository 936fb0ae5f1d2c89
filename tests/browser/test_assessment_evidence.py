"""A leaf's page in a real browser: the office picks a report and a file in place (HTMX), reorders them, is
refused a score without a reason and keeps what it typed, scores with one, then writes the account on the same
page (the versions stay in step); leadership reads the dashboard."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from assessment.models import EvidencePick, IndicatorAccount, ScoreEntry
from campaign.models import ReportingPeriod
from reports.models import ProgressReport
from tests.assessment.conftest import build_small_system, node
from tests.assessment.test_evidence_picks import add_file
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import login, screenshot
from tests.factories import make_report

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_picks_scores_and_writes_in_place(
    page, live_server, plan, office_user, leadership_user, unit_a
):
    system = build_small_system(plan)
    leaf = node(system, "2.1.1")
    report = make_report(
        period=ReportingPeriod.objects.get(year=2024, quarter=1),
        unit=unit_a,
        task=3,
        state=ProgressReport.State.APPROVED,
        progress="举办民族团结进步宣讲会 12 场",
    )
    photo = add_file(report, caption="宣讲会现场照片")

    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/assessment/indicators/{leaf.pk}/")
    assert "举办民族团结进步宣讲会" in page.content()
    assert_accessible(page)

    # pick the report, then its photo: the list grows in place and the buttons turn into 已入卷
    page.get_by_test_id("pick-report").first.click()
    page.get_by_test_id("pick").first.wait_for()
    page.get_by_test_id("pick-evidence").first.click()
    expect(page.get_by_test_id("pick")).to_have_count(2)
    assert page.get_by_test_id("picked").count() == 2
    items = page.get_by_test_id("pick")
    assert "任务3" in items.nth(0).inner_text() and "宣讲会现场照片" in items.nth(1).inner_text()
    page.get_by_role("button", name="上移").click()
    expect(page.get_by_test_id("pick").first).to_contain_text("宣讲会现场照片")
    assert [p.evidence_id for p in EvidencePick.objects.filter(indicator=leaf).order_by("order")] == [
        photo.pk,
        None,
    ]
    # and back by dragging the report above the photo (the list is swapped in place, the order stored)
    with page.expect_response(lambda response: "/picks/order/" in response.url) as answer:
        items.nth(1).drag_to(items.nth(0), target_position={"x": 20, "y": 2})
    assert answer.value.status == 200
    expect(page.get_by_test_id("pick").first).to_contain_text("任务3")
    assert [p.evidence_id for p in EvidencePick.objects.filter(indicator=leaf).order_by("order")] == [
        None,
        photo.pk,
    ]

    # a score below full points without a reason is refused in place; the typed score stays
    page.fill("#id_score", "18")
    page.get_by_role("button", name="保存得分").click()
    page.get_by_test_id("score-error").wait_for()
    assert "请填写评分理由" in page.get_by_test_id("score-error").inner_text()
    assert page.input_value("#id_score") == "18"
    page.fill("#id_justification", "建成宣传阵地 9 处，尚缺 1 处")
    page.get_by_role("button", name="保存得分").click()
    page.get_by_test_id("score-history").wait_for()
    assert page.get_by_test_id("current-score").inner_text() == "18"

    # the account form on the same page is still current after the score's save
    page.fill("#id_account", "全市建成民族团结进步宣传阵地 9 处。")
    page.get_by_role("button", name="保存情况说明").click()
    page.get_by_text("情况说明已保存。").wait_for()
    assert page.get_by_test_id("account-error").count() == 0
    account = IndicatorAccount.objects.get(indicator=leaf)
    assert (account.score, account.account, account.version) == (18, "全市建成民族团结进步宣传阵地 9 处。", 2)
    assert ScoreEntry.objects.filter(indicator=leaf).count() == 1
    screenshot(page, "assessment-01-indicator-office")

    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/scores/")
    assert page.get_by_test_id("total").inner_text().startswith("18")
    assert_accessible(page)
    screenshot(page, "assessment-02-scores-office")

    page.context.clear_cookies()
    login(page, live_server, "leader_t")
    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/scores/")
    assert "领导账号只能查看" in page.content()
    page.goto(f"{live_server.url}/assessment/indicators/{leaf.pk}/")
    assert page.get_by_test_id("score-form").count() == 0
    assert "全市建成民族团结进步宣传阵地 9 处。" in page.get_by_test_id("account-text").inner_text()
    screenshot(page, "assessment-03-indicator-leader")
