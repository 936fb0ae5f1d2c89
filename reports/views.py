"""Pages of the reporting loop: the liaison's 本季度报送, the report form, the unit's past reports; the office's
review queue, report page and reopenings. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from campaign.errors import DomainError, NotFound, PermissionDenied, StaleVersion
from campaign.models import Campaign, ReportingPeriod
from tasks.models import Responsibility, Task
from units.access import get_access
from units.models import Unit

from . import evidence as evidence_files
from . import selectors, services
from .forms import ReopenForm, ReportForm, ReturnForm, metric_field_name
from .models import Evidence, ProgressReport

State = ProgressReport.State


def _error_page(request, message: str, status: int):
    return render(request, "reports/error.html", {"message": message, "status": status}, status=status)


def domain_pages(view):
    """Turn NotFound / PermissionDenied from selectors and services into Chinese 404 / 403 pages."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return _error_page(request, exc.message, 404)
        except PermissionDenied as exc:
            return _error_page(request, exc.message, 403)
        except Http404:
            return _error_page(request, "页面不存在，或您无权查看。", 404)

    return login_required(wrapped)


def _require_office(request):
    access = get_access(request.user)
    if not access.is_office:
        raise PermissionDenied("此页面仅供创建办工作人员使用。")
    return access


def _campaign():
    campaign = Campaign.current()
    if campaign is None:
        raise NotFound("尚未设置创建活动。")
    return campaign


def _my_units(request) -> list[Unit]:
    access = get_access(request.user)
    if not access.is_unit_member:
        raise PermissionDenied("此页面供各单位联络员填报使用；创建办请使用“审核”页面，领导请查看看板。")
    return list(Unit.objects.filter(pk__in=access.unit_ids).order_by("order", "id"))


def _pick_unit(request, units: list[Unit]) -> Unit:
    wanted = request.GET.get("unit")
    for unit in units:
        if wanted and str(unit.pk) == wanted:
            return unit
    return units[0]


# ---------------------------------------------------------------- liaison pages


@domain_pages
def period_page(request):
    """本季度报送: the unit's tasks in the open period (or a period reopened for it)."""
    units = _my_units(request)
    unit = _pick_unit(request, units)
    campaign = _campaign()
    today = timezone.localdate()
    period = None
    if request.GET.get("period"):
        period = ReportingPeriod.objects.filter(campaign=campaign, pk=request.GET["period"]).first()
    if period is None:
        period = ReportingPeriod.current_open(campaign)
    overview = selectors.unit_period_overview(unit=unit, period=period, today=today)
    reopened = [
        r
        for r in selectors.active_reopenings(campaign, today, unit=unit)
        if r.period_id != getattr(period, "pk", None)
    ]
    return render(
        request,
        "reports/period.html",
        {
            "units": units,
            "unit": unit,
            "overview": overview,
            "period": period,
            "today": today,
            "reopened": reopened,
        },
    )


@domain_pages
def history_page(request):
    """The unit's reports in past periods."""
    units = _my_units(request)
    unit = _pick_unit(request, units)
    campaign = _campaign()
    current = ReportingPeriod.current_open(campaign)
    groups = selectors.unit_history(unit=unit, campaign=campaign, exclude_period=current)
    return render(request, "reports/history.html", {"units": units, "unit": unit, "groups": groups})


def _form_initial(report: ProgressReport | None, metrics) -> dict:
    if report is None:
        return {"progress_status": ProgressReport.ProgressStatus.ON_TRACK, "version": ""}
    initial = {
        "progress": report.progress,
        "problems": report.problems,
        "next_steps": report.next_steps,
        "progress_status": report.progress_status,
        "version": report.version,
    }
    values = {mv.metric_id: mv.value for mv in report.metric_values.all()}
    for metric in metrics:
        if metric.pk in values:
            initial[metric_field_name(metric.pk)] = format(values[metric.pk].normalize(), "f")
    return initial


