"""Writes of the reporting loop. Each step checks who may do it and in which state, writes an event row,
and raises a DomainError whose message tells the person what to do next.

Who: only the unit's own people author its reports; only office staff review; leadership changes nothing.
When: a report is changed only while its period is open, or while the office has reopened it for the unit.
Concurrency: every change of a report's content goes through a version check made inside a row lock
(select_for_update on PostgreSQL) and a conditional UPDATE, so two people never silently overwrite each other.
The report form's whole save (text, figures, evidence, and the submit when asked) is one call, ``report_save``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Protocol, TypedDict

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaign.dates import cn_date
from campaign.errors import DomainError, PermissionDenied, StaleVersion
from campaign.models import ReportingPeriod
from tasks.models import Task
from units.access import get_access
from units.models import Unit, display_name

from . import evidence as evidence_files
from . import figures
from .models import Evidence, MetricValue, PeriodReopening, ProgressReport, ReportEvent
from .selectors import period_is_writable, reopening_for, report_metrics, unit_carries

State = ProgressReport.State
Action = ReportEvent.Action
MetricsInput = Mapping[int | str, object] | Iterable[Mapping[str, object]] | None

MAX_METRIC_VALUE = Decimal("999999999999.99")
TEXT_FIELDS = ("progress", "problems", "next_steps")
TEXT_LABELS = {name: str(ProgressReport._meta.get_field(name).verbose_name) for name in TEXT_FIELDS}

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- checks


def clean_text(value: str | None, *, label: str, limit: int = ProgressReport.TEXT_MAX_LENGTH) -> str:
    """``value`` stripped, refused when longer than ``limit`` (``ProgressReport.TEXT_MAX_LENGTH`` for a
    report's own text, ``REMARK_MAX_LENGTH`` for reasons and comments). What is saved stays as it was."""
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(ProgressReport.text_too_long(label, limit, len(value)), code="text_too_long")
    return value


def require_author(unit_id: int, by) -> None:
    access = get_access(by)
    if access.can_edit_unit(unit_id):
        return
    if access.is_office:
        raise PermissionDenied("创建办负责审核，不代替单位填写报告；请由该单位联络员填写和报送。")
    if access.is_leadership:
        raise PermissionDenied("领导账号只能查看报告，不能填写或修改。")
    raise PermissionDenied("只能填写和修改本单位的报告。")


def require_office(by) -> None:
    access = get_access(by)
    if access.is_office:
        return
    if access.is_leadership:
        raise PermissionDenied("领导账号只能查看报告，不能审核。")
    raise PermissionDenied("只有创建办工作人员可以审核报告和开放补报。")


def require_signer(unit_id: int, by) -> None:
    """Only the unit's own 分管领导 signs off (or returns) its reports waiting for sign-off."""
    access = get_access(by)
    if access.signs_off_for(unit_id):
        return
    if access.is_office:
        raise PermissionDenied(
            "该报告正在等待本单位分管领导审核，尚未报送到创建办；请待分管领导审核通过后再审核。"
        )
    if access.is_leadership:
        raise PermissionDenied("领导账号只能查看报告，不能审核。")
    raise PermissionDenied("只有本单位的分管领导可以审核签发或退回待审核的报告；联络员请等待分管领导审核。")


def _require_writable(period: ReportingPeriod, unit_id: int) -> None:
    """Refuse, in words, what ``selectors.period_is_writable`` (the one rule of a period's window) denies."""
    if period_is_writable(period=period, unit_id=unit_id):
        return
    if period.state == ReportingPeriod.State.UPCOMING:
        raise DomainError(f"{period.label}尚未开始报送，暂不能填写。", code="period_not_open")
    raise DomainError(
        f"{period.label}已截止报送，报告已锁定。如需补报或修改，请联系创建办为本单位开放补报。",
        code="period_closed",
    )


# Why a step is refused, by step and state, in words a person can act on. Whether it is refused is
# ``ProgressReport.can`` (its TRANSITIONS table), asked by ``_require_step`` before every step.
REFUSALS = {
    ("edit", State.APPROVED): ("该报告已审核通过并锁定，不能再修改。如需更正，请联系创建办。", "locked"),
    ("edit", State.SUBMITTED): (
        "该报告已报送，正在等待创建办审核，暂不能修改。如需修改，请联系创建办退回。",
        "submitted",
    ),
    ("edit", State.AWAITING_SIGNOFF): (
        "该报告已送本单位分管领导审核，暂不能修改。如需修改，请联系分管领导退回。",
        "awaiting_signoff",
    ),
    ("submit", State.SUBMITTED): ("该报告已报送，正在等待审核，无需重复报送。", "already_submitted"),
    ("submit", State.AWAITING_SIGNOFF): (
        "该报告已送本单位分管领导审核，无需重复报送；审核通过后将报送到创建办。",
        "already_submitted",
    ),
    ("signoff", State.DRAFT): ("该报告尚未报送，不能审核签发。", "not_awaiting_signoff"),
    ("signoff", State.RETURNED): (
        "该报告已退回联络员，正在等待修改后重新报送，不能审核签发。",
        "not_awaiting_signoff",
    ),
    ("signoff", State.SUBMITTED): ("该报告已审核签发并报送到创建办，无需重复操作。", "already_signed_off"),
    ("signoff", State.APPROVED): ("该报告已由创建办审核通过，不能再签发或退回。", "locked"),
    ("review", State.AWAITING_SIGNOFF): (
        "该报告正在等待本单位分管领导审核，尚未报送到创建办，暂不能审核或退回。",
        "awaiting_signoff",
    ),
    ("submit", State.APPROVED): ("该报告已审核通过并锁定，不能再次报送。", "locked"),
    ("review", State.DRAFT): ("该报告尚未报送，不能审核。", "not_submitted"),
    ("review", State.RETURNED): ("该报告已退回，正在等待单位修改后重新报送。", "not_submitted"),
    ("review", State.APPROVED): ("该报告已审核通过，不能重复审核或退回。", "not_submitted"),
}


def _require_step(report: ProgressReport, step: str) -> None:
    if report.can(step):
        return
    key = {"return": "review", "approve": "review", "signoff_return": "signoff"}.get(step, step)
    message, code = REFUSALS.get((key, report.state), ("该报告当前状态不允许此操作。", "bad_state"))
    raise DomainError(message, code=code)


def _stale(current: ProgressReport) -> StaleVersion:
    who = display_name(current.updated_by) if current.updated_by else "他人"
    when = timezone.localtime(current.updated_at)
    return StaleVersion(
        f"该报告已被他人修改（{who}于{cn_date(when)} {when:%H:%M}保存），您的内容未丢失，请核对后再保存。"
    )


def _locked(report: ProgressReport) -> ProgressReport:
    """The current row, locked for the rest of the transaction where the database can."""
    return (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("period", "unit", "task", "updated_by")
        .get(pk=report.pk)
    )


def _event(
    report: ProgressReport, action: str, by, *, comment: str = "", from_state: str = ""
) -> ReportEvent:
    return ReportEvent.objects.create(
        report=report,
        action=action,
        actor=by,
        comment=comment,
        from_state=from_state,
        to_state=report.state,
        version=report.version,
    )


def _save(report: ProgressReport, expected_version: int, fields: list[str]) -> None:
    """Write ``fields`` and bump the version only if nobody bumped it since ``expected_version``."""
    report.version = expected_version + 1
    report.updated_at = timezone.now()
    values = {name: getattr(report, name) for name in {*fields, "version", "updated_at"}}
    fk = {f.name: f.attname for f in ProgressReport._meta.concrete_fields if f.is_relation}
    values = {fk.get(k, k): (v.pk if k in fk and v is not None else v) for k, v in values.items()}
    changed = ProgressReport.objects.filter(pk=report.pk, version=expected_version).update(**values)
    if not changed:
        raise _stale(ProgressReport.objects.select_related("updated_by").get(pk=report.pk))


# ---------------------------------------------------------------- metrics


def _parse_metric_items(metrics: MetricsInput) -> list[tuple[object, object]]:
    if metrics is None:
        return []
    if isinstance(metrics, Mapping):
        return list(metrics.items())
    items = []
    for item in metrics:
        if not isinstance(item, Mapping) or "metric" not in item:
            raise DomainError(
                '指标数值格式不正确，应为 [{"metric": 指标编号, "value": 数值}]。', code="metrics"
            )
        items.append((item["metric"], item.get("value")))
    return items


# What a typed figure may look like: digits, an optional decimal part, and commas only as thousands
# separators ("1,234"), after full-width characters are made ordinary ("１２３" is 123, "1，234" is 1,234).
NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


class MisplacedComma(ValueError):
    """Commas that are not thousands separators: "1,2,3" may be three figures or 123; nobody can tell."""


class NotWholeNumber(ValueError):
    """A fraction for a metric that counts things ("3.7 场次"): nobody holds 0.7 of a lecture."""


# Units of measure that count things, so a figure in them is a whole number. Everything else (万元, 平方米,
# 公里, a percentage) is an amount and may carry decimals. Compared after NFKC and stripping, as typed in
# the plan.
COUNT_UNITS = frozenset(
    [
        "个",
        "次",
        "场",
        "场次",
        "人",
        "人次",
        "名",
        "份",
        "块",
        "条",
        "课时",
        "家",
        "户",
        "所",
        "项",
        "件",
        "期",
        "批",
        "篇",
        "本",
        "册",
        "张",
        "幅",
        "处",
        "座",
        "支",
        "队",
        "村",
        "社区",
        "套",
        "部",
        "集",
    ]
)


def is_count(metric) -> bool:
    """Does ``metric`` count things (whole numbers only), by its unit of measure?"""
    return unicodedata.normalize("NFKC", metric.unit_of_measure or "").strip() in COUNT_UNITS


def metric_number(raw: object, metric=None) -> Decimal:
    """The one rule for reading a figure a person typed or sent (the form's and the API's). Raises
    ``MisplacedComma`` for commas that are not thousands separators, ``NotWholeNumber`` for a fraction when
    ``metric`` counts things (``is_count``), ``ValueError`` for anything else that is not a number; the range
    (not negative, not too large) is the caller's."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int | float | Decimal):
        number = Decimal(str(raw))
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if not NUMBER.fullmatch(text):
            if "," in text and NUMBER.fullmatch(text.replace(",", "")):
                raise MisplacedComma(raw)
            raise ValueError(raw)
        number = Decimal(text.replace(",", ""))
    if (
        metric is not None
        and number.is_finite()
        and number != number.to_integral_value()
        and is_count(metric)
    ):
        raise NotWholeNumber(raw)
    return number


def misplaced_comma_message(label: str, raw: object) -> str:
    return (
        f"{label}填写的“{raw}”中逗号位置不对：逗号只能用作千位分隔符（如 1,234），"
        "无法确定是一个数还是几个数，请只填写一个数。"
    )


def not_whole_message(label: str, metric, raw: object) -> str:
    return (
        f"{label}以“{metric.unit_of_measure}”计数，只能填写整数（如 3 或 4），“{raw}”带有小数，请改为整数。"
    )


def clean_metrics(*, task: Task, metrics: MetricsInput) -> dict[int, Decimal | None]:
    """{metric id: value or None (clear)}; refuses unknown metrics, non-numbers and negatives."""
    items = _parse_metric_items(metrics)
    if not items:
        return {}
    allowed = {m.pk: m for m in report_metrics(task=task)}
    cleaned: dict[int, Decimal | None] = {}
    for raw_id, raw_value in items:
        try:
            metric_id = int(raw_id)
        except (TypeError, ValueError):
            raise DomainError(f"“{raw_id}”不是有效的指标编号。", code="metrics") from None
        metric = allowed.get(metric_id)
        if metric is None:
            raise DomainError(f"任务{task.number}没有编号为 {metric_id} 的指标，不能填报。", code="metrics")
        if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
            cleaned[metric_id] = None
            continue
        label = f"“{metric.name}”"
        if isinstance(raw_value, bool):
            raise DomainError(f"{label}应填写数字（单位：{metric.unit_of_measure}）。", code="metrics")
        try:
            value = metric_number(raw_value, metric)
        except MisplacedComma:
            raise DomainError(misplaced_comma_message(label, raw_value), code="metrics") from None
        except NotWholeNumber:
            raise DomainError(not_whole_message(label, metric, raw_value), code="metrics") from None
        except (ValueError, InvalidOperation):
            raise DomainError(
                f"{label}应填写数字（单位：{metric.unit_of_measure}），“{raw_value}”不是数字。",
                code="metrics",
            ) from None
        if not value.is_finite():
            raise DomainError(f"{label}应填写数字（单位：{metric.unit_of_measure}）。", code="metrics")
        if value < 0:
            raise DomainError(f"{label}不能为负数，请填写 0 或正数。", code="metrics")
        if value > MAX_METRIC_VALUE:
            raise DomainError(f"{label}数值过大，请核对单位（{metric.unit_of_measure}）。", code="metrics")
        cleaned[metric_id] = value.quantize(Decimal("0.01"))
    return cleaned


def _apply_metrics(report: ProgressReport, cleaned: dict[int, Decimal | None]) -> None:
    if not cleaned:
        return
    existing = {mv.metric_id: mv for mv in report.metric_values.all()}
    to_create, to_update, to_delete = [], [], []
    for metric_id, value in cleaned.items():
        current = existing.get(metric_id)
        if value is None:
            if current is not None:
                to_delete.append(current.pk)
        elif current is None:
            to_create.append(MetricValue(report=report, metric_id=metric_id, value=value))
        elif current.value != value:
            current.value = value
            to_update.append(current)
    if to_delete:
        MetricValue.objects.filter(pk__in=to_delete).delete()
    if to_update:
        MetricValue.objects.bulk_update(to_update, ["value"])
    if to_create:
        MetricValue.objects.bulk_create(to_create)


def _clean_status(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in ProgressReport.ProgressStatus.values:
        labels = "、".join(str(label) for label in ProgressReport.ProgressStatus.labels)
        raise DomainError(f"推进情况只能是：{labels}。", code="progress_status")
    return value


# ---------------------------------------------------------------- authoring


@transaction.atomic
def report_create(
    *,
    period: ReportingPeriod,
    unit: Unit,
    task: Task,
    by,
    progress: str = "",
    problems: str = "",
    next_steps: str = "",
    progress_status: str | None = None,
    metrics: MetricsInput = None,
) -> ProgressReport:
    """A new draft for (period, unit, task): only for a task the unit carries, once."""
    require_author(unit.pk, by)
    if task.campaign_id != period.campaign_id:
        raise DomainError("任务与报告期不属于同一创建活动。", code="task_not_carried")
    if not unit_carries(unit_id=unit.pk, task_id=task.pk):
        raise DomainError(
            f"{unit.name}不是任务{task.number}“{task.title}”的责任单位，不能为该任务填写报告。",
            code="task_not_carried",
        )
    _require_writable(period, unit.pk)
    if ProgressReport.objects.filter(period=period, unit=unit, task=task).exists():
        raise DomainError(
            f"{unit.name}{period.label}任务{task.number}的报告已经存在，请打开原报告修改，不要重复填写。",
            code="duplicate",
        )
    status = _clean_status(progress_status) or ProgressReport.ProgressStatus.ON_TRACK
    texts = {
        name: clean_text(value, label=TEXT_LABELS[name])
        for name, value in zip(TEXT_FIELDS, (progress, problems, next_steps), strict=True)
    }
    cleaned = clean_metrics(task=task, metrics=metrics)
    try:
        with transaction.atomic():
            report = ProgressReport.objects.create(
                period=period,
                unit=unit,
                task=task,
                **texts,
                progress_status=status,
                created_by=by,
                updated_by=by,
            )
    except IntegrityError:
        # Two people created it at the same moment; the other one won.
        raise DomainError(
            f"{unit.name}{period.label}任务{task.number}的报告刚刚已由他人创建，请打开该报告核对后再修改。",
            code="duplicate",
        ) from None
    _apply_metrics(report, cleaned)
    _event(report, Action.CREATED, by)
    figures.report_moved(report)
    return report


@transaction.atomic
def report_save_draft(
    *,
    report: ProgressReport,
    by,
    version: int,
    progress: str | None = None,
    problems: str | None = None,
    next_steps: str | None = None,
    progress_status: str | None = None,
    metrics: MetricsInput = None,
) -> ProgressReport:
    """Save the text and figures. Fields left as None keep their value. A stale ``version`` is refused."""
    require_author(report.unit_id, by)
    current = _locked(report)
    _require_step(current, "edit")
    _require_writable(current.period, current.unit_id)
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise DomainError("缺少版本号，请刷新页面后再保存。", code="version_required") from None
    if current.version != version:
        raise _stale(current)
    status = _clean_status(progress_status)
    texts = {
        name: clean_text(value, label=TEXT_LABELS[name])
        for name, value in zip(TEXT_FIELDS, (progress, problems, next_steps), strict=True)
        if value is not None
    }
    cleaned = clean_metrics(task=current.task, metrics=metrics)
    fields = ["updated_by"]
    for name, value in texts.items():
        setattr(current, name, value)
        fields.append(name)
    if status is not None:
        current.progress_status = status
        fields.append("progress_status")
    current.updated_by = by
    _save(current, version, fields)
    _apply_metrics(current, cleaned)
    _event(current, Action.SAVED, by)
    return current


@transaction.atomic
def report_submit(*, report: ProgressReport, by, version: int | None = None) -> ProgressReport:
    """Hand the report on: to the unit's 分管领导 when the unit requires sign-off (``Unit.requires_signoff``),
    else to the office. Needs the 工作进展 text; a returned report may be resubmitted, and goes through the
    leader again when the unit requires it."""
    require_author(report.unit_id, by)
    current = _locked(report)
    _require_step(current, "submit")
    _require_writable(current.period, current.unit_id)
    if version is not None and str(version) != str(current.version):
        raise _stale(current)
    if not current.progress.strip():
        raise DomainError(
            "“工作进展”还没有填写，不能报送。请先填写本季度的工作进展并保存。", code="empty_progress"
        )
    previous = current.state
    now = timezone.now()
    current.state = ProgressReport.state_after_submit(current.unit)
    current.submitted_by = by
    current.updated_by = by
    again = "修改后重新报送" if previous == State.RETURNED else ""
    if current.state == State.AWAITING_SIGNOFF:
        current.sent_for_signoff_at = now
        _save(current, current.version, ["state", "sent_for_signoff_at", "submitted_by", "updated_by"])
        _event(current, Action.SENT_FOR_SIGNOFF, by, from_state=previous, comment=again)
        figures.report_moved(current, previous=previous)
        _after_commit(on_report_sent_for_signoff, report=current)
        return current
    _reach_office(current, now)
    _save(
        current,
        current.version,
        ["state", "submitted_at", "first_submitted_at", "submitted_by", "updated_by"],
    )
    _event(current, Action.SUBMITTED, by, from_state=previous, comment=again)
    figures.report_moved(current, previous=previous)
    _after_commit(on_report_submitted, report=current)
    return current


def _reach_office(report: ProgressReport, now) -> None:
    """The report reaches the office now: what "on time" reads (``first_submitted_at``, the first time only)."""
    report.submitted_at = now
    report.first_submitted_at = report.first_submitted_at or now


@transaction.atomic
def report_signoff(*, report: ProgressReport, by, comment: str = "") -> ProgressReport:
    """The unit's 分管领导 signs off a report waiting for it: it reaches the office (and counts as reported,
    on time if this is on or before the due date)."""
    require_signer(report.unit_id, by)
    comment = clean_text(comment, label="审核意见", limit=ProgressReport.REMARK_MAX_LENGTH)
    current = _locked(report)
    _require_step(current, "signoff")
    now = timezone.now()
    current.state = State.SUBMITTED
    current.signed_off_at = now
    current.signed_off_by = by
    _reach_office(current, now)
    _save(
        current,
        current.version,
        ["state", "signed_off_at", "signed_off_by", "submitted_at", "first_submitted_at"],
    )
    _event(current, Action.SIGNED_OFF, by, comment=comment, from_state=State.AWAITING_SIGNOFF)
    figures.report_moved(current, previous=State.AWAITING_SIGNOFF)
    _after_commit(on_report_submitted, report=current)
    return current


# ---------------------------------------------------------------- the report form's save, in one call


class ReportFields(TypedDict, total=False):
    """A report's own content as a person sends it. A key left out (or None) keeps the saved value on an
    update; on a create it starts empty (推进情况: 按计划推进)."""

    progress: str | None
    problems: str | None
    next_steps: str | None
    progress_status: str | None


class EvidenceRefused(DomainError):
    """The file or link sent with a save was refused, so nothing of the save was kept. ``field`` is the input
    it came in (evidence_file, evidence_url or evidence_caption), for the form to show it there."""

    def __init__(self, error: DomainError, *, field: str):
        super().__init__(error.message, code=error.code, http_status=error.http_status)
        self.field = field


class SubmitRefused(DomainError):
    """The save was kept (committed) but the report was not submitted. ``report`` is the saved draft and
    ``reason`` the submit step's own refusal; the message says both, so a caller that shows only the message
    still tells the truth."""

    def __init__(self, *, report: ProgressReport, reason: DomainError):
        super().__init__(
            f"草稿已保存，但未能报送：{reason.message}", code=reason.code, http_status=reason.http_status
        )
        self.report = report
        self.reason = reason


@contextmanager
def _evidence_input(field: str) -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise EvidenceRefused(error, field=field) from None


def report_save(
    *,
    period: ReportingPeriod,
    unit: Unit,
    task: Task,
    by,
    version: int | None,
    fields: ReportFields,
    metrics: MetricsInput = None,
    evidence_file=None,
    evidence_url: str = "",
    evidence_caption: str = "",
    evidence_files: Sequence[tuple[object, str]] = (),
    submit: bool = False,
) -> ProgressReport:
    """Save the unit's report on the task in the period as the report form (and the API) sends it: create it
    (``version`` None) or update it (the ``version`` the person read), its figures, optional files and a link,
    and, with ``submit``, hand it to the office. ``evidence_files`` are (file, caption) pairs, several per
    save; ``evidence_file`` is one more file, captioned like the link with ``evidence_caption``.

    All or nothing for the save: a refused text, figure, version, file or link keeps nothing (the file and
    link are checked before anything is written; ``EvidenceRefused`` names the input). The submit runs in
    the same transaction under the same row lock, in its own savepoint: if the submit step refuses (in
    practice: 工作进展 still empty), the save is kept and ``SubmitRefused`` is raised after it commits, with
    the saved draft. Why keep it: the person pressed 报送 on a complete-looking form; throwing away their
    figures and the file they uploaded (a browser cannot re-fill a file input) to tell them that one box is
    empty loses work, and the draft is exactly what they would save next. Any other failure rolls back all.
    """
    require_author(unit.pk, by)
    pairs = [*evidence_files, *([(evidence_file, evidence_caption)] if evidence_file else [])]
    uploads = _checked_uploads(pairs, field="evidence_file")
    with _evidence_input("evidence_url"):
        url = _clean_url(evidence_url) if (evidence_url or "").strip() else ""
    with _evidence_input("evidence_caption"):
        caption = _clean_caption(evidence_caption) if url else ""
    content = {name: fields.get(name) for name in (*TEXT_FIELDS, "progress_status")}
    refused: DomainError | None = None
    with transaction.atomic():
        if version is None:
            report = report_create(period=period, unit=unit, task=task, by=by, metrics=metrics, **content)
        else:
            existing = ProgressReport.objects.filter(period=period, unit=unit, task=task).first()
            if existing is None:
                raise DomainError("该报告不存在，请刷新页面后再填写。", code="not_found")
            report = report_save_draft(report=existing, by=by, version=version, metrics=metrics, **content)
        for file, checked, file_caption in uploads:
            _attach_file(report, by, file, checked, file_caption)
        if url:
            _attach_link(report, by, url, caption)
        if submit:
            try:
                report = report_submit(report=report, by=by)
            except DomainError as error:  # report_submit's savepoint is rolled back; the save above stays
                refused = error
    if refused is not None:
        raise SubmitRefused(report=report, reason=refused)
    return report


# ---------------------------------------------------------------- review


def _required_reason(reason: str) -> str:
    reason = clean_text(reason, label="退回原因", limit=ProgressReport.REMARK_MAX_LENGTH)
    if not reason:
        raise DomainError("退回时必须填写退回原因，以便联络员知道如何修改。", code="reason_required")
    return reason


@transaction.atomic
def report_return(*, report: ProgressReport, by, reason: str) -> ProgressReport:
    """Send the report back to the unit's liaison; the reason is required and shown at the top of the report.
    A report waiting for sign-off is returned by the unit's 分管领导 (``report_signoff_return``), a submitted
    one by the office."""
    if report.state == State.AWAITING_SIGNOFF:
        return report_signoff_return(report=report, by=by, reason=reason)
    require_office(by)
    reason = _required_reason(reason)
    current = _locked(report)
    _require_step(current, "return")
    current.state = State.RETURNED
    current.return_reason = reason
    current.reviewed_at = timezone.now()
    current.reviewed_by = by
    _save(current, current.version, ["state", "return_reason", "reviewed_at", "reviewed_by"])
    _event(current, Action.RETURNED, by, comment=reason, from_state=State.SUBMITTED)
    figures.report_moved(current, previous=State.SUBMITTED)
    _after_commit(on_report_returned, report=current, reason=reason)
    return current


@transaction.atomic
def report_signoff_return(*, report: ProgressReport, by, reason: str) -> ProgressReport:
    """The unit's 分管领导 returns a report waiting for sign-off to the liaison, with a reason (required).
    ``signed_off_at``/``signed_off_by`` record the leader's decision, as for a sign-off."""
    require_signer(report.unit_id, by)
    reason = _required_reason(reason)
    current = _locked(report)
    _require_step(current, "signoff_return")
    current.state = State.RETURNED
    current.return_reason = reason
    current.signed_off_at = timezone.now()
    current.signed_off_by = by
    _save(current, current.version, ["state", "return_reason", "signed_off_at", "signed_off_by"])
    _event(current, Action.SIGNOFF_RETURNED, by, comment=reason, from_state=State.AWAITING_SIGNOFF)
    figures.report_moved(current, previous=State.AWAITING_SIGNOFF)
    _after_commit(on_report_returned, report=current, reason=reason)
    return current


