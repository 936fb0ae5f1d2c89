"""Compiled documents: asking for one, building it in a job, retrying, and keeping the store tidy.

Every write about a ``Compilation`` lives here; ``reports/jobs.py`` only hands ids to these functions.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, ReportingPeriod
from tasks.models import Task
from units.access import get_access
from units.models import Unit

from . import build, jobs, kinds, selectors
from .models import Compilation

logger = logging.getLogger(__name__)

# The built-in kinds; ``kind_labels()`` adds the kinds other apps register (``kinds.py``).
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


def kind_labels() -> dict[str, str]:
    """Every kind a request may name: the built-in ones and the registered ones."""
    return kinds.kind_labels()


def kind_help() -> dict[str, str]:
    """How to ask for each kind, in one sentence (the form, the API docs, the errors)."""
    return {**{k: str(v) for k, v in KIND_HELP.items()}, **{k.value: k.help for k in kinds.extra()}}


def kind_formats(kind: str) -> tuple[str, ...]:
    extra = kinds.get(kind)
    return extra.formats if extra is not None else Compilation.BUILT_IN_FORMATS


def required_scope(kind: str) -> set[str]:
    """The request parameters a kind cannot do without (a link with them all may open a built file)."""
    extra = kinds.get(kind)
    if extra is not None:
        return {extra.scope}
    return KIND_SCOPE[kind][0] if kind in KIND_SCOPE else set()


def scope_params() -> set[str]:
    """The names of the registered kinds' scope parameters (``system``), which requests may carry."""
    return {k.scope for k in kinds.extra()}


# The kinds whose PDF/Word can carry the units' full reports as an appendix (the others are already full text
# or have no per-report text); for the rest the choice is ignored, so it never splits identical documents.
APPENDIX_KINDS = {Compilation.Kind.QUARTERLY, Compilation.Kind.UNIT, Compilation.Kind.TASK}
# A ledger is a spreadsheet; past this many rows a PDF or Word table is no use to anyone.
LEDGER_DOCUMENT_MAX_ROWS = 5000
# How many of one person's compilations may be queued or running at once (a setting may change it).
IN_FLIGHT_PER_PERSON = 5


def in_flight_limit() -> int:
    return getattr(settings, "COMPILATIONS_IN_FLIGHT_PER_PERSON", IN_FLIGHT_PER_PERSON)


def _check_in_flight(by) -> None:
    """One person's compilations in flight are limited: each runs a worker for minutes, and a person
    clicking again and again (or a script) must not fill the queue. Locks the person's row so that two
    requests at once cannot both pass the count."""
    get_user_model().objects.select_for_update().filter(pk=by.pk).first()
    limit = in_flight_limit()
    in_flight = Compilation.objects.filter(
        requested_by=by, automatic=False, state__in=[Compilation.State.QUEUED, Compilation.State.RUNNING]
    ).count()
    if in_flight >= limit:
        raise DomainError(
            f"您已有{in_flight}份汇编正在排队或生成（每人最多同时{limit}份），"
            "请在“汇编文件”列表中等其中一份完成后再申请。",
            code="too_many_in_flight",
            http_status=429,
        )


# ------------------------------------------------------------------------------------- permissions


def can_request(access, *, kind: str, unit_id: int | None) -> bool:
    extra = kinds.get(kind)
    if extra is not None:
        return extra.can_request(access)
    if access.sees_everything:
        return True
    return kind == Compilation.Kind.UNIT and unit_id is not None and unit_id in access.unit_ids


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
    labels = kind_labels()
    if kind not in labels:
        choices = "、".join(f"{k}（{v}）" for k, v in labels.items())
        raise DomainError(f"未知的汇编类型“{kind or ''}”，可选：{choices}。", code="invalid_kind")
    formats = kind_formats(kind)
    choices = "、".join(f"{k}（{FORMAT_LABELS[k]}）" for k in formats)
    if format not in FORMAT_LABELS:
        raise DomainError(f"未知的文件格式“{format or ''}”，可选：{choices}。", code="invalid_format")
    if format not in formats:
        raise DomainError(
            f"{labels[kind]}不提供{FORMAT_LABELS[format]}格式，可选：{choices}。", code="invalid_format"
        )
    return kind, format


