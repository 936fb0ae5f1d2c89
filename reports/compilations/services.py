"""Compiled documents: asking for one, building it in a job, retrying, and keeping the store tidy.

Every write about a ``Compilation`` lives here; ``reports/jobs.py`` only hands ids to these functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, ReportingPeriod
from tasks.models import Task
from units.access import get_access
from units.models import Unit

from .models import Compilation

logger = logging.getLogger(__name__)

KIND_LABELS = dict(Compilation.Kind.choices)
FORMAT_LABELS = dict(Compilation.Format.choices)

# Which scope each kind needs ("required") and may narrow by ("optional"); anything else is refused.
KIND_SCOPE: dict[str, tuple[set[str], set[str]]] = {
    Compilation.Kind.QUARTERLY: ({"period"}, set()),
    Compilation.Kind.UNIT: ({"unit"}, {"period"}),
    Compilation.Kind.TASK: ({"task"}, {"period"}),
    Compilation.Kind.ANNUAL: ({"year"}, set()),
    Compilation.Kind.LEDGER: (set(), {"period", "year"}),
}
SCOPE_LABELS = {"period": "报告期", "year": "年度", "unit": "单位", "task": "任务"}
KIND_HELP = {
    Compilation.Kind.QUARTERLY: "季度汇总需选择报告期",
    Compilation.Kind.UNIT: "单位报告需选择单位（可再选报告期，不选则含全部报告期）",
    Compilation.Kind.TASK: "任务报告需选择任务（可再选报告期，不选则含全部报告期）",
    Compilation.Kind.ANNUAL: "年度工作总结需选择年度",
    Compilation.Kind.LEDGER: "台账可按报告期或年度筛选，都不选则导出全部",
}
# A ledger is a spreadsheet; past this many rows a PDF or Word table is no use to anyone.
LEDGER_DOCUMENT_MAX_ROWS = 5000
# A message re-delivered this many times (the worker died each time) is not tried again.
MAX_ATTEMPTS = 3
# Queued this long without a worker picking it up: the message is lost (e.g. Redis was flushed).
QUEUED_TIMEOUT = dt.timedelta(hours=24)
# Closed periods older than this are not compiled automatically (they closed before this feature ran).
AUTO_COMPILE_WINDOW = dt.timedelta(days=30)
AUTO_FORMATS = (Compilation.Format.PDF, Compilation.Format.XLSX)


class Superseded(Exception):
    """This run no longer owns the row (a newer delivery restarted it, or the row was reaped)."""


# ------------------------------------------------------------------------------------- permissions


def can_request(access, *, kind: str, unit_id: int | None) -> bool:
    if access.sees_everything:
        return True
    return kind == Compilation.Kind.UNIT and unit_id is not None and unit_id in access.unit_ids


def can_view(user, compilation: Compilation) -> bool:
    """Office and leadership see every compilation; a unit's people see their unit's own unit reports."""
    access = get_access(user)
    if access.sees_everything:
        return True
    return compilation.kind == Compilation.Kind.UNIT and compilation.unit_id in access.unit_ids


def compilations_visible_to(user) -> QuerySet[Compilation]:
    access = get_access(user)
    qs = Compilation.objects.select_related("period", "unit", "task", "requested_by", "campaign").order_by(
        "-created_at", "-id"
    )
    if access.sees_everything:
        return qs
    return qs.filter(kind=Compilation.Kind.UNIT, unit_id__in=access.unit_ids)


# ------------------------------------------------------------------------------------------ request


def _resolve(model, value, label: str):
    """A model instance from an instance or an id; a clear 400 when it does not exist."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{label}编号无效：{value}", code="invalid_scope") from None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise DomainError(f"{label}不存在（编号 {pk}）。", code="not_found")
    return obj


def _parse_year(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"年度无效：{value}", code="invalid_scope") from None
    if not 2000 <= year <= 2100:
        raise DomainError(f"年度无效：{value}", code="invalid_scope")
    return year


def validate_kind_format(kind, format) -> tuple[str, str]:
    if kind not in KIND_LABELS:
        choices = "、".join(f"{k}（{v}）" for k, v in KIND_LABELS.items())
        raise DomainError(f"未知的汇编类型“{kind or ''}”，可选：{choices}。", code="invalid_kind")
    if format not in FORMAT_LABELS:
        choices = "、".join(f"{k}（{v}）" for k, v in FORMAT_LABELS.items())
        raise DomainError(f"未知的文件格式“{format or ''}”，可选：{choices}。", code="invalid_format")
    return kind, format


