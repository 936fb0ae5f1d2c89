"""The reporting pages: 本季度报送, the report form, past reports; the review queue, report page and reopening."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import CaptureQueriesContext
from PIL import Image

from campaign.models import ReportingPeriod
from reports import services
from reports.models import Evidence, PeriodReopening, ProgressReport
from tests.factories import UnitFactory, fill_url, make_report, metric, task
from units.models import Membership

S = ProgressReport.State


def form_data(**overrides) -> dict:
    return {
        "progress": "",
        "problems": "",
        "next_steps": "",
        "progress_status": "on_track",
        "version": "",
    } | overrides


def row(body: str, number: int) -> str:
    match = re.search(rf'<tr data-task="{number}">(.*?)</tr>', body, re.S)
    assert match, f"no row for task {number}"
    return match.group(1)


@pytest.fixture
def previous_period(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


# ---------------------------------------------------------------- 本季度报送


@time_machine.travel(dt.datetime(2025, 12, 1, 10, 0), tick=False)
def test_period_page_lists_the_units_tasks_with_state_light_and_count_to_do(
    as_liaison_a, open_period, unit_a
):
    make_report(period=open_period, unit=unit_a, task=3, state=S.DRAFT)
    make_report(period=open_period, unit=unit_a, task=4, state=S.SUBMITTED)
    make_report(period=open_period, unit=unit_a, task=5, state=S.RETURNED)
    make_report(period=open_period, unit=unit_a, task=6, state=S.APPROVED)

    body = as_liaison_a.get("/reports/").content.decode()

    assert "本季度报送 · 市委宣传部" in body
    assert "data-period-label" not in body and "2025年第四季度" in body
    assert "2026年1月10日" in body
    assert 'data-testid="todo-count">6<' in body  # 8 tasks, 2 in (submitted, approved)
    assert re.findall(r'<tr data-task="(\d+)">', body) == ["2", "3", "4", "5", "6", "7", "8", "10"]
    assert "草稿" in row(body, 3) and "light-grey" in row(body, 3)
    assert "已报送" in row(body, 4) and "light-green" in row(body, 4)
    assert "退回未重报" in row(body, 5) and "light-red" in row(body, 5)
    assert "退回原因：请补充佐证材料。" in row(body, 5)
    # One status column: the light says it; no second badge repeats it (issue 13, point 9).
    assert "提示</th>" not in body
    assert row(body, 4).count("已报送</span>") == 1 and row(body, 3).count("草稿</span>") == 1
    assert "已通过" in row(body, 6) and "查看" in row(body, 6)
    assert "未填写" in row(body, 2) and ">填写<" in row(body, 2)
    assert "draft" not in body and "submitted" not in body.replace('name="action" value="submit"', "")


@time_machine.travel(dt.datetime(2026, 1, 8, 10, 0), tick=False)
def test_period_page_turns_yellow_near_the_due_date(as_liaison_a, open_period):
    body = as_liaison_a.get("/reports/").content.decode()

    assert "light-yellow" in row(body, 2) and "即将截止" in row(body, 2)


@time_machine.travel(dt.datetime(2026, 1, 20, 10, 0), tick=False)
def test_period_page_turns_red_after_the_due_date(as_liaison_a, open_period):
    body = as_liaison_a.get("/reports/").content.decode()

    assert "light-red" in row(body, 2) and "逾期未报" in row(body, 2)


def test_period_page_uses_a_fixed_number_of_queries(
    client, open_period, unit_a, liaison_a, liaison_b, unit_b
):
    client.force_login(liaison_b)
    for n in (1, 2):
        make_report(period=open_period, unit=unit_b, task=n, state=S.DRAFT)
    with CaptureQueriesContext(__import__("django.db").db.connection) as few:
        client.get("/reports/")
    for n in range(3, 29):
        make_report(period=open_period, unit=unit_b, task=n, state=S.SUBMITTED)
    for n in (3, 4, 5):
        make_report(period=open_period, unit=unit_a, task=n, state=S.SUBMITTED)

    with CaptureQueriesContext(__import__("django.db").db.connection) as many:
        client.get("/reports/")

    assert len(many) == len(few)


# ---------------------------------------------------------------- the report form


def test_form_shows_the_task_text_and_targets_beside_it(as_liaison_a, open_period, unit_a):
    body = as_liaison_a.get(fill_url(open_period, unit_a, 8)).content.decode()

    assert "8. " in body and task(8).title in body
    assert task(8).text[:30] in body
    assert "量化目标" in body and "市、县(市、区)党委常委会、政府常务会" in body
    assert "研究民族工作会议 · 本季度新增（次）" in body and "宣传资料 · 本季度新增（份）" in body
    assert 'data-confirm="确认报送任务8的报告吗？' in body
    assert 'name="viewport"' in body


def test_saving_a_draft_creates_the_report_and_keeps_the_values(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 8),
        form_data(
            progress="召开常委会会议研究民族工作。", **{f"metric_{metric('meetings').pk}": "2"}, action="save"
        ),
    )

    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert (report.state, report.progress, report.version) == (S.DRAFT, "召开常委会会议研究民族工作。", 1)
    assert report.metric_values.get().value == 2
    body = as_liaison_a.get(response["Location"]).content.decode()
    assert "草稿已保存。" in body
    assert "召开常委会会议研究民族工作。</textarea>" in body
    assert 'name="version" value="1"' in body


def test_submitting_from_the_form_saves_and_submits(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3), form_data(progress="开展宣讲5场。", action="submit")
    )

    assert response.status_code == 302
    assert response["Location"] == f"/reports/?unit={unit_a.pk}&period={open_period.pk}"
    assert ProgressReport.objects.get().state == S.SUBMITTED
    assert "任务3的报告已报送，等待创建办审核。" in as_liaison_a.get(response["Location"]).content.decode()


def test_empty_submission_is_refused_but_the_draft_is_kept(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3), form_data(problems="经费不足", action="submit")
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "草稿已保存，但未能报送：“工作进展”还没有填写，不能报送。" in body
    assert "经费不足</textarea>" in body
    report = ProgressReport.objects.get()
    assert (report.state, report.problems) == (S.DRAFT, "经费不足")


def test_negative_metric_is_refused_and_the_text_stays_on_screen(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        form_data(progress="我写了很多内容", **{f"metric_{metric('boards').pk}": "-5"}, action="save"),
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "“展板”不能为负数，请填写 0 或正数。" in body
    assert "我写了很多内容</textarea>" in body
    assert ProgressReport.objects.count() == 0


def test_non_numeric_metric_is_refused(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3), form_data(progress="x", **{f"metric_{metric('boards').pk}": "很多"})
    )

    assert response.status_code == 400
    assert "“展板”应填写数字，如 120。" in response.content.decode()


def test_exe_renamed_pdf_in_the_form_is_refused_and_nothing_is_lost(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        form_data(
            progress="重要内容", evidence_file=SimpleUploadedFile("总结.pdf", b"MZ\x90\x00" + b"\0" * 64)
        ),
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "文件“总结.pdf”不是允许的类型（按文件内容识别，与扩展名无关）" in body
    assert "重要内容</textarea>" in body
    assert ProgressReport.objects.count() == 0 and Evidence.objects.count() == 0


def test_photo_is_attached_from_the_form(as_liaison_a, open_period, unit_a):
    out = io.BytesIO()
    Image.new("RGB", (100, 80), "green").save(out, format="PNG")

    as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        form_data(
            progress="有照片",
            evidence_file=SimpleUploadedFile("现场.png", out.getvalue()),
            evidence_caption="活动现场",
        ),
    )

    evidence = Evidence.objects.get()
    assert (evidence.caption, evidence.content_type) == ("活动现场", "image/png")
    body = as_liaison_a.get(fill_url(open_period, unit_a, 3)).content.decode()
    assert f'src="/reports/evidence/{evidence.pk}/thumb/"' in body


def test_stale_version_keeps_the_users_text_on_screen_and_shows_the_other_save(
    as_liaison_a, open_period, unit_a, liaison_a
):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="v1"
    )
    services.report_save_draft(report=report, by=liaison_a, version=1, progress="别人先保存的内容")

    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3), form_data(progress="我正在写的长篇内容", version="1", action="save")
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "该报告已被他人修改（王宣于" in body and "您的内容未丢失，请核对后再保存。" in body
    assert "我正在写的长篇内容</textarea>" in body
    assert 'data-testid="conflict"' in body and "别人先保存的内容" in body
    assert 'name="version" value="2"' in body  # the next save is made knowingly
    assert ProgressReport.objects.get().progress == "别人先保存的内容"


def test_copy_from_last_quarter_prefills_the_text_but_not_the_new_this_quarter_figures(
    as_liaison_a, open_period, previous_period, unit_a
):
    make_report(
        period=previous_period,
        unit=unit_a,
        task=3,
        state=S.APPROVED,
        progress="上季度开展宣讲10场。",
        next_steps="继续宣讲。",
        metrics={"lectures": 10},
    )

    plain = as_liaison_a.get(fill_url(open_period, unit_a, 3)).content.decode()
    copied = as_liaison_a.get(fill_url(open_period, unit_a, 3) + "?copy=1").content.decode()

    assert "复制上季度内容" in plain and "上季度开展宣讲10场。" not in plain
    assert "仅复制文字和累计类指标；本季度新增数请重新填写。" in plain
    assert "已从2025年第三季度的报告复制文字和累计类指标；本季度新增数请重新填写" in copied
    assert "上季度开展宣讲10场。</textarea>" in copied
    assert f'name="metric_{metric("lectures").pk}" value=' not in copied  # 宣讲 is a flow: starts empty
    assert ProgressReport.objects.filter(period=open_period).count() == 0


def test_returned_report_shows_the_reason_at_the_top_of_the_form(
    as_liaison_a, open_period, unit_a, liaison_a, office_user
):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="初稿"
    )
    services.report_submit(report=report, by=liaison_a)
    services.report_return(report=report, by=office_user, reason="请补充活动照片和参与人数。")

    body = as_liaison_a.get(fill_url(open_period, unit_a, 3)).content.decode()

    assert body.index('data-testid="return-reason"') < body.index('id="report-form"')
    assert "请补充活动照片和参与人数。" in body


def test_approved_report_form_redirects_to_the_read_only_page(as_liaison_a, open_period, unit_a):
    report = make_report(period=open_period, unit=unit_a, task=3, state=S.APPROVED)

    response = as_liaison_a.post(fill_url(open_period, unit_a, 3), form_data(progress="改", version="1"))

    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/"
    assert ProgressReport.objects.get().progress == "按计划推进各项工作。"


def test_closed_period_form_is_locked_and_refuses_a_post(as_liaison_a, previous_period, unit_a):
    body = as_liaison_a.get(fill_url(previous_period, unit_a, 3)).content.decode()
    response = as_liaison_a.post(fill_url(previous_period, unit_a, 3), form_data(progress="补"))

    assert "2025年第三季度已截止报送，报告已锁定。" in body
    assert 'value="submit"' not in body
    assert response.status_code == 400
    assert "如需补报或修改，请联系创建办为本单位开放补报。" in response.content.decode()
    assert ProgressReport.objects.count() == 0


def test_form_for_a_task_the_unit_does_not_carry_is_404(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.get(fill_url(open_period, unit_a, 11))

    assert response.status_code == 404
    assert "市委宣传部不是任务11的责任单位。" in response.content.decode()


def test_history_lists_past_reports_by_period(as_liaison_a, open_period, previous_period, unit_a):
    make_report(period=previous_period, unit=unit_a, task=3, state=S.APPROVED)
    make_report(
        period=previous_period, unit=unit_a, task=4, state=S.APPROVED, submitted_on=dt.date(2025, 10, 20)
    )
    make_report(period=open_period, unit=unit_a, task=3, state=S.DRAFT)

    body = as_liaison_a.get("/reports/history/").content.decode()

    assert "2025年第三季度" in body
    assert "2025年第四季度" not in body  # the open quarter is on 本季度报送
    assert body.count("已通过") == 2
    assert body.count("逾期报送") == 1


# ---------------------------------------------------------------- office pages


def test_review_queue_lists_submitted_reports_first_come_first_served(as_office, open_period, unit_a, unit_b):
    later = make_report(period=open_period, unit=unit_a, task=3, submitted_on=dt.date(2026, 1, 9))
    earlier = make_report(period=open_period, unit=unit_b, task=3, submitted_on=dt.date(2026, 1, 5))
    make_report(period=open_period, unit=unit_b, task=4, state=S.DRAFT)

    body = as_office.get("/reports/review/").content.decode()

    assert "共 2 份" in body
    assert body.index(f"/reports/{earlier.pk}/") < body.index(f"/reports/{later.pk}/")
    assert f'name="report" value="{earlier.pk}"' in body


def test_review_queue_filters_by_unit_task_state_and_text(as_office, open_period, unit_a, unit_b):
    a3 = make_report(period=open_period, unit=unit_a, task=3, progress="举办民族团结知识竞赛")
    b3 = make_report(period=open_period, unit=unit_b, task=3)
    b4 = make_report(period=open_period, unit=unit_b, task=4, state=S.APPROVED)

    def ids(query):
        return set(
            map(
                int,
                re.findall(
                    r'href="/reports/(\d+)/"', as_office.get(f"/reports/review/?{query}").content.decode()
                ),
            )
        )

    assert ids(f"unit={unit_b.pk}") == {b3.pk}
    assert ids(f"task={task(3).pk}&state=all") == {a3.pk, b3.pk}
    assert ids("state=approved") == {b4.pk}
    assert ids("q=知识竞赛") == {a3.pk}
    assert ids(f"period={open_period.pk}&unit={unit_a.pk}&state=returned") == set()


def test_review_queue_is_paginated(as_office, open_period, unit_b):
    extra = [UnitFactory() for _ in range(2)]
    for n in range(1, 30):
        make_report(period=open_period, unit=unit_b, task=n)
    for unit in extra:
        for n in range(1, 15):
            make_report(period=open_period, unit=unit, task=n)

    first = as_office.get("/reports/review/").content.decode()
    second = as_office.get("/reports/review/?page=2").content.decode()

    assert "第 1 / 2 页，共 57 条" in first
    assert len(re.findall(r'name="report" value=', first)) == 50
    assert len(re.findall(r'name="report" value=', second)) == 7


def test_review_queue_uses_a_fixed_number_of_queries(client, office_user, open_period, unit_a, unit_b):
    client.force_login(office_user)
    make_report(period=open_period, unit=unit_a, task=3, metrics={"boards": 5})
    from django.db import connection

    with CaptureQueriesContext(connection) as few:
        client.get("/reports/review/")
    for n in range(1, 29):
        make_report(period=open_period, unit=unit_b, task=n, metrics={"boards": 5, "materials": 100})

    with CaptureQueriesContext(connection) as many:
        client.get("/reports/review/")

    assert len(many) == len(few)


def test_report_page_shows_history_metrics_and_flags_unusual_values(
    as_office, open_period, unit_a, liaison_a
):
    report = services.report_create(
        period=open_period,
        unit=unit_a,
        task=task(3),
        by=liaison_a,
        progress="开展宣讲",
        metrics={metric("lectures").pk: 300, metric("boards").pk: 12},
    )
    services.report_submit(report=report, by=liaison_a)

    body = as_office.get(f"/reports/{report.pk}/").content.decode()

    assert "请核实：" in body and "宣讲/讲座 300场次（常见上限 200）" in body
    assert body.count("需核实") == 1
    assert "<strong>创建</strong> · 王宣" in body and "<strong>报送</strong> · 王宣" in body
    assert 'data-testid="review-box"' in body


def test_office_approves_from_the_report_page(as_office, open_period, unit_a):
    report = make_report(period=open_period, unit=unit_a, task=3)

    response = as_office.post(f"/reports/{report.pk}/approve/")

    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == S.APPROVED
    assert "已通过：市委宣传部 任务3。" in as_office.get(response["Location"]).content.decode()


def test_return_without_reason_is_refused_on_the_page(as_office, open_period, unit_a):
    report = make_report(period=open_period, unit=unit_a, task=3)

    response = as_office.post(f"/reports/{report.pk}/return/", {"reason": "  "})

    assert response.status_code == 400
    assert "退回时必须填写退回原因，以便联络员知道如何修改。" in response.content.decode()
    report.refresh_from_db()
    assert report.state == S.SUBMITTED


def test_office_returns_with_a_reason_from_the_page(as_office, open_period, unit_a):
    report = make_report(period=open_period, unit=unit_a, task=3)

    response = as_office.post(f"/reports/{report.pk}/return/", {"reason": "请补充照片"})

    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.return_reason) == (S.RETURNED, "请补充照片")


def test_office_approves_several_at_once(as_office, open_period, unit_a, unit_b):
    a = make_report(period=open_period, unit=unit_a, task=3)
    b = make_report(period=open_period, unit=unit_b, task=3)
    c = make_report(period=open_period, unit=unit_b, task=4, state=S.DRAFT)

    response = as_office.post("/reports/review/approve/", {"report": [a.pk, b.pk, c.pk]})

    assert response.status_code == 302
    assert dict(ProgressReport.objects.values_list("pk", "state")) == {
        a.pk: S.APPROVED,
        b.pk: S.APPROVED,
        c.pk: S.DRAFT,
    }
    assert (
        "已批量通过 2 份报告。另有 1 份不是待审核状态，已跳过。"
        in as_office.get("/reports/review/").content.decode()
    )


def test_office_reopens_a_closed_period_for_a_unit_and_the_liaison_can_file(
    as_office, client, previous_period, unit_a, liaison_a
):
    page = as_office.get("/reports/reopen/").content.decode()
    response = as_office.post(
        "/reports/reopen/",
        {"period": previous_period.pk, "unit": unit_a.pk, "reason": "漏报补报", "until": ""},
    )

    assert "确定为所选单位开放补报吗？" in page
    assert response.status_code == 302
    assert PeriodReopening.objects.get().reason == "漏报补报"
    client.force_login(liaison_a)
    body = client.get(f"/reports/?period={previous_period.pk}").content.decode()
    assert "创建办为本单位开放补报" in body
    assert (
        client.post(fill_url(previous_period, unit_a, 3), form_data(progress="补报内容")).status_code == 302
    )


def test_reopen_without_reason_is_refused(as_office, previous_period, unit_a):
    response = as_office.post(
        "/reports/reopen/", {"period": previous_period.pk, "unit": unit_a.pk, "reason": ""}
    )

    assert response.status_code == 400
    assert "请填写开放补报的原因。" in response.content.decode()
    assert PeriodReopening.objects.count() == 0


def test_liaison_of_two_units_switches_between_them(client, open_period, unit_a, unit_b, liaison_a):
    Membership.objects.create(user=liaison_a, unit=unit_b, role=Membership.Role.LIAISON)
    client.force_login(liaison_a)

    body = client.get(f"/reports/?unit={unit_b.pk}").content.decode()

    assert "本季度报送 · 崆峒区" in body
    assert len(re.findall(r'<tr data-task="', body)) == 29
