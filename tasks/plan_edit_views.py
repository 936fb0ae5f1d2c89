"""The office's plan pages: all plans side by side, activate one, edit a plan, and its change history.

Views parse input and call ``tasks.services`` (writes) or ``tasks.selectors`` (reads); a refused change
comes back as the form's error on the same page, with status 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaign.dates import cn_date
from campaign.decorators import office_required, readers_required
from campaign.errors import DomainError, NotFound
from campaign.models import Campaign, Phase, ReportingPeriod
from units.access import get_access

from . import selectors, services
from .forms import (
    HistoryFilter,
    PeriodForm,
    PhaseForm,
    PhaseNewForm,
    TargetForm,
    TargetFullForm,
    TaskForm,
    UnitsForm,
    active_units,
)
from .models import Metric, Target, Task

HISTORY_PAGE_SIZE = 50
REPORTS_PAGE_SIZE = 50


def _campaign(pk: int) -> Campaign:
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise NotFound("没有找到这个实施方案，可能已被删除。请从“方案管理”页重新进入。")
    return campaign


def _saved(request, changes) -> None:
    fields = "、".join(dict.fromkeys(c.field for c in changes))
    messages.success(request, f"已保存（修改了：{fields}），修改记录见“修改记录”。")


# ------------------------------------------------------------------------------------------- plans


@readers_required
def plans(request):
    campaigns = selectors.plans_overview()
    current = next((c for c in campaigns if c.is_active), None)
    waiting = [c for c in campaigns if not c.is_active and not c.is_archived]
    return render(
        request,
        "tasks/plans.html",
        {
            "current": current,
            "waiting": waiting,
            **_compare(([current] if current else []) + waiting),
            "archived": [c for c in campaigns if c.is_archived],
            "count_rows": COUNT_ROWS,
        },
    )


COUNT_ROWS = [
    ("phases", "实施阶段"),
    ("sections", "工程/活动"),
    ("tasks", "任务"),
    ("units", "责任单位"),
    ("targets", "量化目标"),
    ("periods", "报告期"),
    ("reports", "进展报告"),
    ("compilations", "汇编文件"),
]


def _compare(campaigns: list[Campaign]) -> dict:
    """Campaigns side by side: the columns, and per count one row of figures."""
    return {
        "compared": campaigns,
        "compare_rows": [(label, [c.counts[key] for c in campaigns]) for key, label in COUNT_ROWS],
    }


@readers_required
def plan_page(request, pk: int):
    campaign = _campaign(pk)
    overview = {c.pk: c for c in selectors.plans_overview()}
    campaign = overview[campaign.pk]
    current = next((c for c in overview.values() if c.is_active), None)
    return render(
        request,
        "tasks/plan_detail.html",
        {
            "campaign": campaign,
            "current": current if current and current.pk != campaign.pk else None,
            **_compare([campaign] + ([current] if current and current.pk != campaign.pk else [])),
            # Leadership reads the plan; only the office changes it, and only while it is not archived.
            "editable": get_access(request.user).is_office and not campaign.is_archived,
            "phases": list(campaign.phases.order_by("order")),
            "periods": selectors.plan_periods(campaign),
            "sections": selectors.sections_with_tasks(campaign),
            "compilations": selectors.plan_compilations(campaign),
            "changes": list(selectors.plan_changes(campaign=campaign)[:10]),
        },
    )


@office_required
@require_http_methods(["GET", "POST"])
def activate(request, pk: int):
    campaign = _campaign(pk)
    current = Campaign.current()
    error = ""
    if request.method == "POST":
        try:
            services.plan_activate(campaign=campaign, by=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            archived = f"，“{current.title}”已归档（只读，其报告和汇编仍可查看）" if current else ""
            messages.success(request, f"“{campaign.title}”已设为当前活动{archived}。")
            return redirect("plan_import:plan", pk=campaign.pk)
    return render(
        request,
        "tasks/plan_activate.html",
        {
            "campaign": campaign,
            "current": current if current and current.pk != campaign.pk else None,
            "error": error,
        },
        status=400 if error else 200,
    )


@office_required
@require_POST
def period_next(request, pk: int):
    campaign = _campaign(pk)
    try:
        period = services.period_create_next(campaign=campaign, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已新增报告期{period.label}，报送截止{cn_date(period.due_on)}。")
    return redirect(reverse("plan_import:plan", args=[campaign.pk]) + "#periods")


# ------------------------------------------------------------------------------------------- tasks


def _task_context(task: Task, **given) -> dict:
    task = selectors.tasks_with_details(task.campaign).get(pk=task.pk)
    responsibilities = list(task.responsibilities.all())
    named = [r for r in responsibilities if not r.by_rule]
    lead = next((r for r in named if r.is_lead), None)
    targets = list(task.targets.all())
    target_forms = given.pop("target_forms", {})
    return {
        "campaign": task.campaign,
        "task": task,
        "editable": not task.campaign.is_archived,
        "lead": lead,
        "named_co": [r for r in named if not r.is_lead],
        "by_rule": [r for r in responsibilities if r.by_rule],
        "targets": [
            (
                t,
                target_forms.get(t.pk)
                or TargetForm(initial={"value": t.value, "comparison": t.comparison, "due_on": t.due_on}),
            )
            for t in targets
        ],
        "task_form": given.get("task_form") or TaskForm(initial={"title": task.title, "text": task.text}),
        "units_form": given.get("units_form"),
        "units": list(active_units()),
        "lead_id": lead.unit_id if lead else None,
        "co_ids": {r.unit_id for r in named if not r.is_lead},
        "changes": list(selectors.plan_changes(task=task)[:10]),
    }


def _task(pk: int) -> Task:
    return get_object_or_404(Task.objects.select_related("campaign", "section"), pk=pk)


def _refused(form, exc: DomainError) -> None:
    form.add_error(None, exc.message)


@office_required
@require_http_methods(["GET", "POST"])
def task_manage(request, pk: int):
    task = _task(pk)
    form = TaskForm(request.POST or None)
    if request.method == "POST":
        services.check_editable(task.campaign)
        if form.is_valid():
            try:
                changes = services.task_update(task=task, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                _refused(form, exc)
            else:
                _saved(request, changes)
                return redirect("plan_import:task", pk=task.pk)
        return render(request, "tasks/task_manage.html", _task_context(task, task_form=form), status=400)
    return render(request, "tasks/task_manage.html", _task_context(task))


@office_required
@require_POST
def task_units(request, pk: int):
    task = _task(pk)
    services.check_editable(task.campaign)
    form = UnitsForm(request.POST)
    if form.is_valid():
        try:
            changes = services.task_set_units(
                task=task, by=request.user, lead=form.cleaned_data["lead"], co=list(form.cleaned_data["co"])
            )
        except DomainError as exc:
            _refused(form, exc)
        else:
            _saved(request, changes)
            return redirect(reverse("plan_import:task", args=[task.pk]) + "#units")
    context = _task_context(task, units_form=form)
    # Show what was chosen, not what is stored, so the office can correct the choice.
    context["lead_id"] = _int(request.POST.get("lead"))
    context["co_ids"] = {i for i in map(_int, request.POST.getlist("co")) if i}
    return render(request, "tasks/task_manage.html", context, status=400)


@office_required
@require_POST
def target_edit(request, pk: int):
    target = get_object_or_404(Target.objects.select_related("task__campaign"), pk=pk)
    services.check_editable(target.task.campaign)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            changes = services.target_update(target=target, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            _saved(request, changes)
            return redirect(reverse("plan_import:task", args=[target.task_id]) + "#targets")
    context = _task_context(target.task, target_forms={target.pk: form})
    return render(request, "tasks/task_manage.html", context, status=400)


def _target_kwargs(data: dict) -> dict:
    """The full target form's fields as the services take them."""
    return {
        "value": data["value"],
        "comparison": data["comparison"],
        "scope": data["scope"],
        "scope_label": data["scope_label"],
        "units": list(data["units"]),
        "period_kind": data["period_kind"],
        "due_on": data["due_on"],
    }


