"""Asking for compiled documents: validation, permissions, the API and the pages (jobs not run here)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile

from campaign.errors import DomainError, PermissionDenied
from campaign.models import ReportingPeriod
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request, compilation_retry
from reports.dashboards.views import compilation_new_url
from tasks.models import Task
from tests.campaign.test_decorators import assert_error_page
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def q3(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


def done_compilation(**fields) -> Compilation:
    compilation = Compilation.objects.create(state=Compilation.State.DONE, progress=100, **fields)
    compilation.file.save("c.pdf", ContentFile(b"%PDF-1.7 test"), save=True)
    return compilation


# ------------------------------------------------------------------------------------------ service


def test_office_request_creates_a_queued_row_and_queues_the_job_on_commit(
    office_user, q3, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        compilation, created = compilation_request(
            kind="quarterly", format="pdf", period=q3.pk, by=office_user
        )

    assert created
    assert compilation.state == Compilation.State.QUEUED
    assert compilation.period == q3 and compilation.campaign == q3.campaign
    assert compilation.requested_by == office_user
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "weekly", "format": "pdf"}, "未知的汇编类型“weekly”"),
        ({"kind": "quarterly", "format": "odt"}, "未知的文件格式“odt”"),
        ({"kind": "quarterly", "format": "pdf"}, "季度汇总需选择报告期。"),
        ({"kind": "quarterly", "format": "pdf", "period": 9999}, "报告期不存在（编号 9999）"),
        ({"kind": "quarterly", "format": "pdf", "period": "abc"}, "报告期编号无效"),
        ({"kind": "unit", "format": "pdf", "unit": 9999}, "单位不存在"),
        ({"kind": "task", "format": "docx"}, "任务报告需选择任务（可再选报告期，不选则含全部报告期）。"),
        ({"kind": "annual", "format": "docx", "year": 2019}, "2019年没有报告期"),
        ({"kind": "annual", "format": "docx", "year": "明年"}, "年度无效"),
        ({"kind": "ledger", "format": "xlsx", "unit": 4}, "台账不按单位筛选"),
    ],
)
def test_bad_requests_are_refused_in_chinese_and_nothing_is_queued(
    office_user, q3, django_capture_on_commit_callbacks, kwargs, message
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DomainError) as error:
        compilation_request(**kwargs, by=office_user)

    assert message in error.value.message
    assert error.value.http_status == 400
    assert callbacks == []
    assert not Compilation.objects.exists()


def test_liaison_may_compile_only_their_own_units_report(
    liaison_a, unit_a, unit_b, q3, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        own, created = compilation_request(kind="unit", format="pdf", unit=unit_a, by=liaison_a)
    assert created and own.unit == unit_a and len(callbacks) == 1

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied) as error:
        compilation_request(kind="unit", format="pdf", unit=unit_b, by=liaison_a)
    assert "只能汇编本单位（市委宣传部）的单位报告" in error.value.message
    assert callbacks == []

    with pytest.raises(PermissionDenied):
        compilation_request(kind="quarterly", format="xlsx", period=q3, by=liaison_a)
    with pytest.raises(PermissionDenied) as error:
        compilation_request(kind="ledger", format="xlsx", by=liaison_a)
    assert error.value.message == "联络员只能汇编本单位的单位报告。"
    assert Compilation.objects.count() == 1


def test_leadership_may_compile_anything(leadership_user, q3, unit_b):
    compilation, created = compilation_request(
        kind="unit", format="docx", unit=unit_b, period=q3, by=leadership_user
    )

    assert created and compilation.scope_label == "崆峒区 · 2024年第三季度"


def test_same_request_while_one_is_in_flight_returns_the_existing_one(office_user, leadership_user, q3):
    first, created_first = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)
    second, created_second = compilation_request(
        kind="quarterly", format="pdf", period=q3, by=leadership_user
    )

    assert created_first and not created_second
    assert second.pk == first.pk
    other, created_other = compilation_request(kind="quarterly", format="xlsx", period=q3, by=office_user)
    assert created_other and other.pk != first.pk


def test_retry_requeues_a_failed_compilation_only(office_user, q3, django_capture_on_commit_callbacks):
    failed = Compilation.objects.create(
        kind="quarterly", format="pdf", period=q3, state=Compilation.State.FAILED, error="boom", attempts=2
    )
    with django_capture_on_commit_callbacks() as callbacks:
        compilation_retry(compilation=failed, by=office_user)

    failed.refresh_from_db()
    assert failed.state == Compilation.State.QUEUED and failed.error == "" and failed.attempts == 0
    assert len(callbacks) == 1
    with pytest.raises(DomainError) as error:
        compilation_retry(compilation=failed, by=office_user)
    assert "只有失败的汇编可以重试" in error.value.message


def test_liaison_cannot_retry_another_units_compilation(liaison_a, unit_b):
    failed = Compilation.objects.create(
        kind="unit", format="pdf", unit=unit_b, state=Compilation.State.FAILED
    )

    with pytest.raises(PermissionDenied):
        compilation_retry(compilation=failed, by=liaison_a)


# ---------------------------------------------------------------------------------------------- API


def test_api_post_returns_201_with_id_and_state(
    api_client, office_user, q3, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(office_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            "/api/v1/compilations/", {"kind": "quarterly", "format": "xlsx", "period": q3.pk}, format="json"
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == Compilation.objects.get().pk
    assert body["state"] == "queued" and body["progress"] == 0 and body["download_url"] is None
    assert body["kind_label"] == "季度汇总"
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "payload, status, fragment",
    [
        ({"kind": "monthly", "format": "pdf", "period": 1}, 400, "未知的汇编类型"),
        ({"kind": "quarterly", "format": "pptx", "period": 1}, 400, "未知的文件格式"),
        ({"kind": "quarterly", "format": "pdf", "period": 424242}, 400, "报告期不存在"),
        ({"format": "pdf", "period": 1}, 400, "必须提供汇编类型"),
        ({"kind": "unit", "format": "pdf", "unit": "kongtong"}, 400, "单位编号无效"),
    ],
)
def test_api_rejects_bad_input_with_a_chinese_message_and_queues_nothing(
    api_client, office_user, q3, payload, status, fragment, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(office_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post("/api/v1/compilations/", payload, format="json")

    assert response.status_code == status
    assert fragment in response.content.decode()
    assert callbacks == [] and not Compilation.objects.exists()


def test_api_liaison_asking_for_another_units_report_gets_403(
    api_client, liaison_a, unit_b, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(liaison_a)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            "/api/v1/compilations/", {"kind": "unit", "format": "pdf", "unit": unit_b.pk}
        )

    assert response.status_code == 403
    assert "只能汇编本单位" in response.json()["detail"]
    assert callbacks == [] and not Compilation.objects.exists()


def test_api_anonymous_gets_401(api_client, plan):
    assert api_client.post("/api/v1/compilations/", {"kind": "ledger", "format": "xlsx"}).status_code == 401


def test_api_list_is_own_units_for_liaisons_and_everything_for_office(
    api_client, office_user, leadership_user, liaison_a, unit_a, unit_b, q3
):
    mine = Compilation.objects.create(kind="unit", format="pdf", unit=unit_a)
    Compilation.objects.create(kind="unit", format="pdf", unit=unit_b)
    Compilation.objects.create(kind="quarterly", format="pdf", period=q3, automatic=True)

    api_client.force_authenticate(liaison_a)
    assert [c["id"] for c in api_client.get("/api/v1/compilations/").json()["results"]] == [mine.pk]
    for user in (office_user, leadership_user):
        api_client.force_authenticate(user)
        assert api_client.get("/api/v1/compilations/").json()["count"] == 3


def test_api_detail_gives_progress_and_download_url_when_done(api_client, office_user, liaison_b, q3):
    running = Compilation.objects.create(
        kind="quarterly",
        format="pdf",
        period=q3,
        state=Compilation.State.RUNNING,
        progress=40,
        stage="排版页面",
    )
    done = done_compilation(kind="quarterly", format="xlsx", period=q3)
    api_client.force_authenticate(office_user)

    body = api_client.get(f"/api/v1/compilations/{running.pk}/").json()
    assert (body["state"], body["progress"], body["stage"], body["download_url"]) == (
        "running",
        40,
        "排版页面",
        None,
    )
    body = api_client.get(f"/api/v1/compilations/{done.pk}/").json()
    assert body["download_url"] == f"http://testserver/api/v1/compilations/{done.pk}/download/"

    api_client.force_authenticate(liaison_b)
    assert api_client.get(f"/api/v1/compilations/{done.pk}/").status_code == 404


def test_a_token_client_downloads_the_file_at_download_url_and_another_units_token_cannot(
    office_user, liaison_b, q3
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    done = done_compilation(kind="quarterly", format="xlsx", period=q3)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=office_user).key}")

    url = client.get(f"/api/v1/compilations/{done.pk}/").json()["download_url"]
    response = client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == done.file.open("rb").read()
    assert response["Content-Disposition"].startswith("attachment")

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=liaison_b).key}")
    assert other.get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)


def test_api_download_of_an_unfinished_compilation_says_why(api_client, office_user, q3):
    running = Compilation.objects.create(kind="quarterly", format="pdf", period=q3, state="running")
    api_client.force_authenticate(office_user)

    response = api_client.get(f"/api/v1/compilations/{running.pk}/download/")

    assert (response.status_code, response.json()["code"]) == (409, "not_ready")


# -------------------------------------------------------------------------------------------- pages


def test_form_is_prefilled_from_the_query_string(as_office, q3):
    body = as_office.get(f"/compilations/new/?kind=quarterly&period={q3.pk}&format=xlsx").content.decode()

    assert '<option value="quarterly" selected>季度汇总</option>' in body
    assert f'<option value="{q3.pk}" selected>2024年第三季度（已截止）</option>' in body
    assert 'id="id_format_xlsx" value="xlsx" checked' in body


def test_posting_the_form_creates_and_redirects_to_the_progress_page(
    as_office, q3, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = as_office.post(
            "/compilations/new/", {"kind": "quarterly", "format": "pdf", "period": q3.pk}
        )

    compilation = Compilation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/compilations/{compilation.pk}/"
    assert len(callbacks) == 1


def test_form_errors_are_shown_and_nothing_is_created(as_office, q3):
    response = as_office.post("/compilations/new/", {"kind": "quarterly", "format": "pdf"})

    body = response.content.decode()
    assert response.status_code == 400
    # One message, said once (it read "季度汇总需要指定报告期。季度汇总需选择报告期。").
    assert (
        '<div class="alert alert-danger" role="alert" data-testid="form-error">季度汇总需选择报告期。</div>'
        in body
    )
    assert body.count("需选择报告期") == 2  # the alert and the kind's help under the select
    assert "季度汇总：季度汇总" not in body
    assert not Compilation.objects.exists()


def test_a_missing_scope_is_one_message_in_service_api_and_page(office_user, api_client, q3):
    with pytest.raises(DomainError) as error:
        compilation_request(kind="annual", format="docx", by=office_user)
    assert error.value.message == "年度工作总结需选择年度。"

    api_client.force_authenticate(office_user)
    response = api_client.post("/api/v1/compilations/", {"kind": "quarterly", "format": "pdf"}, format="json")
    assert response.status_code == 400
    assert "季度汇总需选择报告期。" in str(response.json())
    assert "需要指定" not in str(response.json())


def test_liaison_form_offers_only_the_unit_report_of_their_unit(as_liaison_a, unit_a, unit_b):
    body = as_liaison_a.get("/compilations/new/").content.decode()

    assert '<option value="unit" selected>单位报告</option>' in body
    assert "季度汇总</option>" not in body
    assert f'<option value="{unit_a.pk}" selected>市委宣传部</option>' in body
    assert "崆峒区" not in body

    response = as_liaison_a.post("/compilations/new/", {"kind": "unit", "format": "pdf", "unit": unit_b.pk})
    assert response.status_code == 403
    assert "只能汇编本单位（市委宣传部）的单位报告" in response.content.decode()
    assert not Compilation.objects.exists()


def test_progress_fragment_polls_while_running_and_stops_when_done(as_office, q3):
    compilation = Compilation.objects.create(
        kind="quarterly",
        format="pdf",
        period=q3,
        state=Compilation.State.RUNNING,
        progress=35,
        stage="排版页面",
    )
    url = f"/compilations/{compilation.pk}/progress/"

    running = as_office.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in running
    assert 'aria-valuenow="35"' in running and "排版页面" in running

    compilation.state, compilation.progress = Compilation.State.DONE, 100
    compilation.save()
    compilation.file.save("x.pdf", ContentFile(b"%PDF"), save=True)
    done = as_office.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert f'href="/compilations/{compilation.pk}/download/"' in done


def test_failed_compilation_shows_why_and_a_retry_button(as_office, q3, django_capture_on_commit_callbacks):
    failed = Compilation.objects.create(
        kind="quarterly",
        format="pdf",
        period=q3,
        state=Compilation.State.FAILED,
        error="生成超过时间限制（600秒）",
    )

    body = as_office.get(f"/compilations/{failed.pk}/").content.decode()
    assert "生成失败：</strong>生成超过时间限制（600秒）" in body
    assert f'action="/compilations/{failed.pk}/retry/"' in body
    assert 'hx-trigger="every 1s"' not in body

    with django_capture_on_commit_callbacks() as callbacks:
        response = as_office.post(f"/compilations/{failed.pk}/retry/")
    assert response.status_code == 302 and len(callbacks) == 1
    failed.refresh_from_db()
    assert failed.state == Compilation.State.QUEUED


def test_download_checks_permission(client, as_office, liaison_a, liaison_b, unit_a, q3):
    unit_report = done_compilation(kind="unit", format="pdf", unit=unit_a)
    summary = done_compilation(kind="quarterly", format="pdf", period=q3)

    response = as_office.get(f"/compilations/{summary.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    assert "attachment; filename*=utf-8''" in response["Content-Disposition"]

    client.force_login(liaison_a)
    assert client.get(f"/compilations/{unit_report.pk}/download/").status_code == 200
    assert client.get(f"/compilations/{summary.pk}/download/").status_code == 404
    client.force_login(liaison_b)
    assert client.get(f"/compilations/{unit_report.pk}/download/").status_code == 404
    assert client.get(f"/compilations/{unit_report.pk}/").status_code == 404


def test_an_unknown_or_anothers_compilation_is_the_chinese_404_page(client, liaison_a, liaison_b, unit_a):
    unit_report = done_compilation(kind="unit", format="pdf", unit=unit_a)
    message = "该汇编不存在，或您无权查看。"

    client.force_login(liaison_a)
    for url in ["/compilations/999999/", "/compilations/999999/progress/", "/compilations/999999/download/"]:
        assert_error_page(client.get(url), 404, message=message, nav="汇编下载")
    assert_error_page(client.post("/compilations/999999/retry/"), 404, message=message, nav="汇编下载")
    client.force_login(liaison_b)
    for url in [f"/compilations/{unit_report.pk}/", f"/compilations/{unit_report.pk}/download/"]:
        assert_error_page(client.get(url), 404, message=message, nav="汇编下载")


def test_a_download_without_a_file_says_why_on_the_error_page(as_office, q3):
    running = Compilation.objects.create(kind="quarterly", format="pdf", period=q3, state="running")
    purged = Compilation.objects.create(kind="quarterly", format="xlsx", period=q3, state="done")
    missing = Compilation.objects.create(
        kind="quarterly", format="docx", period=q3, state="done", file="compilations/gone.docx"
    )

    assert_error_page(
        as_office.get(f"/compilations/{running.pk}/download/"), 409, message="文件尚未生成完成。", nav="看板"
    )
    assert_error_page(
        as_office.get(f"/compilations/{purged.pk}/download/"),
        410,
        message="文件已超过保存期限被清理，请重新生成。",
        nav="看板",
    )
    assert_error_page(
        as_office.get(f"/compilations/{missing.pk}/download/"),
        410,
        message="文件已不存在，请重新生成。",
        nav="看板",
    )


def test_someone_without_a_role_gets_the_chinese_403_page_on_the_form(client, plan):
    client.force_login(make_user("visitor_t"))

    response = client.get("/compilations/new/")

    assert_error_page(response, 403, message="您没有汇编文件的权限。", nav="汇编下载")


def test_list_filters_and_paginates(as_office, q3, unit_a):
    for _ in range(25):
        Compilation.objects.create(kind="quarterly", format="pdf", period=q3, state=Compilation.State.DONE)
    Compilation.objects.create(kind="unit", format="docx", unit=unit_a, state=Compilation.State.FAILED)

    first = as_office.get("/compilations/").content.decode()
    assert first.count("<tr data-id=") == 20 and "第 1 / 2 页，共 26 条" in first
    failed_only = as_office.get("/compilations/?state=failed").content.decode()
    assert failed_only.count("<tr data-id=") == 1 and "市委宣传部 单位报告" in failed_only
    assert as_office.get("/compilations/?kind=unit&format=pdf").content.decode().count("<tr data-id=") == 0


def test_list_shows_liaisons_only_their_units_compilations(as_liaison_a, unit_a, unit_b, q3):
    Compilation.objects.create(kind="unit", format="pdf", unit=unit_a)
    Compilation.objects.create(kind="unit", format="pdf", unit=unit_b)
    Compilation.objects.create(kind="quarterly", format="pdf", period=q3)

    body = as_liaison_a.get("/compilations/").content.decode()
    assert body.count("<tr data-id=") == 1 and "市委宣传部 单位报告" in body


@pytest.mark.parametrize("url", ["/compilations/", "/compilations/new/", "/compilations/1/"])
def test_anonymous_is_sent_to_login(client, plan, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_every_task_can_be_chosen_in_the_form(as_office):
    body = as_office.get("/compilations/new/?kind=task").content.decode()
    assert body.count('name="task"') == 1
    assert all(f"{t.number}. {t.title}" in body for t in Task.objects.all())


def test_a_ledger_too_long_for_pdf_or_word_is_refused_but_excel_is_fine(office_user, q3, unit_a, monkeypatch):
    from reports.compilations import services as compilations
    from tests.factories import make_report

    make_report(period=q3, unit=unit_a, task=3)
    make_report(period=q3, unit=unit_a, task=4)
    monkeypatch.setattr(compilations, "LEDGER_DOCUMENT_MAX_ROWS", 1)

    with pytest.raises(DomainError) as error:
        compilation_request(kind="ledger", format="pdf", period=q3, by=office_user)
    assert error.value.message == "台账共2条，超过 PDF/Word 可读的上限（1条），请选择 Excel 格式或缩小范围。"
    assert compilation_request(kind="ledger", format="xlsx", period=q3, by=office_user)[1]


# ----------------------------------------------------------------- a download link for a built file


def built(finished_at: dt.datetime, **fields) -> Compilation:
    """A finished file, as a build leaves it (done, a file, finished at ``finished_at``)."""
    compilation = done_compilation(**fields)
    Compilation.objects.filter(pk=compilation.pk).update(started_at=finished_at, finished_at=finished_at)
    compilation.refresh_from_db()
    return compilation


AT = dt.datetime(2024, 10, 12, 9, 30, tzinfo=dt.UTC)  # 17:30 in Asia/Shanghai


def test_the_dashboards_download_link_opens_the_file_already_built_with_a_message(as_office, q3):
    older = built(AT - dt.timedelta(days=3), kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)
    newest = built(AT, kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)
    built(AT, kind="quarterly", format="xlsx", period=q3, campaign=q3.campaign)  # another format
    built(AT, kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, with_appendix=True)

    response = as_office.get(compilation_new_url(q3))  # the dashboards' button: no format, so PDF

    assert response.status_code == 302 and response["Location"] == f"/compilations/{newest.pk}/"
    body = as_office.get(response["Location"]).content.decode()
    assert "该文件已于2024年10月12日 17:30生成，可直接下载；如需包含最新数据，请点击“重新生成”。" in body
    assert f'href="/compilations/{newest.pk}/download/" data-testid="download"' in body
    assert 'data-testid="regenerate">重新生成</button>' in body
    assert older.pk != newest.pk


def test_the_automatic_summary_of_a_closed_period_is_the_file_a_download_link_finds(as_leader, q3):
    automatic = built(AT, kind="quarterly", format="xlsx", period=q3, campaign=q3.campaign, automatic=True)

    response = as_leader.get(f"/compilations/new/?kind=quarterly&format=xlsx&period={q3.pk}")

    assert response.status_code == 302 and response["Location"] == f"/compilations/{automatic.pk}/"


def test_regenerate_posts_the_same_request_and_builds_a_new_file(
    as_office, q3, django_capture_on_commit_callbacks
):
    existing = built(AT, kind="quarterly", format="docx", period=q3, campaign=q3.campaign, with_appendix=True)
    body = as_office.get(f"/compilations/{existing.pk}/").content.decode()
    form = body[body.index('<form method="post" action="/compilations/new/"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    fields.pop("csrfmiddlewaretoken")
    assert fields == {"kind": "quarterly", "format": "docx", "period": str(q3.pk), "with_appendix": "1"}

    with django_capture_on_commit_callbacks() as callbacks:
        response = as_office.post("/compilations/new/", fields)

    fresh = Compilation.objects.exclude(pk=existing.pk).get()
    assert response["Location"] == f"/compilations/{fresh.pk}/" and len(callbacks) == 1
    assert (fresh.kind, fresh.format, fresh.period, fresh.with_appendix, fresh.state) == (
        "quarterly",
        "docx",
        q3,
        True,
        Compilation.State.QUEUED,
    )


@pytest.mark.parametrize(
    "existing, query",
    [
        ({"state": "failed"}, "kind=quarterly&format=pdf&period={period}"),
        ({"state": "running"}, "kind=quarterly&format=pdf&period={period}"),
        ({"purged": True}, "kind=quarterly&format=pdf&period={period}"),
        ({}, "kind=quarterly&format=pdf&period={period}&fresh=1"),  # 生成新的… asks for the form
        ({}, "kind=quarterly&format=pdf"),  # not the whole request
        ({}, "format=pdf&period={period}"),
        ({}, "kind=quarterly&format=pdf&period={period}&with_appendix=1"),  # another document
        ({}, "kind=quarterly&format=pdf&period=999999"),  # a bad request: the form says why on submit
    ],
)
def test_the_form_opens_when_there_is_no_built_file_of_exactly_that_request(as_office, q3, existing, query):
    compilation = built(AT, kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)
    if existing.get("state"):
        Compilation.objects.filter(pk=compilation.pk).update(state=existing["state"])
    if existing.get("purged"):
        Compilation.objects.filter(pk=compilation.pk).update(file="", purged_at=AT)

    response = as_office.get(f"/compilations/new/?{query.format(period=q3.pk)}")

    assert response.status_code == 200
    assert 'data-testid="submit"' in response.content.decode()


def test_a_liaison_is_led_to_their_units_file_only(client, liaison_a, liaison_b, unit_a, q3):
    campaign = q3.campaign
    mine = built(AT, kind="unit", format="pdf", unit=unit_a, campaign=campaign)
    built(AT, kind="quarterly", format="pdf", period=q3, campaign=campaign)

    client.force_login(liaison_a)
    assert client.get(f"/compilations/new/?kind=unit&unit={unit_a.pk}")["Location"] == (
        f"/compilations/{mine.pk}/"
    )
    # The bare form (its kind and unit filled in for them) is the form, not a redirect.
    assert client.get("/compilations/new/").status_code == 200
    # Another unit's file, or a kind they may not ask for, is never revealed.
    assert client.get(f"/compilations/new/?kind=quarterly&period={q3.pk}").status_code == 200
    client.force_login(liaison_b)
    assert client.get(f"/compilations/new/?kind=unit&unit={unit_a.pk}").status_code == 200


# ------------------------------------------------------------------------------------- the dossier kind
# A kind registered by another app (assessment's 申报材料, reports.compilations.kinds): the same request,
# identity, permission and list rules, with its own scope parameter ``system``.


@pytest.fixture
def indicator_system(plan):
    from tests.assessment.conftest import build_small_system

    return build_small_system(plan)


def test_api_office_asks_for_the_dossier_of_a_system(
    api_client, office_user, indicator_system, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(office_user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(
            "/api/v1/compilations/",
            {"kind": "dossier", "format": "zip", "system": indicator_system.pk},
            format="json",
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["kind_label"], body["format"]) == ("dossier", "申报材料", "zip")
    assert body["subject_id"] == indicator_system.pk
    assert body["scope_label"] == "《测试指标体系》" and body["title"] == "《测试指标体系》 申报材料"
    assert len(callbacks) == 1
    compilation = Compilation.objects.get()
    assert compilation.campaign == indicator_system.campaign and compilation.period is None


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"kind": "dossier", "format": "pdf"}, "申报材料需选择指标体系"),
        ({"kind": "dossier", "format": "pdf", "system": 999999}, "指标体系不存在（编号 999999）"),
        ({"kind": "dossier", "format": "pdf", "system": "abc"}, "指标体系编号无效：abc"),
        (
            {"kind": "dossier", "format": "xlsx", "system": "{system}"},
            "申报材料不提供Excel格式，可选：pdf（PDF）、zip（ZIP 压缩包）",
        ),
        (
            {"kind": "dossier", "format": "pdf", "system": "{system}", "period": "{period}"},
            "申报材料不按报告期筛选",
        ),
        (
            {"kind": "quarterly", "format": "pdf", "period": "{period}", "system": "{system}"},
            "季度汇总不按指标体系筛选",
        ),
        ({"kind": "quarterly", "format": "zip", "period": "{period}"}, "季度汇总不提供ZIP 压缩包格式"),
    ],
)
def test_api_bad_dossier_requests_are_a_clear_400(
    api_client, office_user, indicator_system, q3, payload, fragment
):
    api_client.force_authenticate(office_user)
    values = {
        k: v.format(system=indicator_system.pk, period=q3.pk) if isinstance(v, str) else v
        for k, v in payload.items()
    }

    response = api_client.post("/api/v1/compilations/", values, format="json")

    assert response.status_code == 400, response.json()
    assert fragment in response.json()["detail"]
    assert not Compilation.objects.exists()


def test_a_system_without_indicators_is_refused(api_client, office_user, plan):
    from assessment.models import IndicatorSystem

    empty = IndicatorSystem.objects.create(campaign=plan, name="空体系")
    api_client.force_authenticate(office_user)
    response = api_client.post(
        "/api/v1/compilations/", {"kind": "dossier", "format": "pdf", "system": empty.pk}
    )
    assert response.status_code == 400 and "还没有指标" in response.json()["detail"]


def test_identical_dossier_requests_share_one_row_and_another_system_or_format_does_not(
    office_user, indicator_system, plan
):
    from tests.assessment.conftest import build_small_system

    first, created = compilation_request(
        kind="dossier", format="pdf", extra_scope={"system": indicator_system.pk}, by=office_user
    )
    again, created_again = compilation_request(
        kind="dossier", format="pdf", extra_scope={"system": str(indicator_system.pk)}, by=office_user
    )
    assert created and not created_again and again.pk == first.pk

    other = build_small_system(plan, name="另一体系")
    second, created_other = compilation_request(
        kind="dossier", format="pdf", extra_scope={"system": other.pk}, by=office_user
    )
    zipped, created_zip = compilation_request(
        kind="dossier", format="zip", extra_scope={"system": indicator_system.pk}, by=office_user
    )
    assert created_other and created_zip and len({first.pk, second.pk, zipped.pk}) == 3


def test_api_leadership_may_not_ask_for_a_dossier_but_lists_and_downloads_it(
    api_client, office_user, leadership_user, indicator_system
):
    done = done_compilation(
        kind="dossier",
        format="pdf",
        subject_id=indicator_system.pk,
        campaign=indicator_system.campaign,
        requested_by=office_user,
    )
    api_client.force_authenticate(leadership_user)

    refused = api_client.post(
        "/api/v1/compilations/", {"kind": "dossier", "format": "pdf", "system": indicator_system.pk}
    )
    assert refused.status_code == 403 and "只有创建办可以生成申报材料" in refused.json()["detail"]
    listed = api_client.get("/api/v1/compilations/?kind=dossier").json()["results"]
    assert [(c["id"], c["scope_label"]) for c in listed] == [(done.pk, "《测试指标体系》")]
    download = api_client.get(listed[0]["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.7 test"
    assert download["Content-Type"] == "application/pdf"
    # A failed one is not theirs to rebuild either.
    Compilation.objects.filter(pk=done.pk).update(state=Compilation.State.FAILED)
    assert api_client.post(f"/api/v1/compilations/{done.pk}/retry/").status_code == 403


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b"])
def test_api_unit_people_neither_ask_for_nor_see_dossiers(
    request, api_client, office_user, indicator_system, who
):
    done = done_compilation(
        kind="dossier",
        format="zip",
        subject_id=indicator_system.pk,
        campaign=indicator_system.campaign,
        requested_by=office_user,
    )
    api_client.force_authenticate(request.getfixturevalue(who))

    refused = api_client.post("/api/v1/compilations/", {"kind": "dossier", "format": "pdf", "system": 999999})
    assert refused.status_code == 403  # refused before the id is looked at: nothing learnt about systems
    assert api_client.get("/api/v1/compilations/").json()["count"] == 0
    assert api_client.get(f"/api/v1/compilations/{done.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/compilations/{done.pk}/download/").status_code == 404


def test_api_anonymous_cannot_ask_for_a_dossier(api_client, indicator_system):
    response = api_client.post(
        "/api/v1/compilations/", {"kind": "dossier", "format": "pdf", "system": indicator_system.pk}
    )
    assert response.status_code == 401


def test_the_list_page_shows_dossiers_with_their_system_in_a_fixed_number_of_queries(
    as_office, office_user, indicator_system, plan, django_assert_max_num_queries
):
    from tests.assessment.conftest import build_small_system

    other = build_small_system(plan, name="另一体系")
    for system in (indicator_system, other, indicator_system):
        done_compilation(
            kind="dossier", format="zip", subject_id=system.pk, campaign=plan, requested_by=office_user
        )

    with django_assert_max_num_queries(12):
        page = as_office.get("/compilations/").content.decode()
    assert page.count("《测试指标体系》 申报材料") == 2 and page.count("《另一体系》 申报材料") == 1
    assert as_office.get("/compilations/?kind=dossier").content.decode().count("申报材料</a>") == 3


def test_the_form_offers_the_dossier_to_the_office_only(as_office, client, leadership_user, indicator_system):
    form = as_office.get("/compilations/new/").content.decode()
    assert '<option value="dossier">申报材料</option>' in form and "测试指标体系" in form
    client.force_login(leadership_user)
    assert 'value="dossier"' not in client.get("/compilations/new/").content.decode()


def test_the_form_builds_a_dossier_and_ignores_other_kinds_selects(as_office, indicator_system, q3):
    response = as_office.post(
        "/compilations/new/",
        {"kind": "dossier", "format": "pdf", "system": indicator_system.pk, "period": q3.pk},
    )
    compilation = Compilation.objects.get()
    assert (
        response.status_code == 302
        and compilation.subject_id == indicator_system.pk
        and compilation.period is None
    )
