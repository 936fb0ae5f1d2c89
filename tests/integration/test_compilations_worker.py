"""Compilations through a real Celery worker on Redis against PostgreSQL: progress moves to done, and a
worker killed mid-job leaves a job that is retried or failed, never one stuck "running"."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaign.models import ReportingPeriod
from reports.compilations import jobs
from reports.compilations.build import compilation_run, stuck_after
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request
from tests.factories import make_report
from units.models import Unit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout: float = 120.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def row(pk: int) -> Compilation:
    return Compilation.objects.get(pk=pk)


def start_worker(start_celery_process, queue: str, slow_seconds: float):
    proc, log = start_celery_process(
        ["worker", "-l", "info", "--concurrency", "1", "-Q", queue, "-n", f"{queue}-{os.getpid()}@%h"],
        extra_env={"COMPILATION_SLOW_SECONDS": str(slow_seconds)},
    )
    assert wait_for(lambda: "ready." in log.read_text(), timeout=60), log.read_text()[-3000:]
    return proc, log


def pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def drop_unacked(queue: str) -> None:
    """A message of a SIGKILLed worker waits in Redis' unacked set for the visibility timeout (1 h); remove
    it so that a later run's worker on the same queue cannot pick up an id from this test database."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for tag, payload in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.delete(queue)


def test_quarterly_pdf_compiles_on_the_worker_and_progress_moves_to_done(plan, office_user, celery_worker):
    _, log = celery_worker
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    make_report(
        period=period, unit=Unit.objects.get(code="xuanchuanbu"), task=3, progress="集成测试：宣传部报告。"
    )
    with transaction.atomic():
        compilation, _ = compilation_request(kind="quarterly", format="pdf", period=period, by=office_user)
    assert connection.vendor == "postgresql"

    seen: list[tuple[str, int]] = []

    def finished() -> bool:
        current = row(compilation.pk)
        if not seen or seen[-1] != (current.state, current.progress):
            seen.append((current.state, current.progress))
        return current.is_finished

    assert wait_for(finished, timeout=180), (seen, log.read_text()[-3000:])
    done = row(compilation.pk)
    assert done.state == Compilation.State.DONE, (done.error, log.read_text()[-3000:])
    assert seen[-1] == ("done", 100)
    running = [p for s, p in seen if s == "running"]
    assert running, seen  # the page saw it running ...
    assert running == sorted(running) and len(set(running)) >= 2, seen  # ... and its progress moving
    with done.file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert "reports.compilations.jobs.compilation_build" in log.read_text()


def test_ledger_excel_on_the_worker_reads_rows_through_its_prefetch_thread(plan, office_user, celery_worker):
    from openpyxl import load_workbook

    from reports.models import ProgressReport

    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    for code, task in (("xuanchuanbu", 3), ("kongtong", 26), ("kongtong", 1)):
        make_report(period=period, unit=Unit.objects.get(code=code), task=task, metrics={"materials": 10})
    with transaction.atomic():
        compilation, _ = compilation_request(kind="ledger", format="xlsx", by=office_user)

    assert wait_for(lambda: row(compilation.pk).is_finished, 120), celery_worker[1].read_text()[-3000:]
    done = row(compilation.pk)
    assert done.state == Compilation.State.DONE, done.error
    sheet = load_workbook(done.file.path, read_only=True)["台账"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == ProgressReport.objects.count() == 3
    assert [r[1] for r in rows] == ["市委宣传部", "崆峒区", "崆峒区"]


def test_a_killed_pool_process_has_its_job_retried_to_done(plan, office_user, start_celery_process):
    queue = "h5-kill-child"
    proc, log = start_worker(start_celery_process, queue, slow_seconds=6)
    compilation = Compilation.objects.create(
        kind="unit",
        format="xlsx",
        unit=Unit.objects.get(code="xuanchuanbu"),
        campaign=plan,
        requested_by=office_user,
    )

    jobs.compilation_build.apply_async((compilation.pk,), queue=queue)

    assert wait_for(
        lambda: row(compilation.pk).state == "running" and row(compilation.pk).progress >= 2, 60
    ), log.read_text()[-3000:]
    children = pool_children(proc.pid)
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)  # the process running the job dies mid-way (OOM killer, kill -9)

    assert wait_for(lambda: row(compilation.pk).is_finished, 120), log.read_text()[-3000:]
    done = row(compilation.pk)
    assert done.state == Compilation.State.DONE, (done.error, log.read_text()[-3000:])
    assert done.attempts == 2  # claimed again after the loss, restarted from the beginning
    assert "WorkerLostError" in log.read_text() or "signal 9" in log.read_text()


def test_a_killed_worker_leaves_no_job_stuck_running(plan, office_user, start_celery_process, celery_worker):
    """The whole worker dies (main process and pool): nothing acknowledges or returns the message, and the
    periodic job marks the compilation failed once a redelivery would have taken it over (build.stuck_after)."""
    queue = "h5-kill-worker"
    proc, log = start_worker(start_celery_process, queue, slow_seconds=30)
    compilation = Compilation.objects.create(
        kind="unit",
        format="pdf",
        unit=Unit.objects.get(code="kongtong"),
        campaign=plan,
        requested_by=office_user,
    )
    try:
        jobs.compilation_build.apply_async((compilation.pk,), queue=queue)
        assert wait_for(lambda: row(compilation.pk).state == "running", 60), log.read_text()[-3000:]
        for pid in [*pool_children(proc.pid), proc.pid]:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(1)
        assert row(compilation.pk).state == "running"  # nobody is left to finish it

        # Time passes beyond the visibility timeout and no message came back; the beat job (run here on the
        # session worker) reaps it.
        Compilation.objects.filter(pk=compilation.pk).update(
            started_at=timezone.now() - stuck_after() - dt.timedelta(seconds=5)
        )
        jobs.compilations_fail_stuck.delay()
        assert wait_for(lambda: row(compilation.pk).is_finished, 60), celery_worker[1].read_text()[-3000:]
        failed = row(compilation.pk)
        assert failed.state == Compilation.State.FAILED
        assert f"超过{settings.COMPILATION_TIME_LIMIT}秒仍未完成" in failed.error

        # Should the lost message ever come back, it does not resurrect the failed row.
        assert compilation_run(compilation_id=compilation.pk) == "skipped"
    finally:
        drop_unacked(queue)