@domain_pages
def fill_page(request, period_id: int, unit_id: int, task_id: int):
    """The report form: new or draft/returned report of a unit on a task in a period."""
    access = get_access(request.user)
    if not access.can_read_unit(unit_id):
        raise NotFound("页面不存在，或您无权查看。")
    period = get_object_or_404(ReportingPeriod, pk=period_id)
    unit = get_object_or_404(Unit, pk=unit_id)
    task = selectors.task_with_targets(task_id) if Task.objects.filter(pk=task_id).exists() else None
    if task is None:
        raise NotFound("任务不存在。")
    report = (
        ProgressReport.objects.filter(period=period, unit=unit, task=task)
        .select_related("updated_by")
        .prefetch_related("metric_values", "evidence")
        .first()
    )
    if not access.can_edit_unit(unit_id):
        if report is not None:
            return redirect("reports:detail", pk=report.pk)
        raise PermissionDenied("只有本单位联络员可以填写报告。")
    if not Responsibility.objects.filter(unit=unit, task=task).exists():
        raise NotFound(f"{unit.name}不是任务{task.number}的责任单位。")
    if report is not None and not report.is_editable:
        messages.info(request, "该报告已报送或已通过，不能再修改。")
        return redirect("reports:detail", pk=report.pk)
    writable = services.period_is_writable(period, unit.pk)
    metrics = services.report_metrics(task)
    context = {"period": period, "unit": unit, "task": task, "report": report, "writable": writable}

    if request.method == "POST":
        return _fill_post(request, context, metrics)

    initial = _form_initial(report, metrics)
    previous = selectors.previous_report(period=period, unit_id=unit.pk, task_id=task.pk)
    if request.GET.get("copy") and previous is not None:
        copied = _form_initial(previous, metrics)
        copied["version"] = initial["version"]
        initial = copied
        messages.info(
            request, f"已从{previous.period.label}的报告复制内容和指标数值，请按本季度实际修改后保存。"
        )
    form = ReportForm(initial=initial, metrics=metrics)
    return render(request, "reports/fill.html", {**context, "form": form, "previous": previous})


def _fill_post(request, context, metrics):
    period, unit, task, report = context["period"], context["unit"], context["task"], context["report"]
    action = request.POST.get("action", "save")
    form = ReportForm(request.POST, request.FILES, metrics=metrics)

    def again(error: str = "", conflict: ProgressReport | None = None, status: int = 200):
        if error:
            form.add_error(None, error)
        return render(
            request,
            "reports/fill.html",
            {**context, "form": form, "conflict": conflict, "previous": None},
            status=status,
        )

    if not form.is_valid():
        return again(status=400)
    upload = form.cleaned_data.get("evidence_file")
    if upload:
        try:
            evidence_files.check_upload(upload)
        except DomainError as exc:
            form.add_error("evidence_file", f"{exc.message}（报告内容尚未保存，请重新选择文件后再保存。）")
            return again(status=400)
    data = form.cleaned_data
    fields = {
        "progress": data["progress"],
        "problems": data["problems"],
        "next_steps": data["next_steps"],
        "progress_status": data["progress_status"],
        "metrics": form.metric_values(),
    }
    try:
        with transaction.atomic():
            if report is None:
                report = services.report_create(
                    period=period, unit=unit, task=task, by=request.user, **fields
                )
            else:
                report = services.report_save_draft(
                    report=report, by=request.user, version=data.get("version"), **fields
                )
            if upload:
                services.evidence_add_file(
                    report=report, by=request.user, file=upload, caption=data["evidence_caption"]
                )
            if data["evidence_url"].strip():
                services.evidence_add_link(
                    report=report, by=request.user, url=data["evidence_url"], caption=data["evidence_caption"]
                )
    except StaleVersion as exc:
        current = (
            ProgressReport.objects.select_related("updated_by")
            .prefetch_related("metric_values__metric")
            .get(pk=report.pk)
        )
        # Keep the person's text on screen; the next save is made knowingly against the current version.
        posted = request.POST.copy()
        posted["version"] = current.version
        form = ReportForm(posted, metrics=metrics)
        form.is_valid()
        context["report"] = current
        return again(exc.message, conflict=current, status=409)
    except DomainError as exc:
        return again(exc.message, status=400)

    if action == "submit":
        try:
            report = services.report_submit(report=report, by=request.user)
        except DomainError as exc:
            posted = request.POST.copy()
            posted["version"] = report.version
            form = ReportForm(posted, metrics=metrics)
            form.is_valid()
            context["report"] = report
            return again(f"草稿已保存，但未能报送：{exc.message}", status=400)
        messages.success(request, f"任务{task.number}的报告已报送，等待创建办审核。")
        return redirect(f"{reverse('reports:period')}?unit={unit.pk}&period={period.pk}")
    messages.success(request, "草稿已保存。")
    return redirect("reports:fill", period_id=period.pk, unit_id=unit.pk, task_id=task.pk)


@domain_pages
@require_POST
def submit(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    try:
        services.report_submit(report=report, by=request.user, version=request.POST.get("version") or None)
        messages.success(request, f"任务{report.task.number}的报告已报送，等待创建办审核。")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reports:detail", pk=report.pk)


# ---------------------------------------------------------------- the report page


@domain_pages
def detail(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    access = get_access(request.user)
    can_author = access.can_edit_unit(report.unit_id)
    writable = services.period_is_writable(report.period, report.unit_id) if can_author else False
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "task": selectors.task_with_targets(report.task_id),
            "can_review": access.is_office and report.can("approve"),
            "can_edit": can_author and report.is_editable and writable,
            "can_submit": can_author and report.can("submit") and writable,
            "return_form": ReturnForm(),
            "unusual": [mv for mv in report.metric_values.all() if mv.is_unusual],
        },
    )


# ---------------------------------------------------------------- evidence