def _target_page(request, *, task: Task, form, target: Target | None = None, status: int = 200):
    return render(
        request,
        "tasks/target_form.html",
        {
            "campaign": task.campaign,
            "task": task,
            "target": target,
            "form": form,
            "unit_ids": {_int(v) for v in (form["units"].value() or [])},
        },
        status=status,
    )


@office_required
@require_http_methods(["GET", "POST"])
def target_new(request, pk: int):
    """Adds a target to a task: an existing metric or a new one, its value, scope and deadline."""
    task = _task(pk)
    services.check_editable(task.campaign)
    initial = {"comparison": Target.Comparison.AT_LEAST, "period_kind": Target.PeriodKind.BY_DATE}
    form = TargetFullForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            new_metric = None
            if not data["metric"]:
                new_metric = services.NewMetric(
                    name=data["new_metric_name"],
                    unit_of_measure=data["new_metric_uom"],
                    aggregation=data["new_metric_aggregation"] or Metric.Aggregation.SUM,
                )
            try:
                target = services.target_create(
                    task=task,
                    by=request.user,
                    metric=data["metric"],
                    new_metric=new_metric,
                    source_text=data["source_text"],
                    **_target_kwargs(data),
                )
            except DomainError as exc:
                _refused(form, exc)
            else:
                messages.success(request, f"已添加量化目标：{target.summary}。修改记录见“最近修改”。")
                return redirect(reverse("plan_import:task", args=[task.pk]) + "#targets")
        return _target_page(request, task=task, form=form, status=400)
    return _target_page(request, task=task, form=form)