def _extra_scope(extra: kinds.ExtraKind, raw: dict, extra_scope: dict, by) -> dict:
    """The scope of a registered kind's request: its one parameter, resolved by the kind, after its own
    permission check (so that a refused person learns nothing about which ids exist)."""
    access = get_access(by)
    if not extra.can_request(access):
        raise PermissionDenied(extra.refusal)
    labels = {**SCOPE_LABELS, **{k.scope: k.scope_label for k in kinds.extra()}}
    for name, value in {**raw, **extra_scope}.items():
        if name not in (extra.scope, "format") and value not in (None, "", False):
            raise DomainError(
                f"{extra.label}不按{labels.get(name, name)}筛选，请去掉{labels.get(name, name)}。{extra.help}。",
                code="invalid_scope",
            )
    value = extra_scope.get(extra.scope)
    if value is None or value == "":
        raise DomainError(f"{extra.help}。", code="missing_scope")
    subject = extra.resolve(value, by=by)
    return {
        "kind": extra.value,
        "format": raw["format"],
        "campaign": subject.campaign,
        "period": None,
        "year": None,
        "unit": None,
        "task": None,
        "with_appendix": False,
        "subject_id": subject.pk,
    }


def compilation_scope(
    *,
    kind: str,
    format: str,
    period: ReportingPeriod | int | None = None,
    year: int | str | None = None,
    unit: Unit | int | None = None,
    task: Task | int | None = None,
    with_appendix: bool = False,
    extra_scope: dict | None = None,
    by,
) -> dict:
    """What a request asks for, checked: the fields that make two requests identical (the same document).
    ``extra_scope`` holds the registered kinds' scope parameters (``{"system": 3}``); ``subject_id`` is part
    of the identity like period, unit and task.

    Raises ``DomainError`` (400/403) with a message in Chinese when the request is malformed or not allowed.
    """
    kind, format = validate_kind_format(kind, format)
    if by is None:
        raise PermissionDenied("请先登录。")
    extra_scope = {name: value for name, value in (extra_scope or {}).items() if value not in (None, "")}
    extra = kinds.get(kind)
    if extra is not None:
        raw = {"format": format, "period": period, "year": year, "unit": unit, "task": task}
        return _extra_scope(extra, raw, extra_scope, by)
    if kind != Compilation.Kind.UNIT and not get_access(by).sees_everything:
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
    if any(given[name] is None for name in required):
        raise DomainError(f"{KIND_HELP[kind]}。", code="missing_scope")
    for name, value in given.items():
        if value is not None and name not in required | optional:
            raise DomainError(
                f"{label}不按{SCOPE_LABELS[name]}筛选，请去掉{SCOPE_LABELS[name]}。{KIND_HELP[kind]}。",
                code="invalid_scope",
            )
    if given["period"] is not None and given["year"] is not None:
        raise DomainError("报告期和年度只能选择一个。", code="invalid_scope")
    if extra_scope:
        labels = {k.scope: k.scope_label for k in kinds.extra()}
        name = labels.get(next(iter(extra_scope)), next(iter(extra_scope)))
        raise DomainError(f"{label}不按{name}筛选，请去掉{name}。{KIND_HELP[kind]}。", code="invalid_scope")

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

    return {
        "kind": kind,
        "format": format,
        "campaign": campaign,
        "period": given["period"],
        "year": given["year"],
        "unit": given["unit"],
        "task": given["task"],
        "with_appendix": bool(with_appendix) and kind in APPENDIX_KINDS and format != Compilation.Format.XLSX,
        "subject_id": None,
    }


def identical(scope: dict):
    """The compilations that are the same document as ``scope`` (from ``compilation_scope``): the one rule
    for "identical requests", whether one is in flight or one is already built."""
    return Compilation.objects.filter(**scope)


