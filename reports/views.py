"""Pages of the reporting loop: the liaison's 本季度报送, the report form, the unit's past reports; the office's
review queue, report page and reopenings. Views parse input, call a service or selector, and render."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from campaign.decorators import domain_errors_as_pages, office_required
from campaign.errors import DomainError, NotFound, PermissionDenied, StaleVersion
from campaign.models import Campaign, ReportingPeriod
from campaign.redirects import redirect_next
from units.access import get_access
from units.models import Unit

from . import selectors, services
from .forms import CAPTION_MAX, ReopenForm, ReportForm, ReturnForm, copied_forward, report_initial
from .models import Evidence, PeriodReopening, ProgressReport
from .selectors import QueueFilters

State = ProgressReport.State


@contextmanager
def _refusal_as_message(request) -> Iterator[None]:
    """For a button that does one step and goes back: a step refused for the report's state or period is
    told as a message on the page the person returns to. Who-may (403) and not-found (404) are not caught
    here, so ``domain_errors_as_pages`` shows them as the error page."""
    try:
        yield
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        messages.error(request, error.message)


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


@domain_errors_as_pages
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


@domain_errors_as_pages
def history_page(request):
    """The unit's reports in past periods."""
    units = _my_units(request)
    unit = _pick_unit(request, units)
    campaign = _campaign()
    current = ReportingPeriod.current_open(campaign)
    groups = selectors.unit_history(unit=unit, campaign=campaign, exclude_period=current)
    return render(request, "reports/history.html", {"units": units, "unit": unit, "groups": groups})


@domain_errors_as_pages
def fill_page(request, period_id: int, unit_id: int, task_id: int):
    """The report form: new or draft/returned report of a unit on a task in a period."""
    state = selectors.report_form_state(
        user=request.user,
        period_id=period_id,
        unit_id=unit_id,
        task_id=task_id,
        with_previous=request.method != "POST",
    )
    report = state.report
    if not state.can_author:
        if report is not None:
            return redirect("reports:detail", pk=report.pk)
        raise PermissionDenied("只有本单位联络员可以填写报告。")
    if not state.carries:
        raise NotFound(f"{state.unit.name}不是任务{state.task.number}的责任单位。")
    if report is not None and not report.is_editable:
        messages.info(request, "该报告已报送或已通过，不能再修改。")
        return redirect("reports:detail", pk=report.pk)
    if request.method == "POST":
        return _fill_post(request, state)

    initial = report_initial(report, state.metrics)
    if request.GET.get("copy") and state.previous is not None:
        initial = copied_forward(initial, state.previous, state.metrics)
        messages.info(
            request,
            f"已从{state.previous.period.label}的报告复制文字和累计类指标；本季度新增数请重新填写，"
            "请按本季度实际修改后保存。",
        )
    return _form_page(request, state, ReportForm(initial=initial, metrics=state.metrics))


def _form_page(
    request, state, form: ReportForm, *, conflict: ProgressReport | None = None, status: int = 200
):
    if form.is_bound:
        form.mark_invalid()
    return render(
        request,
        "reports/fill.html",
        {
            "period": state.period,
            "unit": state.unit,
            "task": state.task,
            "report": state.report,
            "writable": state.writable,
            "previous": state.previous,
            "form": form,
            "conflict": conflict,
            "caption_max": CAPTION_MAX,
            # 示范点 are kept in the register: the form links there instead of asking for a number.
            "counts_sites": any(t.metric.is_counted_from_register for t in state.task.targets.all()),
        },
        status=status,
    )


