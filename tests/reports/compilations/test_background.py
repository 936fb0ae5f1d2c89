"""The quick start's background builds: with COMPILATIONS_IN_BACKGROUND on and jobs in-process, asking for a
document returns at once and a thread of the same process builds it; off (the default, and the tests'),
the build runs inside the request as before."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from campaign.models import ReportingPeriod
from reports.compilations import background
from reports.compilations.models import Compilation

pytestmark = pytest.mark.django_db(transaction=True)  # the build thread reads what the request committed


@pytest.fixture
def q3(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


def _read_uncommitted(sender, connection, **kwargs):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


@pytest.fixture
def shared_memory_db_reads():
    """The tests' SQLite database lives in memory, shared between connections, where a table being read by
    one connection fails another's write at once ("database table is locked") instead of waiting as the
    quick start's file database does. Reads that take no table locks keep the build thread and the test's
    own reads apart; the portal itself runs on a file or PostgreSQL."""
    connection_created.connect(_read_uncommitted)
    _read_uncommitted(None, connection)
    yield
    connection_created.disconnect(_read_uncommitted)


@pytest.fixture
def in_background(settings, shared_memory_db_reads):
    settings.COMPILATIONS_IN_BACKGROUND = True
    assert background.enabled()


def wait_until_built(*compilations: Compilation, seconds: float = 20) -> None:
    """Until this process's build threads are done with these rows (no database reads meanwhile)."""
    ids = {c.pk for c in compilations}
    deadline = time.monotonic() + seconds
    while background.pending() & ids:
        assert time.monotonic() < deadline, f"still building {sorted(background.pending() & ids)}"
        time.sleep(0.05)
    for compilation in compilations:
        compilation.refresh_from_db()


class HeldRender:
    """A renderer that reports progress, then waits until the test lets it finish."""

    def __init__(self):
        self.started = threading.Semaphore(0)  # released once by each build that reached the renderer
        self.release = threading.Event()
        self.thread_name = ""

    def __call__(self, compilation, directory, progress):
        self.thread_name = threading.current_thread().name
        progress(40, "读取报告数据")
        self.started.release()
        assert self.release.wait(20), "the test never let the build finish"
        path = directory / f"c{compilation.pk}.pdf"
        path.write_bytes(b"%PDF-1.7 background")
        return path


def test_the_request_returns_at_once_and_the_progress_page_shows_the_build_going_on(
    as_office, q3, monkeypatch, in_background
):
    render = HeldRender()
    monkeypatch.setattr("reports.compilations.render.render", render)

    response = as_office.post("/compilations/new/", {"kind": "quarterly", "format": "pdf", "period": q3.pk})

    compilation = Compilation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/compilations/{compilation.pk}/"
    assert render.started.acquire(timeout=20)
    page = as_office.get(f"/compilations/{compilation.pk}/").content.decode()
    assert 'aria-valuenow="40"' in page and ">40%</div>" in page and "读取报告数据" in page
    assert 'hx-trigger="every 1s"' in page

    render.release.set()
    wait_until_built(compilation)
    assert compilation.state == Compilation.State.DONE
    assert compilation.file.read() == b"%PDF-1.7 background"
    assert render.thread_name.startswith("compilation-builder-")
    fragment = as_office.get(f"/compilations/{compilation.pk}/progress/").content.decode()
    assert f'href="/compilations/{compilation.pk}/download/"' in fragment


def test_without_the_setting_the_build_runs_inside_the_request(
    as_office, q3, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.COMPILATIONS_IN_BACKGROUND = False
    render = HeldRender()
    render.release.set()
    monkeypatch.setattr("reports.compilations.render.render", render)

    # The test's transaction never commits by itself: run the request's on-commit work as its commit would.
    with django_capture_on_commit_callbacks(execute=True):
        as_office.post("/compilations/new/", {"kind": "quarterly", "format": "pdf", "period": q3.pk})

    assert Compilation.objects.get().state == Compilation.State.DONE
    assert render.thread_name == threading.current_thread().name


def test_with_a_worker_the_setting_changes_nothing(q3, settings):
    from campaign.celery import app

    settings.COMPILATIONS_IN_BACKGROUND = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        assert not background.enabled()
    finally:
        app.conf.task_always_eager = previous


def test_a_background_build_past_the_time_limit_is_failed_at_its_next_step(
    office_user, q3, monkeypatch, settings, in_background
):
    from reports.compilations.services import compilation_request

    settings.COMPILATION_TIME_LIMIT = 1

    def render(compilation, directory, progress):
        progress(30, "读取报告数据")
        time.sleep(1.3)
        progress(60, "排版页面")
        raise AssertionError("progress() past the deadline should have stopped this run")

    monkeypatch.setattr("reports.compilations.render.render", render)
    compilation, _ = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)

    wait_until_built(compilation)
    assert compilation.state == Compilation.State.FAILED
    assert compilation.error == "生成超过时间限制（1秒）已停止，请缩小范围后重试。"


def test_builds_this_process_held_are_failed_with_a_message_when_it_exits(
    office_user, q3, unit_a, monkeypatch, in_background
):
    """runserver's reloader or Ctrl-C ends the process; its daemon threads stop where they are."""
    from reports.compilations.services import compilation_request

    render = HeldRender()
    monkeypatch.setattr("reports.compilations.render.render", render)
    # Both build threads busy (each waits, once started, so that no two connections write at once) ...
    first, _ = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)
    assert render.started.acquire(timeout=20)
    second, _ = compilation_request(kind="unit", format="pdf", unit=unit_a, by=office_user)
    assert render.started.acquire(timeout=20)
    # ... and one more waiting its turn in the queue.
    third, _ = compilation_request(kind="quarterly", format="xlsx", period=q3, by=office_user)
    assert background.pending() == {first.pk, second.pk, third.pk}
    third.refresh_from_db()
    assert third.state == Compilation.State.QUEUED

    background._fail_unfinished()  # what atexit runs

    for row in (first, second, third):
        row.refresh_from_db()
        assert (row.state, row.error) == (
            Compilation.State.FAILED,
            "生成过程中服务已停止或重启，文件未生成完成。请点击“重试”重新生成。",
        )
    render.release.set()  # the runs still going find they no longer own their rows and stop
    wait_until_built(first, second, third)
    assert [row.state for row in (first, second, third)] == [Compilation.State.FAILED] * 3
    assert not first.file and not second.file