@transaction.atomic
def report_approve(*, report: ProgressReport, by, comment: str = "") -> ProgressReport:
    """Approve a submitted report; it is locked from then on."""
    require_office(by)
    comment = clean_text(comment, label="审核意见", limit=ProgressReport.REMARK_MAX_LENGTH)
    current = _locked(report)
    _require_step(current, "approve")
    current.state = State.APPROVED
    current.reviewed_at = timezone.now()
    current.reviewed_by = by
    _save(current, current.version, ["state", "reviewed_at", "reviewed_by"])
    _event(current, Action.APPROVED, by, comment=comment, from_state=State.SUBMITTED)
    figures.report_moved(current, previous=State.SUBMITTED)
    return current


@transaction.atomic
def reports_approve_many(
    *, report_ids: Iterable[int], by
) -> tuple[list[ProgressReport], list[ProgressReport]]:
    """Approve every submitted report among ``report_ids``; returns (approved, skipped). Fixed queries."""
    require_office(by)
    ids = {int(pk) for pk in report_ids}
    if not ids:
        raise DomainError("请先勾选要通过的报告。", code="nothing_selected")
    reports = list(
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("unit", "task", "period")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    approved = [r for r in reports if r.can("approve")]
    skipped = [r for r in reports if not r.can("approve")]
    now = timezone.now()
    for r in approved:
        r.state, r.reviewed_at, r.reviewed_by, r.updated_at = State.APPROVED, now, by, now
        r.version += 1
    # Row locks are held, and only submitted rows are touched: the version bump keeps open forms honest.
    ProgressReport.objects.bulk_update(
        approved, ["state", "reviewed_at", "reviewed_by", "updated_at", "version"]
    )
    ReportEvent.objects.bulk_create(
        [
            ReportEvent(
                report=r,
                action=Action.APPROVED,
                actor=by,
                comment="批量审核通过",
                from_state=State.SUBMITTED,
                to_state=State.APPROVED,
                version=r.version,
            )
            for r in approved
        ]
    )
    figures.reports_moved(approved, previous=State.SUBMITTED)
    return approved, skipped


@transaction.atomic
def period_reopen_for_unit(
    *, period: ReportingPeriod, unit: Unit, by, reason: str, until: dt.date | None = None
) -> PeriodReopening:
    """Let one unit create and change its reports in a closed period (a lock exception)."""
    require_office(by)
    reason = clean_text(reason, label="开放原因", limit=ProgressReport.REMARK_MAX_LENGTH)
    if not reason:
        raise DomainError("请填写开放补报的原因。", code="reason_required")
    if period.state != ReportingPeriod.State.CLOSED:
        raise DomainError(f"{period.label}尚未截止，无需开放补报。", code="period_not_closed")
    today = timezone.localdate()
    if until is not None and until < today:
        raise DomainError("开放截止日期不能早于今天。", code="until")
    active = reopening_for(period=period, unit_id=unit.pk, today=today)
    if active is not None:
        end = f"至{cn_date(active.until)}" if active.until else "直至撤销"
        raise DomainError(f"已为{unit.name}开放{period.label}补报（{end}），无需重复开放。", code="duplicate")
    reopening = PeriodReopening.objects.create(
        period=period, unit=unit, reason=reason, until=until, opened_by=by
    )
    comment = f"创建办开放补报：{reason}" + (f"（至{cn_date(until)}）" if until else "")
    ReportEvent.objects.bulk_create(
        [
            ReportEvent(
                report=r,
                action=Action.REOPENED,
                actor=by,
                comment=comment,
                from_state=r.state,
                to_state=r.state,
                version=r.version,
            )
            for r in ProgressReport.objects.filter(period=period, unit=unit)
        ]
    )
    _after_commit(on_period_reopened, reopening=reopening)
    return reopening


@transaction.atomic
def period_reopening_revoke(*, reopening: PeriodReopening, by) -> PeriodReopening:
    require_office(by)
    if reopening.revoked_at is None:
        reopening.revoked_at = timezone.now()
        reopening.save(update_fields=["revoked_at"])
    return reopening


# ---------------------------------------------------------------- evidence


def _require_evidence_change(report: ProgressReport, by) -> ProgressReport:
    require_author(report.unit_id, by)
    current = _locked(report)
    _require_step(current, "edit")
    _require_writable(current.period, current.unit_id)
    return current


def _clean_caption(caption: str | None) -> str:
    try:
        return clean_text(caption, label="材料说明", limit=Evidence._meta.get_field("caption").max_length)
    except DomainError as error:
        raise DomainError(error.message, code="caption") from None


def _clean_url(url: str | None) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError("链接地址无效，请填写以 http:// 或 https:// 开头的完整网址。", code="url") from None
    if len(url) > 500:
        raise DomainError("链接地址过长（最多 500 个字符）。", code="url")
    return url


@transaction.atomic
def evidence_add_file(*, report: ProgressReport, by, file, caption: str = "") -> Evidence:
    """Attach a photo, PDF, Word or Excel file, checked by its content and size."""
    current = _require_evidence_change(report, by)
    caption = _clean_caption(caption)
    return _attach_file(current, by, file, evidence_files.check_upload(file), caption)


def _attach_file(
    current: ProgressReport, by, file, checked: tuple[evidence_files.Sniffed, str, int], caption: str
) -> Evidence:
    """Store a file already checked by ``evidence.check_upload`` on a report already locked and checked."""
    kind, sha256, size = checked
    evidence = Evidence(
        report=current,
        kind=Evidence.Kind.FILE,
        original_name=evidence_files.display_name(getattr(file, "name", "")),
        content_type=kind.content_type,
        size=size,
        sha256=sha256,
        caption=caption,
        uploaded_by=by,
    )
    evidence.file.save(evidence_files.stored_name(kind.extension), file, save=False)
    if kind.content_type.startswith("image/"):
        thumb = evidence_files.make_thumbnail(file)
        if thumb is not None:
            evidence.thumbnail.save(f"{sha256[:16]}.jpg", thumb, save=False)
    evidence.save()
    _event(
        current,
        Action.EVIDENCE_ADDED,
        by,
        comment=caption or evidence.original_name,
        from_state=current.state,
    )
    return evidence


@transaction.atomic
def evidence_add_files(*, report: ProgressReport, by, files: Sequence[tuple[object, str]]) -> list[Evidence]:
    """Attach several files at once, each with its caption: every file is checked (content and size, as
    ``evidence_add_file``) before any is stored, so a refused one keeps none and says which it was."""
    if not files:
        raise DomainError("请先选择要上传的文件。", code="required")
    current = _require_evidence_change(report, by)
    return [
        _attach_file(current, by, file, checked, caption)
        for file, checked, caption in _checked_uploads(files, field="file")
    ]


def _checked_uploads(
    files: Sequence[tuple[object, str]], *, field: str
) -> list[tuple[object, tuple[evidence_files.Sniffed, str, int], str]]:
    """Each (file, caption) checked one at a time by ``evidence.check_upload`` and ``_clean_caption``; a
    refusal names the file when there are several (``EvidenceRefused`` on ``field``)."""
    checked = []
    for file, caption in files:
        try:
            checked.append((file, evidence_files.check_upload(file), _clean_caption(caption)))
        except DomainError as error:
            name = evidence_files.display_name(getattr(file, "name", ""))
            message = f"“{name}”：{error.message}" if len(files) > 1 else error.message
            raise EvidenceRefused(DomainError(message, code=error.code), field=field) from None
    return checked


@transaction.atomic
def evidence_add_link(*, report: ProgressReport, by, url: str, caption: str = "") -> Evidence:
    """Attach a link to a news article or 公众号 post."""
    current = _require_evidence_change(report, by)
    caption = _clean_caption(caption)
    return _attach_link(current, by, _clean_url(url), caption)


def _attach_link(current: ProgressReport, by, url: str, caption: str) -> Evidence:
    evidence = Evidence.objects.create(
        report=current, kind=Evidence.Kind.LINK, url=url, caption=caption, uploaded_by=by
    )
    _event(current, Action.EVIDENCE_ADDED, by, comment=caption or url, from_state=current.state)
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, by) -> None:
    current = _require_evidence_change(evidence.report, by)
    label = evidence.caption or evidence.original_name or evidence.url
    files = [f for f in (evidence.file, evidence.thumbnail) if f]
    evidence.delete()
    _event(current, Action.EVIDENCE_REMOVED, by, comment=label, from_state=current.state)

    def delete_files():
        for f in files:
            f.storage.delete(f.name)

    transaction.on_commit(delete_files)