def compilation_request(
    *,
    kind: str,
    format: str,
    period: ReportingPeriod | int | None = None,
    year: int | str | None = None,
    unit: Unit | int | None = None,
    task: Task | int | None = None,
    by,
    automatic: bool = False,
) -> tuple[Compilation, bool]:
    """Ask for a compiled document; the job is queued once the transaction commits.

    Returns ``(compilation, created)``: an identical one already queued or running is returned instead of
    starting a second build. Raises ``DomainError`` (400/403) with a message in Chinese, queueing nothing.
    """
    kind, format = validate_kind_format(kind, format)
    if by is not None and kind != Compilation.Kind.UNIT and not get_access(by).sees_everything:
        if get_access(by).is_unit_member:
            raise PermissionDenied("联络员只能汇编本单位的单位报告。")
        raise PermissionDenied("您没有汇编文件的权限。")
    given = {
        "period": _resolve(ReportingPeriod, period, "报告期"),
        "year": _parse_year(year),
        "unit": _resolve(Unit, unit, "单位"),
        "task": _resolve(Task, task, "任务"),
    }
    required, optional = KIND_SCOPE[kind]
    label = KIND_LABELS[kind]
    for name in sorted(required):
        if given[name] is None:
            raise DomainError(
                f"{label}需要指定{SCOPE_LABELS[name]}。{KIND_HELP[kind]}。", code="missing_scope"
            )
    for name, value in given.items():
        if value is not None and name not in required | optional:
            raise DomainError(
                f"{label}不按{SCOPE_LABELS[name]}筛选，请去掉{SCOPE_LABELS[name]}。{KIND_HELP[kind]}。",
                code="invalid_scope",
            )
    if given["period"] is not None and given["year"] is not None:
        raise DomainError("报告期和年度只能选择一个。", code="invalid_scope")

    if by is None and not automatic:
        raise PermissionDenied("请先登录。")
    if by is not None:
        access = get_access(by)
        unit_obj = given["unit"]
        if not can_request(access, kind=kind, unit_id=unit_obj.pk if unit_obj else None):
            if access.is_unit_member:
                names = "、".join(Unit.objects.filter(pk__in=access.unit_ids).values_list("name", flat=True))
                raise PermissionDenied(f"您只能汇编本单位（{names}）的单位报告。")
            raise PermissionDenied("您没有汇编文件的权限。")

    campaign = _campaign_for(given)
    if given["period"] is not None and given["period"].campaign_id != campaign.pk:
        raise DomainError("所选报告期不属于当前创建活动。", code="invalid_scope")
    if given["task"] is not None and given["task"].campaign_id != campaign.pk:
        raise DomainError("所选任务不属于当前创建活动。", code="invalid_scope")
    if (
        given["year"] is not None
        and not ReportingPeriod.objects.filter(campaign=campaign, year=given["year"]).exists()
    ):
        raise DomainError(f"{given['year']}年没有报告期。", code="invalid_scope")
    if kind == Compilation.Kind.LEDGER and format != Compilation.Format.XLSX:
        _check_ledger_size(campaign, given)

    scope = {
        "kind": kind,
        "format": format,
        "campaign": campaign,
        "period": given["period"],
        "year": given["year"],
        "unit": given["unit"],
        "task": given["task"],
    }
    with transaction.atomic():
        if not automatic:
            existing = (
                Compilation.objects.select_for_update()
                .filter(
                    **scope, automatic=False, state__in=[Compilation.State.QUEUED, Compilation.State.RUNNING]
                )
                .first()
            )
            if existing is not None:
                return existing, False
        compilation = Compilation.objects.create(**scope, requested_by=by, automatic=automatic)
        _enqueue_on_commit(compilation.pk)
    return compilation, True


def _campaign_for(given) -> Campaign:
    if given["period"] is not None:
        return given["period"].campaign
    if given["task"] is not None:
        return given["task"].campaign
    campaign = Campaign.current()
    if campaign is None:
        raise DomainError("尚未建立创建活动，无法汇编。", code="no_campaign")
    return campaign


def _check_ledger_size(campaign: Campaign, given) -> None:
    from reports.models import ProgressReport

    qs = ProgressReport.objects.filter(period__campaign=campaign)
    if given["period"] is not None:
        qs = qs.filter(period=given["period"])
    if given["year"] is not None:
        qs = qs.filter(period__year=given["year"])
    count = qs.count()
    if count > LEDGER_DOCUMENT_MAX_ROWS:
        raise DomainError(
            f"台账共{count}条，超过 PDF/Word 可读的上限（{LEDGER_DOCUMENT_MAX_ROWS}条），请选择 Excel 格式或缩小范围。",
            code="too_large",
        )


def _enqueue_on_commit(compilation_id: int) -> None:
    from . import jobs

    transaction.on_commit(lambda: jobs.compilation_build.delay(compilation_id))


def compilation_retry(*, compilation: Compilation, by) -> Compilation:
    """Queue a failed compilation again (same row, so its page and links stay valid)."""
    if not can_view(by, compilation) or not can_request(
        get_access(by), kind=compilation.kind, unit_id=compilation.unit_id
    ):
        raise PermissionDenied("您没有重新生成该文件的权限。")
    with transaction.atomic():
        row = Compilation.objects.select_for_update().get(pk=compilation.pk)
        if row.state != Compilation.State.FAILED:
            raise DomainError(
                f"只有失败的汇编可以重试（当前状态：{row.get_state_display()}）。", code="not_failed"
            )
        Compilation.objects.filter(pk=row.pk).update(
            state=Compilation.State.QUEUED,
            progress=0,
            stage="重新排队",
            error="",
            attempts=0,
            run_token=None,
            started_at=None,
            finished_at=None,
            requested_by=row.requested_by or by,
        )
        _enqueue_on_commit(row.pk)
    compilation.refresh_from_db()
    return compilation


# -------------------------------------------------------------------------------------------- build


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


def compilations_for_closed_periods(*, now: dt.datetime | None = None) -> int:
    """The quarterly summary (PDF and Excel) of each recently closed period, once per period and format."""
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
                compilation_request(
                    kind=Compilation.Kind.QUARTERLY, format=fmt, period=period, by=None, automatic=True
                )
            except IntegrityError:  # another beat run got there first
                continue
            created += 1
    return created
