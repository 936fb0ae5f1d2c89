"""Limits of compilations: how many one person may have in flight, the time limit when jobs run in-process,
and when a "running" row whose process died is failed — in-process, and with a worker whose message Redis
redelivers after the visibility timeout (the reaper and the redelivery must agree)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from campaign.errors import DomainError
from campaign.models import ReportingPeriod
from reports.compilations import build, jobs
from reports.compilations.build import compilation_run
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request, compilation_retry, in_flight_limit

pytestmark = pytest.mark.django_db


@pytest.fixture
def q3(plan) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=2024, quarter=3)


def unit_scopes(unit):
    """More distinct unit-report requests than the limit: three formats × the whole time and two quarters."""
    periods = [None, *ReportingPeriod.objects.filter(year=2024).order_by("quarter")[:2]]
    return [
        {"kind": "unit", "format": fmt, "unit": unit, "period": p}
        for p in periods
        for fmt in ("pdf", "xlsx", "docx")
    ]


def fake_render_writing(content: bytes = b"%PDF-1.7 fake"):
    def render(compilation, directory, progress):
        progress(30, "读取报告数据")
        path = directory / f"c{compilation.pk}.pdf"
        path.write_bytes(content)
        return path

    return render


# ------------------------------------------------------------------------------- in flight per person


def test_a_liaison_cannot_have_more_than_the_limit_in_flight_and_is_told_why(liaison_a, unit_a):
    limit = in_flight_limit()
    scopes = unit_scopes(unit_a)
    assert len(scopes) > limit
    for scope in scopes[:limit]:
        assert compilation_request(**scope, by=liaison_a)[1] is True

    with pytest.raises(DomainError) as refused:
        compilation_request(**scopes[limit], by=liaison_a)

    assert refused.value.http_status == 429 and refused.value.code == "too_many_in_flight"
    assert refused.value.message == (
        f"您已有{limit}份汇编正在排队或生成（每人最多同时{limit}份），请在“汇编文件”列表中等其中一份完成后再申请。"
    )
    assert Compilation.objects.filter(requested_by=liaison_a).count() == limit
    # Asking again for one already in flight still opens it (nothing new is queued) ...
    existing, created = compilation_request(**scopes[0], by=liaison_a)
    assert created is False and existing.requested_by == liaison_a
    # ... and once one has finished, there is room for another.
    Compilation.objects.filter(pk=existing.pk).update(state=Compilation.State.DONE)
    assert compilation_request(**scopes[limit], by=liaison_a)[1] is True


def test_the_limit_is_per_person_and_automatic_summaries_do_not_count(
    liaison_a, liaison_b, unit_a, unit_b, q3
):
    for scope in unit_scopes(unit_a)[: in_flight_limit()]:
        compilation_request(**scope, by=liaison_a)
    Compilation.objects.create(
        kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, automatic=True
    )

    assert compilation_request(**unit_scopes(unit_b)[0], by=liaison_b)[1] is True


def test_retrying_a_failed_compilation_counts_against_the_limit(liaison_a, unit_a):
    scopes = unit_scopes(unit_a)
    failed, _ = compilation_request(**scopes[0], by=liaison_a)
    Compilation.objects.filter(pk=failed.pk).update(state=Compilation.State.FAILED, error="x")
    for scope in scopes[1 : in_flight_limit() + 1]:
        compilation_request(**scope, by=liaison_a)

    with pytest.raises(DomainError, match="每人最多同时") as refused:
        compilation_retry(compilation=failed, by=liaison_a)
    assert refused.value.http_status == 429
    assert Compilation.objects.get(pk=failed.pk).state == Compilation.State.FAILED


def test_api_and_page_answer_429_with_the_message_past_the_limit(api_client, client, liaison_a, unit_a):
    scopes = unit_scopes(unit_a)
    api_client.force_authenticate(liaison_a)
    for scope in scopes[: in_flight_limit()]:
        payload = {"kind": "unit", "format": scope["format"], "unit": unit_a.pk}
        if scope["period"] is not None:
            payload["period"] = scope["period"].pk
        assert api_client.post("/api/v1/compilations/", payload, format="json").status_code == 201
    over = scopes[in_flight_limit()]

    response = api_client.post(
        "/api/v1/compilations/",
        {"kind": "unit", "format": over["format"], "unit": unit_a.pk, "period": over["period"].pk},
        format="json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_in_flight"
    assert "每人最多同时5份" in response.json()["detail"]

    client.force_login(liaison_a)
    page = client.post(
        "/compilations/new/",
        {"kind": "unit", "format": over["format"], "unit": unit_a.pk, "period": over["period"].pk},
    )
    assert page.status_code == 429
    assert "每人最多同时5份" in page.content.decode()
    assert Compilation.objects.count() == in_flight_limit()


# ------------------------------------------------------------------------------------ in-process runs


def test_in_process_a_build_running_past_the_time_limit_is_stopped_and_failed(q3, monkeypatch, settings):
    """No worker enforces the soft limit in-process; the run does it itself, inside the renderer."""
    settings.COMPILATION_TIME_LIMIT = 1

    def render(compilation, directory, progress):
        progress(30, "排版页面")
        time.sleep(5)  # one long step (WeasyPrint laying out a huge report) that never reports progress
        raise AssertionError("the time limit should have stopped this step")

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = Compilation.objects.create(kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)

    started = time.monotonic()
    assert jobs.compilation_build.delay(compilation.pk).get() == "failed"
    assert time.monotonic() - started < 4

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.FAILED
    assert compilation.error == "生成超过时间限制（1秒）已停止，请缩小范围后重试。"
    assert compilation.run_token is None and compilation.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_run_outside_the_main_thread_stops_at_its_next_step_past_the_time_limit(q3, monkeypatch, settings):
    """runserver serves requests in threads, where no signal arrives: the progress reporter checks the
    deadline between steps."""
    settings.COMPILATION_TIME_LIMIT = 1

    def render(compilation, directory, progress):
        progress(30, "读取报告数据")
        time.sleep(1.3)
        progress(60, "排版页面")
        raise AssertionError("progress() past the deadline should have stopped this run")

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = Compilation.objects.create(kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)
    outcome = []

    def serve():
        try:
            outcome.append(compilation_run(compilation_id=compilation.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(timeout=30)

    assert outcome == ["failed"]
    compilation.refresh_from_db()
    assert (compilation.state, compilation.error) == (
        Compilation.State.FAILED,
        "生成超过时间限制（1秒）已停止，请缩小范围后重试。",
    )


def test_a_process_told_to_exit_mid_build_fails_the_row_on_its_way_out(q3, monkeypatch):
    """gunicorn aborts a request that runs past its timeout with SystemExit in the worker; in-process the
    build is that request."""

    def render(compilation, directory, progress):
        progress(30, "排版页面")
        raise SystemExit(1)

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = Compilation.objects.create(kind="quarterly", format="pdf", period=q3, campaign=q3.campaign)

    with pytest.raises(SystemExit):
        compilation_run(compilation_id=compilation.pk)

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.FAILED
    assert (
        compilation.error
        == "生成过程中执行进程被终止（网页请求超时或服务重启），已停止。请重试；若再次失败，请缩小范围。"
    )
    assert compilation.run_token is None


def dead_run(q3, by, *, ago: dt.timedelta) -> Compilation:
    """A row whose run was killed outright (SIGKILL, OOM) ``ago``: it still says running."""
    return Compilation.objects.create(
        kind="quarterly",
        format="pdf",
        period=q3,
        campaign=q3.campaign,
        requested_by=by,
        state=Compilation.State.RUNNING,
        progress=30,
        stage="排版页面",
        attempts=1,
        run_token=uuid.uuid4(),
        started_at=timezone.now() - ago,
    )


def test_in_process_a_dead_run_does_not_block_the_same_request_once_past_the_hard_limit(
    office_user, q3, settings, django_capture_on_commit_callbacks
):
    settings.COMPILATION_TIME_LIMIT = 600
    dead = dead_run(q3, office_user, ago=dt.timedelta(seconds=600 + 61))

    with django_capture_on_commit_callbacks() as callbacks:
        fresh, created = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)

    assert created is True and fresh.pk != dead.pk and len(callbacks) == 1
    dead.refresh_from_db()
    assert dead.state == Compilation.State.FAILED
    assert dead.error == "超过600秒仍未完成（执行进程可能已中断或超时），已标记为失败，可重试。"


def test_in_process_a_run_within_the_limit_still_stands_for_the_same_request(office_user, q3, settings):
    settings.COMPILATION_TIME_LIMIT = 600
    live = dead_run(q3, office_user, ago=dt.timedelta(seconds=300))

    assert compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user) == (live, False)


def test_the_progress_page_of_a_dead_in_process_run_says_failed_not_running(
    as_office, office_user, q3, settings
):
    """No beat runs in the quick start; the page someone is watching fails the row itself."""
    settings.COMPILATION_TIME_LIMIT = 600
    dead = dead_run(q3, office_user, ago=dt.timedelta(seconds=600 + 61))

    fragment = as_office.get(f"/compilations/{dead.pk}/progress/").content.decode()
    page = as_office.get(f"/compilations/{dead.pk}/").content.decode()

    assert "超过600秒仍未完成" in fragment and "超过600秒仍未完成" in page
    assert Compilation.objects.get(pk=dead.pk).state == Compilation.State.FAILED


# ------------------------------------------------------------------- with a worker: reaper vs redelivery


@pytest.fixture
def with_worker(settings):
    """Jobs go to a worker through Redis (as in production); nothing is sent in these tests."""
    from campaign.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.COMPILATION_TIME_LIMIT = 600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600 + 60 + 60}
    yield
    app.conf.task_always_eager = previous


def test_the_settings_redeliver_a_dead_workers_job_only_after_its_hard_time_limit(settings):
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT == settings.COMPILATION_TIME_LIMIT + 60
    assert jobs.compilation_build.time_limit == settings.CELERY_TASK_TIME_LIMIT


def test_the_reaper_leaves_a_dead_workers_row_to_its_redelivery_which_finishes_it(
    with_worker, q3, office_user, monkeypatch
):
    """The whole worker died 750 s ago: its message comes back after the 720 s visibility timeout (kombu
    looks every 10 s). The reaper must not fail the row first, or the redelivered job would be skipped."""
    monkeypatch.setattr("reports.compilations.render.render", fake_render_writing())
    dead = dead_run(q3, office_user, ago=dt.timedelta(seconds=720 + 30))

    assert build.compilations_fail_stuck() == {"running": 0, "queued": 0}
    assert compilation_run(compilation_id=dead.pk) == "done"  # the redelivered message

    dead.refresh_from_db()
    assert dead.state == Compilation.State.DONE and dead.attempts == 2


def test_the_reaper_fails_a_row_whose_message_did_not_come_back(with_worker, q3, office_user):
    """Past the visibility timeout plus the time a redelivery needs, no run can own the row any more (the
    message was lost, or no worker is running): the reaper fails it, and a late message skips it."""
    assert build.stuck_after() == dt.timedelta(seconds=720 + 60)
    dead = dead_run(q3, office_user, ago=build.stuck_after() + dt.timedelta(seconds=1))

    assert build.compilations_fail_stuck() == {"running": 1, "queued": 0}
    assert compilation_run(compilation_id=dead.pk) == "skipped"
    assert Compilation.objects.get(pk=dead.pk).state == Compilation.State.FAILED
