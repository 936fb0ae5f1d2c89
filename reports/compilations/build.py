"""Building a compiled document: the run a job performs, and the housekeeping of rows.

``jobs.py`` calls these with ids; ``services.py`` (a person's request) queues them through ``jobs``. This
module imports neither, so the dependencies run services → jobs → build → render.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from campaign.models import ReportingPeriod

from .models import Compilation

logger = logging.getLogger(__name__)

# A message re-delivered this many times (the worker died each time) is not tried again.
MAX_ATTEMPTS = 3
# Queued this long without a worker picking it up: the message is lost (e.g. Redis was flushed).
QUEUED_TIMEOUT = dt.timedelta(hours=24)
# Closed periods older than this are not compiled automatically (they closed before this feature ran).
AUTO_COMPILE_WINDOW = dt.timedelta(days=30)
AUTO_FORMATS = (Compilation.Format.PDF, Compilation.Format.XLSX)
# kombu's Redis transport looks for unacknowledged messages past the visibility timeout every 10 seconds;
# a redelivered job then waits for a free worker process and claims its row. This margin covers both.
REDELIVERY_SLACK = dt.timedelta(seconds=60)


class Superseded(Exception):
    """This run no longer owns the row (a newer delivery restarted it, or the row was reaped)."""


class ProgressReporter:
    """Writes progress into the row, only while this run still owns it, and not more than needed."""

    def __init__(self, compilation_id: int, token: uuid.UUID, deadline: float | None = None):
        self.compilation_id = compilation_id
        self.token = token
        self.deadline = deadline  # time.monotonic() past which the run stops (the soft time limit)
        self.last = (-1, "")
        self.last_at = 0.0

    def _owned(self):
        return Compilation.objects.filter(
            pk=self.compilation_id, run_token=self.token, state=Compilation.State.RUNNING
        )

    def __call__(self, percent: int, stage: str) -> None:
        from celery.exceptions import SoftTimeLimitExceeded

        percent = max(0, min(99, int(percent)))
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            raise SoftTimeLimitExceeded()
        if (percent, stage) == self.last or (stage == self.last[1] and now - self.last_at < 0.5):
            return
        if not self._owned().update(progress=percent, stage=stage[:100]):
            raise Superseded
        self.last, self.last_at = (percent, stage), now


def _claim(compilation_id: int) -> tuple[Compilation, uuid.UUID] | None:
    """Take the row for this run. None when there is nothing to do (done, failed, gone)."""
    with transaction.atomic():
        row = Compilation.objects.select_for_update().filter(pk=compilation_id).first()
        if row is None or row.state in (Compilation.State.DONE, Compilation.State.FAILED):
            return None
        now = timezone.now()
        if row.state == Compilation.State.RUNNING:
            # Only a worker that died mid-job (acks_late + reject_on_worker_lost) hands the message back
            # while the row says running: start again from scratch, but not forever.
            logger.warning("compilation %s was interrupted (attempt %s); restarting", row.pk, row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                Compilation.objects.filter(pk=row.pk).update(
                    state=Compilation.State.FAILED,
                    error=f"生成过程中执行进程连续中断{row.attempts}次（可能内存不足或服务重启），已停止自动重试。"
                    "请稍后重试或缩小范围。",
                    finished_at=now,
                    run_token=None,
                )
                return None
        token = uuid.uuid4()
        row.state = Compilation.State.RUNNING
        row.attempts += 1
        row.run_token = token
        row.progress = 0
        row.stage = "开始生成" if row.attempts == 1 else f"执行中断后重新开始（第{row.attempts}次）"
        row.started_at = now
        row.finished_at = None
        row.error = ""
        row.save(
            update_fields=[
                "state",
                "attempts",
                "run_token",
                "progress",
                "stage",
                "started_at",
                "finished_at",
                "error",
            ]
        )
        return row, token


def in_process() -> bool:
    """Jobs run inside the web request (the quick start, no REDIS_URL): no worker enforces time limits,
    nothing redelivers a job whose process died, and no beat runs the reaper."""
    from campaign.celery import app

    return bool(app.conf.task_always_eager)


@contextlib.contextmanager
def _in_process_time_limit() -> Iterator[None]:
    """The worker's soft time limit, for a job run in-process: SIGALRM raises ``SoftTimeLimitExceeded``
    inside the renderer, as Celery's pool does. Signals reach only the main thread (gunicorn's sync
    workers run requests there); elsewhere ``ProgressReporter`` checks the same deadline between steps."""
    from celery.exceptions import SoftTimeLimitExceeded

    if not in_process() or threading.current_thread() is not threading.main_thread():
        yield
        return

    def overrun(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, settings.COMPILATION_TIME_LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compilation_run(*, compilation_id: int) -> str:
    """Build the document of one compilation. Idempotent: a done or failed one is left alone, a running
    one (its worker died) is rebuilt from the start. Returns what happened, for the job's log.

    Whatever ends the run, the row does not stay "running": an error or the time limit fails it here; the
    process being told to exit (gunicorn aborting a request that ran past its timeout, Ctrl-C) fails it
    on the way out; a process killed outright is failed by ``compilations_fail_stuck``."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .render import render

    claimed = _claim(compilation_id)
    if claimed is None:
        return "skipped"
    compilation, token = claimed
    reporter = ProgressReporter(
        compilation.pk, token, deadline=time.monotonic() + settings.COMPILATION_TIME_LIMIT
    )
    try:
        with _in_process_time_limit(), tempfile.TemporaryDirectory(prefix="compilation-") as tmp:
            path = render(compilation, Path(tmp), reporter)
            reporter(97, "保存文件")
            return _finish(compilation, token, path)
    except Superseded:
        logger.info("compilation %s: run superseded, stopping", compilation_id)
        return "superseded"
    except SoftTimeLimitExceeded:
        _fail(
            compilation_id,
            token,
            f"生成超过时间限制（{settings.COMPILATION_TIME_LIMIT}秒）已停止，请缩小范围后重试。",
        )
        return "failed"
    except Exception as exc:  # the person who asked must learn why, not find a row stuck "running"
        logger.exception("compilation %s failed", compilation_id)
        _fail(compilation_id, token, f"生成失败：{type(exc).__name__}：{str(exc) or repr(exc)}"[:2000])
        return "failed"
    except BaseException:  # SystemExit / KeyboardInterrupt: the process is going away; say so, then go
        _fail(
            compilation_id,
            token,
            "生成过程中执行进程被终止（网页请求超时或服务重启），已停止。请重试；若再次失败，请缩小范围。",
        )
        raise