def _fill_post(request, state):
    """Parse the form, make the one ``report_save`` call, and say how it went. Every refusal re-renders the
    form with what the person typed (a browser cannot re-fill a file input, so only the file is lost)."""
    form = ReportForm(request.POST, request.FILES, metrics=state.metrics)
    if not form.is_valid():
        return _form_page(request, state, form, status=400)
    data = form.cleaned_data
    submit = request.POST.get("action") == "submit"
    try:
        saved = services.report_save(
            period=state.period,
            unit=state.unit,
            task=state.task,
            by=request.user,
            version=data["version"],
            fields=form.report_fields(),
            metrics=form.metric_values(),
            evidence_files=form.evidence_uploads(),
            evidence_url=data["evidence_url"],
            evidence_caption=data["evidence_link_caption"],
            submit=submit,
        )
    except (PermissionDenied, NotFound):
        raise
    except services.EvidenceRefused as error:
        # Nothing was saved: the file or link is what to fix.
        again = "请重新选择文件后再保存" if error.field == "evidence_file" else "请修改后再保存"
        field = "evidence_link_caption" if error.field == "evidence_caption" else error.field
        form.add_error(field, f"{error.message}（报告内容尚未保存，{again}。）")
        return _form_page(request, state, form, status=400)
    except services.SubmitRefused as error:
        # The draft was saved, not submitted: the person's text stays, the next save is against the draft.
        return _form_refused(request, state, form, error, status=400)
    except StaleVersion as error:
        # Someone saved first: nothing is overwritten; show theirs beside the person's own text.
        return _form_refused(request, state, form, error, status=409, conflict=True)
    except DomainError as error:
        if error.code == "duplicate":  # someone created it while this new form was open: as for a stale save
            return _form_refused(request, state, form, error, status=409, conflict=True)
        form.add_error(None, error.message)
        return _form_page(request, state, form, status=400)
    if submit:
        messages.success(request, submitted_message(saved))
        return redirect(f"{reverse('reports:period')}?unit={state.unit.pk}&period={state.period.pk}")
    messages.success(request, "草稿已保存。")
    return redirect("reports:fill", period_id=state.period.pk, unit_id=state.unit.pk, task_id=state.task.pk)


def _form_refused(
    request, state, form: ReportForm, error: DomainError, *, status: int, conflict: bool = False
):
    """The form again after the saved report moved on (someone else's save, or the person's own draft): the
    typed text stays on screen, and the next save is made against the report's current version."""
    state.report = selectors.report_on(period=state.period, unit=state.unit, task=state.task)
    form.add_error(None, error.message)
    if state.report is not None:
        form.rebase(state.report.version)
    return _form_page(request, state, form, conflict=state.report if conflict else None, status=status)


