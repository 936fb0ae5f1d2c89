"""Asking for compiled documents: validation, permissions, the API and the pages (jobs not run here)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from campaign.errors import DomainError, PermissionDenied
from campaign.models import ReportingPeriod
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request, compilation_retry
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
        ({"kind": "quarterly", "format": "pdf"}, "季度汇总需要指定报告期"),
        ({"kind": "quarterly", "format": "pdf", "period": 9999}, "报告期不存在（编号 9999）"),
        ({"kind": "quarterly", "format": "pdf", "period": "abc"}, "报告期编号无效"),
        ({"kind": "unit", "format": "pdf", "unit": 9999}, "单位不存在"),
        ({"kind": "task", "format": "docx"}, "任务报告需要指定任务"),
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

    assert response.status_code == 400
    assert "季度汇总需要指定报告期" in response.content.decode()
    assert not Compilation.objects.exists()


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