def _finish(compilation: Compilation, token: uuid.UUID, path: Path) -> str:
    name = compilation.file.field.generate_filename(compilation, path.name)
    storage = compilation.file.storage
    with path.open("rb") as handle:
        stored = storage.save(name, File(handle))
    size = path.stat().st_size
    updated = Compilation.objects.filter(
        pk=compilation.pk, run_token=token, state=Compilation.State.RUNNING
    ).update(
        state=Compilation.State.DONE,
        file=stored,
        size=size,
        progress=100,
        stage="已完成",
        finished_at=timezone.now(),
        run_token=None,
    )
    if not updated:
        storage.delete(stored)
        return "superseded"
    return "done"


def _fail(compilation_id: int, token: uuid.UUID, message: str) -> None:
    Compilation.objects.filter(pk=compilation_id, run_token=token, state=Compilation.State.RUNNING).update(
        state=Compilation.State.FAILED,
        error=message,
        stage="失败",
        finished_at=timezone.now(),
        run_token=None,
    )


# -------------------------------------------------------------------------------------- periodic


def redelivery_after() -> dt.timedelta:
    """How long after a worker took a job the broker hands it to another worker if it was never
    acknowledged (the whole worker died): Redis' visibility timeout."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    return dt.timedelta(seconds=options.get("visibility_timeout", 3600))


def stuck_after() -> dt.timedelta:
    """How long a row may say "running" since its run started before the reaper fails it.

    The reaper and redelivery agree: a row is failed only when no run can still own it or take it over.
    With a worker, a live run ends by the hard time limit; a run whose whole worker died is redelivered
    after the visibility timeout (settings keep it longer than the hard limit) and its new run claims the
    row, restarting ``started_at`` — so the reaper waits for the visibility timeout plus the time a
    redelivery needs to be claimed, and reaps only rows whose message is not coming back (lost, or no
    worker running). In-process nothing redelivers: past the hard limit the run is gone."""
    hard_limit = dt.timedelta(seconds=settings.COMPILATION_TIME_LIMIT + 60)
    if in_process():
        return hard_limit
    return max(hard_limit, redelivery_after()) + REDELIVERY_SLACK


def compilations_fail_stuck(
    *, now: dt.datetime | None = None, ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Mark as failed what can no longer finish: running past ``stuck_after`` (its process died and no
    redelivery took it over), or queued for a day without a worker picking it up (the message was lost).
    ``ids`` narrows it to some rows (a page looking at one compilation)."""
    now = now or timezone.now()
    limit = stuck_after()
    rows = Compilation.objects.all() if ids is None else Compilation.objects.filter(pk__in=list(ids))
    running = rows.filter(state=Compilation.State.RUNNING).filter(
        Q(started_at__lt=now - limit) | Q(started_at__isnull=True, created_at__lt=now - limit)
    )
    failed_running = running.update(
        state=Compilation.State.FAILED,
        error=f"超过{settings.COMPILATION_TIME_LIMIT}秒仍未完成（执行进程可能已中断或超时），已标记为失败，可重试。",
        stage="失败",
        finished_at=now,
        run_token=None,
    )
    failed_queued = rows.filter(state=Compilation.State.QUEUED, created_at__lt=now - QUEUED_TIMEOUT).update(
        state=Compilation.State.FAILED,
        error="排队超过24小时仍未开始（后台服务可能未运行），已标记为失败，可重试。",
        stage="失败",
        finished_at=now,
    )
    return {"running": failed_running, "queued": failed_queued}