@domain_errors_as_pages
@require_POST
def submit(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    with _refusal_as_message(request):
        done = services.report_submit(
            report=report, by=request.user, version=request.POST.get("version") or None
        )
        messages.success(request, submitted_message(done))
    return redirect("reports:detail", pk=report.pk)


def submitted_message(report: ProgressReport) -> str:
    if report.state == State.AWAITING_SIGNOFF:
        return f"任务{report.task.number}的报告已送本单位分管领导审核，审核通过后报送到创建办。"
    return f"任务{report.task.number}的报告已报送，等待创建办审核。"


# ---------------------------------------------------------------- the report page


def _detail_context(request, report: ProgressReport) -> dict:
    access = get_access(request.user)
    can_author = access.can_edit_unit(report.unit_id)
    writable = (
        selectors.period_is_writable(period=report.period, unit_id=report.unit_id) if can_author else False
    )
    return {
        "report": report,
        "task": selectors.task_with_targets(report.task_id),
        "can_review": access.is_office and report.can("approve"),
        "can_signoff": access.signs_off_for(report.unit_id) and report.can("signoff"),
        "can_edit": can_author and report.is_editable and writable,
        "can_submit": can_author and report.can("submit") and writable,
        "return_form": ReturnForm(),
        "unusual": [mv for mv in report.metric_values.all() if mv.is_unusual],
    }


@domain_errors_as_pages
def detail(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    return render(request, "reports/detail.html", _detail_context(request, report))


# ---------------------------------------------------------------- evidence


def _evidence_box(request, report: ProgressReport, *, error: str = "", added: int = 0):
    """The report form's evidence list after an add or remove made in place (HTMX): the rest of the form,
    with what the person typed, stays as it is."""
    report = selectors.report_for(user=request.user, pk=report.pk)
    return render(
        request,
        "reports/_evidence_box.html",
        {
            "report": report,
            "writable": selectors.period_is_writable(period=report.period, unit_id=report.unit_id),
            "evidence_error": error,
            "evidence_added": added,
        },
    )


@domain_errors_as_pages
@require_POST
def evidence_add(request, pk: int):
    """Add files (several at once, each with its caption) or a link. From the report form (HTMX) the list is
    redrawn in place; otherwise the person goes back to ``next``."""
    report = selectors.report_for(user=request.user, pk=pk)
    files = request.FILES.getlist("evidence_file") or request.FILES.getlist("file")
    captions = request.POST.getlist("evidence_caption") or request.POST.getlist("caption")
    pairs = [(file, captions[i] if i < len(captions) else "") for i, file in enumerate(files)]
    if request.htmx:
        try:
            added = services.evidence_add_files(report=report, by=request.user, files=pairs)
        except (PermissionDenied, NotFound):
            raise
        except DomainError as error:
            return _evidence_box(request, report, error=error.message)
        return _evidence_box(request, report, added=len(added))
    with _refusal_as_message(request):
        if pairs:
            services.evidence_add_files(report=report, by=request.user, files=pairs)
        else:
            services.evidence_add_link(
                report=report,
                by=request.user,
                url=request.POST.get("url", ""),
                caption=request.POST.get("caption", ""),
            )
        messages.success(request, "佐证材料已添加。")
    return redirect_next(request, "reports:detail", report.pk)


@domain_errors_as_pages
@require_POST
def evidence_remove(request, pk: int):
    evidence = selectors.evidence_for(user=request.user, pk=pk)
    report = evidence.report
    if request.htmx:
        try:
            services.evidence_remove(evidence=evidence, by=request.user)
        except (PermissionDenied, NotFound):
            raise
        except DomainError as error:
            return _evidence_box(request, report, error=error.message)
        return _evidence_box(request, report)
    with _refusal_as_message(request):
        services.evidence_remove(evidence=evidence, by=request.user)
        messages.success(request, "佐证材料已删除。")
    return redirect_next(request, "reports:detail", report.pk)


@domain_errors_as_pages
@xframe_options_sameorigin
def evidence_file(request, pk: int, thumb: bool = False):
    """Evidence is served only to people who may read the report (never from a public media URL)."""
    evidence = selectors.evidence_for(user=request.user, pk=pk)
    stored = evidence.thumbnail if thumb else evidence.file
    if evidence.kind != Evidence.Kind.FILE or not stored:
        raise NotFound("文件不存在。")
    inline = thumb or evidence.is_image or evidence.is_pdf
    name = evidence.download_name
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


def _queue_filters(request, campaign) -> QueueFilters:
    """The queue's filters from the query string. With no ``period`` at all it opens on the current period
    (``period=`` empty is every period); with no ``state``, on the reports waiting for review."""
    state = request.GET.get("state", State.SUBMITTED)
    if state not in State.values and state != "all":
        state = State.SUBMITTED
    if "period" in request.GET:
        period = _int_or_none(request.GET.get("period"))
    else:
        default = selectors.queue_default_period(campaign)
        period = default.pk if default is not None else None
    return selectors.QueueFilters(
        period=period,
        unit=_int_or_none(request.GET.get("unit")),
        task=_int_or_none(request.GET.get("task")),
        state=None if state == "all" else state,
        q=request.GET.get("q", "").strip()[:100],
        sort=request.GET.get("sort", selectors.QUEUE_DEFAULT_SORT),
    )


QUEUE_COLUMNS = (("unit", "单位"), ("task", "任务"), ("submitted", "报送时间"), ("deadline", "截止日期"))


@office_required
def review_queue(request):
    campaign = _campaign()
    filters = _queue_filters(request, campaign)
    page = selectors.review_queue(filters=filters, page=request.GET.get("page", 1))
    keep = request.GET.copy()
    keep["period"] = "" if filters.period is None else str(filters.period)
    keep.pop("page", None)
    keep.pop("sort", None)
    base = keep.urlencode()
    columns = []
    for key, label in QUEUE_COLUMNS:
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        flip = f"-{key}" if not current or not descending else key
        columns.append(
            {
                "key": key,
                "label": label,
                "url": f"?{base}&sort={flip}" if base else f"?sort={flip}",
                "aria": ("descending" if descending else "ascending") if current else "none",
                "arrow": ("↓" if descending else "↑") if current else "",
            }
        )
    export = keep.copy()
    export["sort"] = filters.sort
    return render(
        request,
        "reports/review_queue.html",
        {
            "page": page,
            "filters": filters,
            "state": filters.state or "all",
            "states": State.choices,
            "columns": {c["key"]: c for c in columns},
            "export_query": export.urlencode(),
            **selectors.queue_choices(campaign),
        },
    )


@office_required
def review_export(request):
    """The queue as it is filtered and sorted, as an Excel workbook (every row, not one page)."""
    from .compilations.render.xlsx import cell_value  # the one rule for user text in a workbook

    campaign = _campaign()
    filters = _queue_filters(request, campaign)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("报告审核")
    header = [
        "报告期",
        "截止日期",
        "单位",
        "任务编号",
        "任务",
        "状态",
        "推进情况",
        "报送时间",
        "逾期报送",
        "数值需核实",
    ]
    for index, width in enumerate((12, 12, 20, 8, 40, 10, 10, 18, 10, 12), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([cell_value(sheet, title) for title in header])
    local = timezone.get_current_timezone()
    for r in selectors.review_queryset(filters).iterator(chunk_size=500):
        submitted = r.submitted_at.astimezone(local).replace(tzinfo=None) if r.submitted_at else None
        row = [
            r.period.label,
            r.period.due_on,
            r.unit.name,
            r.task.number,
            r.task.title,
            r.get_state_display(),
            r.get_progress_status_display(),
            submitted,
            "是" if r.is_late else "",
            "是" if r.has_unusual else "",
        ]
        sheet.append([cell_value(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=f"报告审核-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# approve and return look the report up before the service checks the role: another unit's report is 404
# for a liaison (ids leak nothing), so these two are not @office_required.


@domain_errors_as_pages
@require_POST
def approve(request, pk: int):
    """通过; with ``then=next`` (the report page's 通过并下一份) the next report waiting for review opens,
    in place with HTMX (HX-Location) or by a redirect, and the queue when none is left."""
    report = selectors.report_for(user=request.user, pk=pk)
    approved = False
    with _refusal_as_message(request):
        services.report_approve(report=report, by=request.user, comment=request.POST.get("comment", ""))
        messages.success(request, f"已通过：{report.unit.name} 任务{report.task.number}。")
        approved = True
    if request.POST.get("then") != "next" or not approved:
        return redirect_next(request, "reports:detail", report.pk)
    following = selectors.next_pending(after=report)
    if following is None:
        messages.info(request, "待审核的报告已全部处理完。")
        target = reverse("reports:review_queue")
    else:
        target = reverse("reports:detail", args=[following.pk])
    if request.htmx:
        return HttpResponse(
            status=204, headers={"HX-Location": json.dumps({"path": target, "target": "body"})}
        )
    return redirect(target)


@domain_errors_as_pages
@require_POST
def return_report(request, pk: int):
    report = selectors.report_for(user=request.user, pk=pk)
    form = ReturnForm(request.POST)
    try:
        services.report_return(report=report, by=request.user, reason=form.data.get("reason", ""))
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        # The reason box again, with what the office typed and why it was refused.
        form.is_valid()
        context = _detail_context(request, selectors.report_for(user=request.user, pk=pk))
        context |= {"return_form": form, "return_error": error.message}
        return render(request, "reports/detail.html", context, status=400)
    messages.success(request, f"已退回：{report.unit.name} 任务{report.task.number}，退回原因已通知联络员。")
    if report.is_awaiting_signoff:  # the leader's return: back to the leader's own queue
        return redirect("reports:signoff_queue")
    return redirect("reports:review_queue")


# ---------------------------------------------------------------- the unit leader's sign-off

ON_TIME_NOTE = "按时：以报送到创建办（分管领导审核通过）的时间计算。"


def _signoff_units(request) -> list[Unit]:
    access = get_access(request.user)
    if not access.leader_unit_ids:
        raise PermissionDenied(
            "此页面供各单位分管领导审核签发本单位报告使用；联络员请在“本季度报送”中填报，"
            "创建办请使用“审核”页面。"
        )
    return list(Unit.objects.filter(pk__in=access.leader_unit_ids).order_by("order", "id"))


@domain_errors_as_pages
def signoff_queue(request):
    """The 分管领导's queue (phone-first): the unit's reports waiting for sign-off, each with 签发 and 退回."""
    units = _signoff_units(request)
    reports = list(selectors.awaiting_signoff(unit_ids=[u.pk for u in units]))
    return render(
        request,
        "reports/signoff_queue.html",
        {"units": units, "reports": reports, "on_time_note": ON_TIME_NOTE},
    )


def _signoff_card(
    request, report: ProgressReport, *, done: str = "", error: str = "", reason: str | None = None
):
    return render(
        request,
        "reports/_signoff_card.html",
        {"r": report, "done": done, "error": error, "reason": reason},
        status=400 if error else 200,
    )


@domain_errors_as_pages
@require_POST
def signoff(request, pk: int):
    """签发: the report reaches the office. From the queue (HTMX) its card is redrawn in place."""
    report = selectors.report_for(user=request.user, pk=pk)
    if request.htmx:
        try:
            services.report_signoff(report=report, by=request.user)
        except (PermissionDenied, NotFound):
            raise
        except DomainError as error:
            return _signoff_card(request, report, error=error.message)
        return _signoff_card(request, report, done="已签发，报告已报送到创建办。")
    with _refusal_as_message(request):
        services.report_signoff(report=report, by=request.user)
        messages.success(
            request, f"已签发：{report.unit.name} 任务{report.task.number}，报告已报送到创建办。"
        )
    return redirect_next(request, "reports:signoff_queue")


@domain_errors_as_pages
@require_POST
def signoff_return(request, pk: int):
    """The leader's 退回 with a reason, to the liaison. From the queue (HTMX) its card is redrawn in place."""
    report = selectors.report_for(user=request.user, pk=pk)
    reason = request.POST.get("reason", "")
    try:
        services.report_signoff_return(report=report, by=request.user, reason=reason)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        if request.htmx:
            return _signoff_card(request, report, error=error.message, reason=reason)
        messages.error(request, error.message)
        return redirect_next(request, "reports:signoff_queue")
    if request.htmx:
        return _signoff_card(request, report, done="已退回联络员，退回原因已通知联络员。")
    messages.success(request, f"已退回：{report.unit.name} 任务{report.task.number}，退回原因已通知联络员。")
    return redirect_next(request, "reports:signoff_queue")


@office_required
@require_POST
def approve_many(request):
    ids = [pk for pk in (_int_or_none(v) for v in request.POST.getlist("report")) if pk is not None]
    with _refusal_as_message(request):
        approved, skipped = services.reports_approve_many(report_ids=ids, by=request.user)
        text = f"已批量通过 {len(approved)} 份报告。"
        if skipped:
            text += f"另有 {len(skipped)} 份不是待审核状态，已跳过。"
        messages.success(request, text)
    return redirect_next(request, "reports:review_queue")


@office_required
def reopen(request):
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
        except DomainError as error:  # @office_required let only the office in: this is a refusal to fix here
            form.add_error(None, error.message)
        else:
            messages.success(request, f"已为{reopening.unit.name}开放{reopening.period.label}补报。")
            return redirect("reports:reopen")
    return render(
        request,
        "reports/reopen.html",
        {"form": form, "reopenings": selectors.active_reopenings(campaign)},
        status=400 if request.method == "POST" else 200,
    )


@office_required
@require_POST
def reopen_revoke(request, pk: int):
    reopening = get_object_or_404(PeriodReopening, pk=pk)
    services.period_reopening_revoke(reopening=reopening, by=request.user)
    messages.success(request, f"已撤销{reopening.unit.name}{reopening.period.label}的补报开放。")
    return redirect("reports:reopen")