@domain_pages
@require_POST
def evidence_add(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    try:
        if request.FILES.get("file"):
            services.evidence_add_file(
                report=report,
                by=request.user,
                file=request.FILES["file"],
                caption=request.POST.get("caption", ""),
            )
        else:
            services.evidence_add_link(
                report=report,
                by=request.user,
                url=request.POST.get("url", ""),
                caption=request.POST.get("caption", ""),
            )
        messages.success(request, "佐证材料已添加。")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") or reverse("reports:detail", args=[report.pk]))


@domain_pages
@require_POST
def evidence_remove(request, pk: int):
    evidence = selectors.evidence_for(user=request.user, pk=pk)
    report = evidence.report
    try:
        services.evidence_remove(evidence=evidence, by=request.user)
        messages.success(request, "佐证材料已删除。")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") or reverse("reports:detail", args=[report.pk]))


@domain_pages
@xframe_options_sameorigin
def evidence_file(request, pk: int, thumb: bool = False):
    """Evidence is served only to people who may read the report (never from a public media URL)."""
    evidence = selectors.evidence_for(user=request.user, pk=pk)
    stored = evidence.thumbnail if thumb else evidence.file
    if evidence.kind != Evidence.Kind.FILE or not stored:
        raise NotFound("文件不存在。")
    inline = thumb or evidence.is_image or evidence.is_pdf
    name = evidence.original_name or stored.name.rsplit("/", 1)[-1]
    response = FileResponse(
        stored.open("rb"),
        content_type="image/jpeg" if thumb else evidence.content_type,
        as_attachment=not inline,
        filename=name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- office pages


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@domain_pages
def review_queue(request):
    _require_office(request)
    campaign = _campaign()
    state = request.GET.get("state", State.SUBMITTED)
    if state not in State.values and state != "all":
        state = State.SUBMITTED
    filters = selectors.QueueFilters(
        period=_int_or_none(request.GET.get("period")),
        unit=_int_or_none(request.GET.get("unit")),
        task=_int_or_none(request.GET.get("task")),
        state=None if state == "all" else state,
        q=request.GET.get("q", "").strip()[:100],
    )
    page = selectors.review_queue(filters=filters, page=request.GET.get("page", 1))
    return render(
        request,
        "reports/review_queue.html",
        {
            "page": page,
            "filters": filters,
            "state": state,
            "states": State.choices,
            **selectors.queue_choices(campaign),
        },
    )


@domain_pages
@require_POST
def approve(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    try:
        services.report_approve(report=report, by=request.user, comment=request.POST.get("comment", ""))
        messages.success(request, f"已通过：{report.unit.name} 任务{report.task.number}。")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") or reverse("reports:detail", args=[report.pk]))


@domain_pages
@require_POST
def return_report(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    form = ReturnForm(request.POST)
    reason = form.data.get("reason", "")
    try:
        services.report_return(report=report, by=request.user, reason=reason)
    except PermissionDenied:
        raise
    except DomainError as exc:
        access = get_access(request.user)
        form.is_valid()
        return render(
            request,
            "reports/detail.html",
            {
                "report": selectors.report_for(user=request.user, pk=pk),
                "task": selectors.task_with_targets(report.task_id),
                "can_review": access.is_office and report.can("approve"),
                "return_form": form,
                "return_error": exc.message,
                "unusual": [mv for mv in report.metric_values.all() if mv.is_unusual],
            },
            status=400,
        )
    messages.success(request, f"已退回：{report.unit.name} 任务{report.task.number}，退回原因已通知联络员。")
    return redirect(f"{reverse('reports:review_queue')}")


@domain_pages
@require_POST
def approve_many(request):
    _require_office(request)
    ids = [pk for pk in (_int_or_none(v) for v in request.POST.getlist("report")) if pk is not None]
    try:
        approved, skipped = services.reports_approve_many(report_ids=ids, by=request.user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = f"已批量通过 {len(approved)} 份报告。"
        if skipped:
            text += f"另有 {len(skipped)} 份不是待审核状态，已跳过。"
        messages.success(request, text)
    return redirect(request.POST.get("next") or reverse("reports:review_queue"))


@domain_pages
def reopen(request):
    _require_office(request)
    campaign = _campaign()
    form = ReopenForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            reopening = services.period_reopen_for_unit(
                period=form.cleaned_data["period"],
                unit=form.cleaned_data["unit"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已为{reopening.unit.name}开放{reopening.period.label}补报。")
            return redirect("reports:reopen")
    return render(
        request,
        "reports/reopen.html",
        {"form": form, "reopenings": selectors.active_reopenings(campaign)},
        status=400 if request.method == "POST" else 200,
    )


@domain_pages
@require_POST
def reopen_revoke(request, pk: int):
    _require_office(request)
    from .models import PeriodReopening

    reopening = get_object_or_404(PeriodReopening, pk=pk)
    services.period_reopening_revoke(reopening=reopening, by=request.user)
    messages.success(request, f"已撤销{reopening.unit.name}{reopening.period.label}的补报开放。")
    return redirect("reports:reopen")