# ---------------------------------------------------------------- after a step: hooks

# Why hooks and not an import: notifications depends on reports (units → campaign → tasks → reports →
# {dashboards, notifications} → compilations), so reports may not import it. Each step that others want to
# hear about has a typed list of callables; notifications/apps.py appends its functions by reference in
# ready(). A reference (not a name looked up at run time) means "find usages" and vulture see the call, and a
# renamed function fails when the site starts, not silently on the first submission.


class ReportSubmittedHook(Protocol):
    def __call__(self, *, report: ProgressReport) -> None: ...


class ReportReturnedHook(Protocol):
    def __call__(self, *, report: ProgressReport, reason: str) -> None: ...


class PeriodReopenedHook(Protocol):
    def __call__(self, *, reopening: PeriodReopening) -> None: ...


# A report reached the office (a liaison's submit, or the leader's sign-off).
on_report_submitted: list[ReportSubmittedHook] = []
# A report was sent to the unit's 分管领导 for sign-off.
on_report_sent_for_signoff: list[ReportSubmittedHook] = []
on_report_returned: list[ReportReturnedHook] = []
on_period_reopened: list[PeriodReopenedHook] = []


def _after_commit(hooks: list, **kwargs) -> None:
    """Call each hook once the step's transaction commits (never for a step that rolls back); a failing hook
    is logged and never undoes the step, nor stops the other hooks."""
    hooks = list(hooks)

    def run() -> None:
        for hook in hooks:
            try:
                hook(**kwargs)
            except Exception:  # noqa: BLE001 - the step is committed; log and carry on
                logger.exception("通知发送失败：%s", getattr(hook, "__qualname__", repr(hook)))

    transaction.on_commit(run)