def compilations_abandon(*, ids: Iterable[int], message: str, now: dt.datetime | None = None) -> int:
    """Fail those of ``ids`` that are queued or running: the process that was building them is exiting
    (``background``'s threads stop with it). Clearing the run token also stops a run still going."""
    now = now or timezone.now()
    return Compilation.objects.filter(
        pk__in=list(ids), state__in=[Compilation.State.QUEUED, Compilation.State.RUNNING]
    ).update(state=Compilation.State.FAILED, error=message, stage="失败", finished_at=now, run_token=None)


def compilations_purge_old(*, now: dt.datetime | None = None) -> int:
    """Delete files older than COMPILATION_RETENTION_DAYS; the rows stay as a record."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.COMPILATION_RETENTION_DAYS)
    purged = 0
    old = Compilation.objects.filter(finished_at__lt=cutoff, purged_at__isnull=True).exclude(file="")
    for compilation in old.iterator(chunk_size=500):
        try:
            compilation.file.storage.delete(compilation.file.name)
        except OSError:
            logger.exception("could not delete %s", compilation.file.name)
            continue
        Compilation.objects.filter(pk=compilation.pk).update(file="", purged_at=now)
        purged += 1
    return purged


def compilations_for_closed_periods(*, enqueue: Callable[[int], None], now: dt.datetime | None = None) -> int:
    """The quarterly summary (PDF and Excel) of each recently closed period, once per period and format;
    each new row is handed to ``enqueue`` (``jobs.compilation_enqueue``). Automatic rows need no person's
    permission and no scope checks: the period comes from the database."""
    now = now or timezone.now()
    periods = ReportingPeriod.objects.filter(
        state=ReportingPeriod.State.CLOSED, closed_at__gte=now - AUTO_COMPILE_WINDOW
    ).order_by("year", "quarter")
    created = 0
    for period in periods:
        for fmt in AUTO_FORMATS:
            if Compilation.objects.filter(
                period=period, kind=Compilation.Kind.QUARTERLY, format=fmt, automatic=True
            ).exists():
                continue
            try:
                with transaction.atomic():
                    compilation = Compilation.objects.create(
                        kind=Compilation.Kind.QUARTERLY,
                        format=fmt,
                        campaign=period.campaign,
                        period=period,
                        automatic=True,
                    )
                    enqueue(compilation.pk)
            except IntegrityError:  # another beat run got there first
                continue
            created += 1
    return created
