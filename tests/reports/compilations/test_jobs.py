"""The compilation job's life: claim, progress, idempotency, restarts, time limits, the periodic jobs.

The renderer is replaced by a small fake here (rendering is covered in test_compilation_outputs.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.utils import timezone

from campaign.models import ReportingPeriod
from reports.compilations import build, jobs
from reports.compilations import services as compilations
from reports.compilations.build import compilation_run
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def q3(plan) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=2024, quarter=3)


@pytest.fixture
def fake_render(monkeypatch):
    """A renderer that reports progress, writes a small file and records its calls."""
    calls = []

    def render(compilation, directory, progress):
        calls.append(compilation.pk)
        progress(30, "读取报告数据")
        progress(80, "排版页面")
        path = directory / f"c{compilation.pk}.pdf"
        path.write_bytes(b"%PDF-1.7 fake")
        return path

    monkeypatch.setattr("reports.compilations.render.render", render)
    return calls


def make(q3, **fields) -> Compilation:
    return Compilation.objects.create(
        kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, **fields
    )


def test_job_runs_to_done_with_progress_file_and_times(q3, fake_render):
    compilation = make(q3)

    assert jobs.compilation_build.delay(compilation.pk).get() == "done"

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.DONE
    assert (compilation.progress, compilation.stage) == (100, "已完成")
    assert compilation.file.name.startswith("compilations/") and compilation.size == len(b"%PDF-1.7 fake")
    assert compilation.file.read() == b"%PDF-1.7 fake"
    assert compilation.started_at <= compilation.finished_at
    assert compilation.attempts == 1 and compilation.run_token is None and compilation.error == ""


def test_request_queues_the_job_on_commit_and_it_runs(
    office_user, q3, fake_render, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        compilation, _ = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.DONE and fake_render == [compilation.pk]


def test_progress_is_written_into_the_row_while_running(q3, monkeypatch):
    seen = []

    def render(compilation, directory, progress):
        progress(42, "排版页面")
        row = Compilation.objects.get(pk=compilation.pk)
        seen.append((row.state, row.progress, row.stage))
        path = directory / "x.pdf"
        path.write_bytes(b"x")
        return path

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = make(q3)

    compilation_run(compilation_id=compilation.pk)

    assert seen == [(Compilation.State.RUNNING, 42, "排版页面")]


def test_a_done_compilation_is_not_rebuilt(q3, fake_render):
    compilation = make(q3, state=Compilation.State.DONE, progress=100)
    compilation.file.save("old.pdf", ContentFile(b"old"), save=True)

    assert compilation_run(compilation_id=compilation.pk) == "skipped"

    compilation.refresh_from_db()
    assert fake_render == [] and compilation.file.read() == b"old"


def test_a_failed_compilation_is_not_run_by_a_stale_message(q3, fake_render):
    compilation = make(q3, state=Compilation.State.FAILED, error="超时")

    assert compilation_run(compilation_id=compilation.pk) == "skipped"
    assert fake_render == []


def test_a_missing_compilation_is_skipped(plan, fake_render):
    assert compilation_run(compilation_id=987654) == "skipped"


def test_a_redelivered_running_compilation_restarts_cleanly(q3, fake_render):
    """A worker died mid-job: the message comes back while the row still says running."""
    old_token = uuid.uuid4()
    compilation = make(
        q3,
        state=Compilation.State.RUNNING,
        attempts=1,
        run_token=old_token,
        progress=63,
        stage="排版页面",
        started_at=timezone.now() - dt.timedelta(minutes=2),
    )

    assert compilation_run(compilation_id=compilation.pk) == "done"

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.DONE and compilation.attempts == 2
    assert fake_render == [compilation.pk]


def test_a_compilation_interrupted_too_often_fails_with_a_reason(q3, fake_render):
    compilation = make(
        q3, state=Compilation.State.RUNNING, attempts=build.MAX_ATTEMPTS, run_token=uuid.uuid4()
    )

    assert compilation_run(compilation_id=compilation.pk) == "skipped"

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.FAILED
    assert "连续中断3次" in compilation.error
    assert fake_render == []


def test_a_superseded_run_stops_and_writes_nothing(q3, monkeypatch):
    """If a newer delivery took the row over, the older run's progress and result are dropped."""

    def render(compilation, directory, progress):
        Compilation.objects.filter(pk=compilation.pk).update(
            run_token=uuid.uuid4(), progress=5, stage="新的运行"
        )
        progress(50, "旧的运行")
        raise AssertionError("progress() should have stopped this run")

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = make(q3)

    assert compilation_run(compilation_id=compilation.pk) == "superseded"

    compilation.refresh_from_db()
    assert (compilation.state, compilation.progress, compilation.stage) == (
        Compilation.State.RUNNING,
        5,
        "新的运行",
    )