@office_required
@require_http_methods(["GET", "POST"])
def target_change(request, pk: int):
    """Changes a target's metric, scope and units as well as its value and deadline."""
    target = get_object_or_404(Target.objects.select_related("task__campaign", "metric"), pk=pk)
    task = target.task
    services.check_editable(task.campaign)
    initial = {
        "metric": target.metric_id,
        "comparison": target.comparison,
        "value": target.value,
        "scope": target.scope,
        "scope_label": target.scope_label,
        "units": [u.pk for u in target.units.all()],
        "period_kind": target.period_kind,
        "due_on": target.due_on,
        "source_text": target.source_text,
    }
    form = TargetFullForm(request.POST or None, initial=initial, target=target)
    form.fields["new_metric_name"].disabled = form.fields["new_metric_uom"].disabled = True
    if request.method == "POST":
        if form.is_valid() and not form.cleaned_data["metric"]:
            form.add_error("metric", "请选择指标。")
        if form.is_valid():
            try:
                changes = services.target_update(
                    target=target,
                    by=request.user,
                    metric=form.cleaned_data["metric"],
                    **_target_kwargs(form.cleaned_data),
                )
            except DomainError as exc:
                _refused(form, exc)
            else:
                _saved(request, changes)
                return redirect(reverse("plan_import:task", args=[task.pk]) + "#targets")
        return _target_page(request, task=task, form=form, target=target, status=400)
    return _target_page(request, task=task, form=form, target=target)


@office_required
@require_POST
def target_remove(request, pk: int):
    target = get_object_or_404(Target.objects.select_related("task__campaign", "metric"), pk=pk)
    task = target.task
    change = services.target_delete(target=target, by=request.user)
    messages.success(request, f"已删除量化目标：{change.before}。各单位已填报的数字不受影响。")
    return redirect(reverse("plan_import:task", args=[task.pk]) + "#targets")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------- phases, periods


@office_required
@require_http_methods(["GET", "POST"])
def phase_edit(request, pk: int):
    phase = get_object_or_404(Phase.objects.select_related("campaign"), pk=pk)
    initial = {"name": phase.name, "starts_on": phase.starts_on, "ends_on": phase.ends_on}
    form = PhaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.phase_update(phase=phase, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            _saved(request, changes)
            return redirect(reverse("plan_import:plan", args=[phase.campaign_id]) + "#phases")
    return render(
        request,
        "tasks/phase_edit.html",
        {
            "phase": phase,
            "campaign": phase.campaign,
            "form": form,
            "editable": not phase.campaign.is_archived,
        },
        status=400 if request.method == "POST" else 200,
    )


@office_required
@require_http_methods(["GET", "POST"])
def phase_new(request, pk: int):
    campaign = _campaign(pk)
    services.check_editable(campaign)
    form = PhaseNewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phase = services.phase_create(campaign=campaign, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(
                request,
                f"已新增阶段“{phase.name}”（{cn_date(phase.starts_on)}至{cn_date(phase.ends_on)}），"
                f"按日期排在第{phase.order}阶段。",
            )
            return redirect(reverse("plan_import:plan", args=[campaign.pk]) + "#phases")
    return render(
        request,
        "tasks/phase_new.html",
        {"campaign": campaign, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@office_required
@require_POST
def phase_remove(request, pk: int):
    phase = get_object_or_404(Phase.objects.select_related("campaign"), pk=pk)
    change = services.phase_delete(phase=phase, by=request.user)
    messages.success(request, f"已删除阶段：{change.before}。其后的阶段已依次前移编号。")
    return redirect(reverse("plan_import:plan", args=[phase.campaign_id]) + "#phases")


@office_required
@require_http_methods(["GET", "POST"])
def period_edit(request, pk: int):
    period = get_object_or_404(ReportingPeriod.objects.select_related("campaign"), pk=pk)
    form = PeriodForm(request.POST or None, initial={"due_on": period.due_on})
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.period_update(period=period, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _refused(form, exc)
        else:
            _saved(request, changes)
            return redirect(reverse("plan_import:plan", args=[period.campaign_id]) + "#periods")
    return render(
        request,
        "tasks/period_edit.html",
        {
            "period": period,
            "campaign": period.campaign,
            "form": form,
            "editable": not period.campaign.is_archived and not period.is_closed,
        },
        status=400 if request.method == "POST" else 200,
    )


@readers_required
def period_reports(request, pk: int):
    period = get_object_or_404(ReportingPeriod.objects.select_related("campaign"), pk=pk)
    page = Paginator(selectors.period_reports(period), REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "tasks/period_reports.html", {"period": period, "campaign": period.campaign, "page": page}
    )


# ------------------------------------------------------------------------------------------ history


@readers_required
def history(request, pk: int):
    campaign = _campaign(pk)
    filters = HistoryFilter(request.GET or None)
    values = filters.values() if request.GET else {}
    task = None
    if values.get("task"):
        task = Task.objects.filter(campaign=campaign, number=values["task"]).first()
        if task is None:
            filters.add_error("task", f"本方案没有任务{values['task']}。")
    changes = selectors.plan_changes(
        campaign=campaign,
        task=task,
        by_id=values.get("person"),
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
    )
    if values.get("task") and task is None:
        changes = changes.none()
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tasks/plan_history.html",
        {
            "campaign": campaign,
            "filters": filters,
            "values": values,
            "people": selectors.plan_change_people(campaign),
            "tasks": list(
                Task.objects.filter(campaign=campaign).order_by("number").only("id", "number", "title")
            ),
            "page": page,
            "query": query.urlencode(),
        },
    )