def compilation_request(
    *,
    kind: str,
    format: str,
    period: ReportingPeriod | int | None = None,
    year: int | str | None = None,
    unit: Unit | int | None = None,
    task: Task | int | None = None,
    with_appendix: bool = False,
    extra_scope: dict | None = None,
    by,
) -> tuple[Compilation, bool]:
    """Ask for a compiled document; the job is queued once the transaction commits.

    Returns ``(compilation, created)``: an identical one already queued or running is returned instead of
    starting a second build. Raises ``DomainError`` (400/403) with a message in Chinese, queueing nothing.
    """
    scope = compilation_scope(
        kind=kind,
        format=format,
        period=period,
        year=year,
        unit=unit,
        task=task,
        with_appendix=with_appendix,
        extra_scope=extra_scope,
        by=by,
    )
    # A row whose run died must not stand in for this request (nor count against the person's limit):
    # in-process there is no beat to reap it, so every request reaps first.
    build.compilations_fail_stuck()
    with transaction.atomic():
        existing = (
            identical(scope)
            .select_for_update()
            .filter(automatic=False, state__in=[Compilation.State.QUEUED, Compilation.State.RUNNING])
            .first()
        )
        if existing is not None:
            return existing, False
        _check_in_flight(by)
        compilation = Compilation.objects.create(**scope, requested_by=by)
        jobs.compilation_enqueue(compilation.pk)
    return compilation, True


def compilation_existing_file(
    *,
    kind: str,
    format: str,
    period: ReportingPeriod | int | None = None,
    year: int | str | None = None,
    unit: Unit | int | None = None,
    task: Task | int | None = None,
    with_appendix: bool = False,
    extra_scope: dict | None = None,
    by,
) -> Compilation | None:
    """The newest built file of exactly this request that ``by`` may download (a person's or the automatic
    one after a period closed), or None. A newer identical build supersedes an older one. Raises
    ``DomainError`` as ``compilation_request`` does for a request that is malformed or not allowed."""
    scope = compilation_scope(
        kind=kind,
        format=format,
        period=period,
        year=year,
        unit=unit,
        task=task,
        with_appendix=with_appendix,
        extra_scope=extra_scope,
        by=by,
    )
    newest = (
        identical(scope)
        .filter(state=Compilation.State.DONE)
        .filter(pk__in=selectors.compilations_visible_to(by).values("pk"))
        .order_by("-finished_at", "-id")
        .first()
    )
    return newest if newest is not None and newest.has_file else None


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


def compilation_retry(*, compilation: Compilation, by) -> Compilation:
    """Queue a failed compilation again (same row, so its page and links stay valid)."""
    if not selectors.compilations_visible_to(by).filter(pk=compilation.pk).exists() or not can_request(
        get_access(by), kind=compilation.kind, unit_id=compilation.unit_id
    ):
        raise PermissionDenied("您没有重新生成该文件的权限。")
    build.compilations_fail_stuck()
    with transaction.atomic():
        row = Compilation.objects.select_for_update().get(pk=compilation.pk)
        if row.state != Compilation.State.FAILED:
            raise DomainError(
                f"只有失败的汇编可以重试（当前状态：{row.get_state_display()}）。", code="not_failed"
            )
        _check_in_flight(by)
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
        jobs.compilation_enqueue(row.pk)
    compilation.refresh_from_db()
    return compilation


def compilation_check_stuck(*, compilation: Compilation) -> Compilation:
    """Fail this compilation if its run died (see ``build.stuck_after``), so a page never shows "running"
    forever — in-process no beat runs the reaper. Returns the row as it now is."""
    if not compilation.is_finished and build.compilations_fail_stuck(ids=[compilation.pk])["running"]:
        compilation.refresh_from_db()
    return compilation


def compilations_for_closed_periods(*, now: dt.datetime | None = None) -> int:
    """The quarterly summaries of recently closed periods, queued (what the beat job runs)."""
    return build.compilations_for_closed_periods(now=now, enqueue=jobs.compilation_enqueue)
