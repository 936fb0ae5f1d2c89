"""Building a compiled document: the run a job performs, and the housekeeping of rows.

``jobs.py`` calls these with ids; ``services.py`` (a person's request) queues them through ``jobs``. This
module imports neither, so the dependencies run services → jobs → build → render.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
import uuid
from collections.abc import Callable
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


class Superseded(Exception):
    """This run no longer owns the row (a newer delivery restarted it, or the row was reaped)."""


class ProgressReporter:
    """Writes progress into the row, only while this run still owns it, and not more than needed."""

    def __init__(self, compilation_id: int, token: uuid.UUID):
        self.compilation_id = compilation_id
        self.token = token
        self.last = (-1, "")
        self.last_at = 0.0

    def _owned(self):
        return Compilation.objects.filter(
            pk=self.compilation_id, run_token=self.token, state=Compilation.State.RUNNING
        )

    def __call__(self, percent: int, stage: str) -> None:
        percent = max(0, min(99, int(percent)))
        now = time.monotonic()
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


def compilation_run(*, compilation_id: int) -> str:
    """Build the document of one compilation. Idempotent: a done or failed one is left alone, a running
    one (its worker died) is rebuilt from the start. Returns what happened, for the job's log."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .render import render

    claimed = _claim(compilation_id)
    if claimed is None:
        return "skipped"
    compilation, token = claimed
    reporter = ProgressReporter(compilation.pk, token)
    try:
        with tempfile.TemporaryDirectory(prefix="compilation-") as tmp:
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


def stuck_after() -> dt.timedelta:
    """Past the hard time limit plus a margin, no live job can still own a running row."""
    return dt.timedelta(seconds=settings.COMPILATION_TIME_LIMIT + 60 + 60)


def compilations_fail_stuck(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Mark as failed what can no longer finish: running past the time limit (its worker was killed or
    hit the hard limit), or queued for a day without a worker picking it up (the message was lost)."""
    now = now or timezone.now()
    limit = stuck_after()
    running = Compilation.objects.filter(state=Compilation.State.RUNNING).filter(
        Q(started_at__lt=now - limit) | Q(started_at__isnull=True, created_at__lt=now - limit)
    )
    failed_running = running.update(
        state=Compilation.State.FAILED,
        error=f"超过{settings.COMPILATION_TIME_LIMIT}秒仍未完成（执行进程可能已中断或超时），已标记为失败，可重试。",
        stage="失败",
        finished_at=now,
        run_token=None,
    )
    failed_queued = Compilation.objects.filter(
        state=Compilation.State.QUEUED, created_at__lt=now - QUEUED_TIMEOUT
    ).update(
        state=Compilation.State.FAILED,
        error="排队超过24小时仍未开始（后台服务可能未运行），已标记为失败，可重试。",
        stage="失败",
        finished_at=now,
    )
    return {"running": failed_running, "queued": failed_queued}


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