def test_the_soft_time_limit_fails_the_compilation_with_a_reason(q3, monkeypatch, settings):
    settings.COMPILATION_TIME_LIMIT = 600

    def render(compilation, directory, progress):
        progress(20, "排版页面")
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = make(q3)

    assert compilation_run(compilation_id=compilation.pk) == "failed"

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.FAILED
    assert compilation.error == "生成超过时间限制（600秒）已停止，请缩小范围后重试。"
    assert compilation.finished_at is not None


def test_a_renderer_error_fails_the_compilation_with_the_message(q3, monkeypatch):
    def render(compilation, directory, progress):
        raise ValueError("字体缺失")

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation = make(q3)

    compilation_run(compilation_id=compilation.pk)

    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.FAILED
    assert compilation.error == "生成失败：ValueError：字体缺失"


def test_job_has_late_ack_reject_on_worker_lost_and_time_limits(settings):
    task = jobs.compilation_build
    assert task.name == "reports.compilations.jobs.compilation_build"
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert task.soft_time_limit == settings.COMPILATION_TIME_LIMIT
    assert task.time_limit == settings.COMPILATION_TIME_LIMIT + 60


# ----------------------------------------------------------------------------------- periodic jobs


def test_stuck_running_and_long_queued_compilations_are_failed_with_a_reason(q3, settings):
    settings.COMPILATION_TIME_LIMIT = 600
    now = timezone.now()
    stuck = make(
        q3,
        state=Compilation.State.RUNNING,
        started_at=now - dt.timedelta(seconds=600 + 121),
        run_token=uuid.uuid4(),
    )
    busy = make(q3, state=Compilation.State.RUNNING, started_at=now - dt.timedelta(seconds=300))
    lost = make(q3, state=Compilation.State.QUEUED)
    Compilation.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(hours=25))
    waiting = make(q3, state=Compilation.State.QUEUED)

    assert build.compilations_fail_stuck(now=now) == {"running": 1, "queued": 1}

    states = {c.pk: (c.state, c.error) for c in Compilation.objects.all()}
    assert states[stuck.pk] == (
        Compilation.State.FAILED,
        "超过600秒仍未完成（执行进程可能已中断或超时），已标记为失败，可重试。",
    )
    assert states[lost.pk][0] == Compilation.State.FAILED and "排队超过24小时" in states[lost.pk][1]
    assert (
        states[busy.pk][0] == Compilation.State.RUNNING and states[waiting.pk][0] == Compilation.State.QUEUED
    )
    stuck.refresh_from_db()
    assert stuck.run_token is None  # a zombie run can no longer write into the row


def test_old_files_are_deleted_and_rows_kept(q3, settings, as_office):
    settings.COMPILATION_RETENTION_DAYS = 180
    now = timezone.now()
    old = make(q3, state=Compilation.State.DONE)
    old.file.save("old.pdf", ContentFile(b"old"), save=True)
    Compilation.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=181))
    recent = make(q3, state=Compilation.State.DONE, finished_at=now - dt.timedelta(days=10))
    recent.file.save("recent.pdf", ContentFile(b"new"), save=True)
    old_name = old.file.name

    assert build.compilations_purge_old(now=now) == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.file.name == "" and old.purged_at == now and not recent.file.storage.exists(old_name)
    assert recent.file.read() == b"new" and recent.purged_at is None
    assert as_office.get(f"/compilations/{old.pk}/download/").status_code == 410
    assert "超过保存期限被清理" in as_office.get(f"/compilations/{old.pk}/").content.decode()
    assert build.compilations_purge_old(now=now) == 0


def test_closing_a_period_compiles_its_quarterly_summary_as_pdf_and_excel_once(
    q3, django_capture_on_commit_callbacks
):
    now = timezone.now()
    q3.state, q3.closed_at = ReportingPeriod.State.CLOSED, now - dt.timedelta(hours=1)
    q3.save()
    long_ago = ReportingPeriod.objects.get(year=2024, quarter=1)
    long_ago.state, long_ago.closed_at = ReportingPeriod.State.CLOSED, now - dt.timedelta(days=200)
    long_ago.save()
    ReportingPeriod.objects.filter(year=2024, quarter=4).update(state=ReportingPeriod.State.OPEN)

    with django_capture_on_commit_callbacks() as callbacks:
        assert compilations.compilations_for_closed_periods(now=now) == 2
    assert len(callbacks) == 2
    automatic = Compilation.objects.filter(automatic=True)
    assert sorted(automatic.values_list("period__quarter", "kind", "format")) == [
        (3, "quarterly", "pdf"),
        (3, "quarterly", "xlsx"),
    ]
    assert all(c.requested_by is None for c in automatic)

    with django_capture_on_commit_callbacks() as callbacks:
        assert compilations.compilations_for_closed_periods(now=now) == 0
    assert callbacks == [] and automatic.count() == 2


def test_beat_schedule_has_the_three_periodic_jobs(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "reports.compilations.jobs.compilations_for_closed_periods",
        "reports.compilations.jobs.compilations_fail_stuck",
        "reports.compilations.jobs.compilations_purge_old",
    } <= tasks
