"""Indicator systems' pages: thin — parse, call a service or selector, render.

Everyone here is office or leadership (``readers_required``); writes are ``office_required`` and the services
check again (``access.require_edit``). The import keeps the parsed table between the preview and the
confirmation in a signed token on the page (nothing is written on preview; the token cannot be altered and
expires after two hours)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core import signing
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaign.decorators import office_required, readers_required
from campaign.errors import DomainError, NotFound, PermissionDenied
from campaign.models import Campaign
from campaign.search import search_words
from tasks.models import Target, Task
from units.access import get_access

from . import access as rules
from . import services
from .forms import ImportForm, IndicatorForm, SystemForm
from .importer import IndicatorParseError, ParsedSystem, parse_file
from .models import Indicator, IndicatorLink, IndicatorSystem
from .selectors import indicator_tree

IMPORT_SALT = "assessment.import"
IMPORT_MAX_AGE = 2 * 60 * 60
EXPIRED = "预览已过期或内容无效，指标体系没有创建。请重新上传文件。"


def _campaign() -> Campaign:
    campaign = Campaign.current() or Campaign.objects.order_by("pk").first()
    if campaign is None:
        raise DomainError("还没有创建活动，请先导入实施方案。")
    return campaign


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


# ------------------------------------------------------------------------------------------- systems


@readers_required
def system_list(request):
    systems = IndicatorSystem.objects.annotate(
        leaf_count=Count("indicators", filter=Q(indicators__children__isnull=True), distinct=True),
        indicator_count=Count("indicators", distinct=True),
    ).order_by("-is_active", "name", "id")
    return render(
        request,
        "assessment/systems/list.html",
        {"systems": systems, "can_edit": rules.can_edit(get_access(request.user))},
    )


def tree_rows(roots) -> list[dict]:
    """The tree as table rows, depth first, with each node's depth and (for a leaf) its points."""
    rows = []

    def visit(node, depth):
        rows.append({"node": node, "indicator": node.indicator, "depth": depth, "is_leaf": node.is_leaf})
        for child in node.children:
            visit(child, depth + 1)

    for root in roots:
        visit(root, 1)
    return rows


@readers_required
def system_detail(request, pk: int):
    system = services.system_for(request.user, pk)
    roots = indicator_tree(system)
    rows = tree_rows(roots)
    total = sum((r["node"].points for r in rows if r["is_leaf"]), Decimal(0))
    linked = dict(
        IndicatorLink.objects.filter(indicator__system=system, state=IndicatorLink.State.CONFIRMED)
        .values_list("indicator_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        row["links"] = linked.get(row["indicator"].pk, 0)
    return render(
        request,
        "assessment/systems/detail.html",
        {
            "system": system,
            "active": "tree",
            "rows": rows,
            "total": total,
            "adds_up": total == system.full_score,
            "total_text": _fmt(total),
            "full_text": _fmt(system.full_score),
            "counts": {level: sum(1 for r in rows if r["depth"] == level) for level in (1, 2, 3)},
            "leaf_count": sum(1 for r in rows if r["is_leaf"]),
            "can_edit": rules.can_edit(get_access(request.user)) and system.is_active,
            "is_office": rules.can_edit(get_access(request.user)),
        },
    )


@office_required
@require_http_methods(["GET", "POST"])
def system_create(request):
    form = SystemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            system = services.create_system(by=request.user, campaign=_campaign(), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"已创建指标体系“{system.name}”。现在可以添加指标，或从文件导入。")
            return redirect("assessment:system", system.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "assessment/systems/system_form.html", {"form": form, "system": None}, status=status
    )


@office_required
@require_http_methods(["GET", "POST"])
def system_edit(request, pk: int):
    system = services.system_for(request.user, pk)
    form = SystemForm(request.POST or None, initial=SystemForm.initial_from(system))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_system(by=request.user, system=system, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "指标体系信息已保存。")
            return redirect("assessment:system", system.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "assessment/systems/system_form.html", {"form": form, "system": system}, status=status
    )


@office_required
@require_POST
def system_archive(request, pk: int):
    system = services.system_for(request.user, pk)
    active = request.POST.get("active") == "1"
    services.set_system_active(by=request.user, system=system, active=active)
    messages.success(request, "已恢复使用。" if active else "已归档：该指标体系只能查看，不能再修改。")
    return redirect("assessment:system", system.pk)


# ------------------------------------------------------------------------------------------- import


def _preview_rows(parsed: ParsedSystem) -> list[dict]:
    branches = {row.parent for row in parsed.rows if row.parent}
    lines_with_errors = {p.line for p in parsed.errors}
    rows = []
    for row in parsed.rows:
        is_leaf = row.code not in branches
        rows.append(
            {
                "row": row,
                "is_leaf": is_leaf,
                "points": row.points if is_leaf else _fmt(parsed.branch_points(row)) if row.code else "",
                "given": row.points,
                "has_error": row.line in lines_with_errors,
            }
        )
    return rows


@office_required
@require_http_methods(["GET", "POST"])
def system_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        document = form.cleaned_data.pop("document")
        meta = {k: str(v) if isinstance(v, Decimal) else v for k, v in form.cleaned_data.items()}
        try:
            parsed = parse_file(document.name, document.read(), full_score=form.cleaned_data["full_score"])
        except IndicatorParseError as error:
            form.add_error("document", error.message)
        else:
            token = signing.dumps(
                {"parsed": parsed.to_dict(), "meta": meta, "user": request.user.pk},
                salt=IMPORT_SALT,
                compress=True,
            )
            return _render_preview(request, parsed, meta, token, file_name=document.name)
    status = 400 if request.method == "POST" else 200
    return render(request, "assessment/systems/import.html", {"form": form}, status=status)


def _render_preview(request, parsed, meta, token, *, file_name="", error="", status=200):
    levels = {level: sum(1 for r in parsed.rows if r.level == level) for level in (1, 2, 3)}
    return render(
        request,
        "assessment/systems/import_preview.html",
        {
            "parsed": parsed,
            "rows": _preview_rows(parsed),
            "meta": meta,
            "token": token,
            "file_name": file_name,
            "total": _fmt(parsed.total),
            "full_score": parsed.full_score,
            "adds_up": parsed.total == Decimal(parsed.full_score),
            "levels": levels,
            "leaf_count": len(parsed.leaves()),
            "error": error,
        },
        status=status,
    )


@office_required
@require_POST
def system_import_confirm(request):
    try:
        data = signing.loads(request.POST.get("token", ""), salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, EXPIRED)
        return redirect("assessment:import")
    if data.get("user") != request.user.pk:
        messages.error(request, EXPIRED)
        return redirect("assessment:import")
    parsed = ParsedSystem.from_dict(data["parsed"])
    meta = data["meta"]
    try:
        system = services.import_system(by=request.user, campaign=_campaign(), parsed=parsed, **meta)
    except DomainError as error:
        return _render_preview(
            request, parsed, meta, request.POST.get("token", ""), error=error.message, status=400
        )
    messages.success(
        request,
        f"已导入指标体系“{system.name}”：{len(parsed.rows)} 个指标，其中末级指标 {len(parsed.leaves())} 个。"
        "下一步可在“对应任务”中生成并确认指标与任务的对应关系。",
    )
    return redirect("assessment:system", system.pk)


# ------------------------------------------------------------------------------------------- indicators


def _parent_from(system: IndicatorSystem, value) -> Indicator | None:
    if not value:
        return None
    parent = Indicator.objects.filter(system=system, pk=value if str(value).isdigit() else 0).first()
    if parent is None:
        raise DomainError("没有找到所选的上级指标，请刷新页面后重试。")
    return parent


def _suggest_code(system: IndicatorSystem, parent: Indicator | None) -> str:
    siblings = Indicator.objects.filter(system=system, parent=parent).values_list("code", flat=True)
    used = set(Indicator.objects.filter(system=system).values_list("code", flat=True))
    n = len(siblings) + 1
    while True:
        code = f"{parent.code}.{n}" if parent else str(n)
        if code not in used:
            return code
        n += 1


@office_required
@require_http_methods(["GET", "POST"])
def indicator_add(request, pk: int):
    system = services.system_for(request.user, pk)
    parent = _parent_from(system, request.POST.get("parent") or request.GET.get("parent"))
    form = IndicatorForm(request.POST or None, initial={"code": _suggest_code(system, parent)})
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.add_indicator(
                by=request.user, system=system, parent=parent, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"已添加指标“{indicator.code} {indicator.title}”。")
            return redirect(f"{reverse('assessment:system', args=[system.pk])}#ind-{indicator.pk}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "assessment/systems/indicator_form.html",
        {"form": form, "system": system, "parent": parent, "indicator": None},
        status=status,
    )


@office_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request, pk: int):
    indicator = services.indicator_for(request.user, pk)
    system = indicator.system
    is_branch = indicator.children.exists()
    form = IndicatorForm(
        request.POST or None, initial=IndicatorForm.initial_from(indicator), is_branch=is_branch
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_indicator(by=request.user, indicator=indicator, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"已保存指标“{indicator.code} {indicator.title}”。")
            return redirect(f"{reverse('assessment:system', args=[system.pk])}#ind-{indicator.pk}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "assessment/systems/indicator_form.html",
        {
            "form": form,
            "system": system,
            "parent": indicator.parent,
            "indicator": indicator,
            "is_branch": is_branch,
        },
        status=status,
    )


@office_required
@require_http_methods(["GET", "POST"])
def indicator_move(request, pk: int):
    indicator = services.indicator_for(request.user, pk)
    system = indicator.system
    error = ""
    if request.method == "POST":
        try:
            parent = _parent_from(system, request.POST.get("parent"))
            services.move_indicator(by=request.user, indicator=indicator, parent=parent)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request, f"已移动指标“{indicator.code} {indicator.title}”。如序号需要随之调整，请编辑该指标。"
            )
            return redirect(f"{reverse('assessment:system', args=[system.pk])}#ind-{indicator.pk}")
    # Where it may go: any 一级 or 二级 indicator that is not itself or below it.
    below = services._descendant_ids(indicator) | {indicator.pk}
    targets = [
        row
        for row in tree_rows(indicator_tree(system))
        if row["indicator"].pk not in below and row["depth"] < Indicator.MAX_LEVEL
    ]
    return render(
        request,
        "assessment/systems/indicator_move.html",
        {"indicator": indicator, "system": system, "targets": targets, "error": error},
        status=400 if error else 200,
    )


@office_required
@require_POST
def indicator_shift(request, pk: int):
    indicator = services.indicator_for(request.user, pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    services.shift_indicator(by=request.user, indicator=indicator, step=step)
    return redirect(f"{reverse('assessment:system', args=[indicator.system_id])}#ind-{indicator.pk}")


@office_required
@require_http_methods(["GET", "POST"])
def indicator_delete(request, pk: int):
    indicator = services.indicator_for(request.user, pk)
    system = indicator.system
    if request.method == "POST":
        label = f"{indicator.code} {indicator.title}"
        services.delete_indicator(by=request.user, indicator=indicator)
        messages.success(request, f"已删除指标“{label}”。")
        return redirect("assessment:system", system.pk)
    return render(
        request,
        "assessment/systems/indicator_delete.html",
        {"indicator": indicator, "system": system, "impact": services.deletion_impact(indicator)},
    )


# ------------------------------------------------------------------------------------------- mapping

MAPPING_FILTERS = {
    "all": "全部末级指标",
    "open": "有待确认的建议",
    "unlinked": "尚无确认的任务",
}


def _task_choices(campaign_id: int, q: str = "") -> list[Task]:
    tasks = Task.objects.filter(campaign_id=campaign_id).select_related("section").order_by("number")
    words = search_words(q)
    if words:
        if words.isdigit():
            tasks = tasks.filter(number=int(words))
        else:
            tasks = tasks.filter(Q(title__icontains=words) | Q(text__icontains=words))
    return list(tasks)


def _leaf_rows(system: IndicatorSystem, leaves_only=None) -> list[dict]:
    """Every leaf with its links (confirmed first, then suggestions by similarity, then rejected); 2 queries."""
    roots = indicator_tree(system)
    leaves = [leaf for root in roots for leaf in root.leaves()]
    if leaves_only is not None:
        leaves = [leaf for leaf in leaves if leaf.indicator.pk in leaves_only]
    order = {
        IndicatorLink.State.CONFIRMED: 0,
        IndicatorLink.State.SUGGESTED: 1,
        IndicatorLink.State.REJECTED: 2,
    }
    links: dict[int, list[IndicatorLink]] = {}
    for link in IndicatorLink.objects.filter(
        indicator__in=[leaf.indicator for leaf in leaves]
    ).select_related("task", "metric", "decided_by"):
        links.setdefault(link.indicator_id, []).append(link)
    rows = []
    for leaf in leaves:
        found = sorted(
            links.get(leaf.indicator.pk, []),
            key=lambda link: (order[link.state], -link.similarity, link.task.number),
        )
        rows.append(
            {
                "leaf": leaf,
                "indicator": leaf.indicator,
                "links": found,
                "confirmed": sum(1 for link in found if link.state == IndicatorLink.State.CONFIRMED),
                "suggested": sum(1 for link in found if link.state == IndicatorLink.State.SUGGESTED),
            }
        )
    return rows


def _metric_choices(campaign_id: int) -> list[tuple[Task, object]]:
    """(task, metric) for every metric a task has a target on, in task order: the picker's optional metric."""
    pairs: list[tuple[Task, object]] = []
    targets = Target.objects.filter(task__campaign_id=campaign_id).select_related("metric", "task")
    for target in targets.order_by("task__number", "order", "id"):
        if (target.task, target.metric) not in pairs:
            pairs.append((target.task, target.metric))
    return pairs


@readers_required
def mapping(request, pk: int):
    system = services.system_for(request.user, pk)
    show = request.GET.get("show") if request.GET.get("show") in MAPPING_FILTERS else "all"
    rows = _leaf_rows(system)
    totals = {
        "leaves": len(rows),
        "linked": sum(1 for r in rows if r["confirmed"]),
        "open": sum(1 for r in rows if r["suggested"]),
    }
    if show == "open":
        rows = [r for r in rows if r["suggested"]]
    elif show == "unlinked":
        rows = [r for r in rows if not r["confirmed"]]
    can_edit = rules.can_edit(get_access(request.user)) and system.is_active
    tasks = _task_choices(system.campaign_id) if can_edit else []
    return render(
        request,
        "assessment/systems/mapping.html",
        {
            "system": system,
            "active": "mapping",
            "rows": rows,
            "totals": totals,
            "show": show,
            "filters": MAPPING_FILTERS,
            "can_edit": can_edit,
            "tasks": tasks,
            "task_metrics": _metric_choices(system.campaign_id) if can_edit else [],
        },
    )


def _leaf_response(request, indicator: Indicator, *, error: str = ""):
    """One leaf's block on the mapping page (HTMX swaps it in place, with the error inside it), or back to
    the page with the error as a message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(f"{reverse('assessment:mapping', args=[indicator.system_id])}#leaf-{indicator.pk}")
    system = indicator.system
    row = _leaf_rows(system, leaves_only={indicator.pk})
    return render(
        request,
        "assessment/systems/_mapping_leaf.html",
        {
            "r": row[0] if row else None,
            "system": system,
            "can_edit": rules.can_edit(get_access(request.user)) and system.is_active,
            "tasks": _task_choices(system.campaign_id),
            "task_metrics": _metric_choices(system.campaign_id),
            "error": error,
        },
    )


@office_required
@require_POST
def link_decide(request, pk: int):
    link = services.link_for(request.user, pk)
    action = request.POST.get("action")
    steps = {"confirm": services.confirm_link, "reject": services.reject_link, "reopen": services.reopen_link}
    if action not in steps:
        return _leaf_response(request, link.indicator, error="请选择“确认”“排除”或“撤销”。")
    try:
        steps[action](by=request.user, link=link)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        return _leaf_response(request, link.indicator, error=error.message)
    return _leaf_response(request, link.indicator)


@office_required
@require_POST
def link_add(request, pk: int):
    indicator = services.indicator_for(request.user, pk)
    task_id = request.POST.get("task", "")
    task = Task.objects.filter(pk=task_id if task_id.isdigit() else 0).first()
    if task is None:
        return _leaf_response(request, indicator, error="请先选择一项任务。")
    metric = None
    metric_id = request.POST.get("metric", "")
    if metric_id:
        metric = task.targets.filter(metric_id=metric_id if metric_id.isdigit() else 0).first()
        metric = metric.metric if metric else None
        if metric is None:
            return _leaf_response(request, indicator, error="所选量化指标不属于这项任务。")
    try:
        services.add_link(by=request.user, indicator=indicator, task=task, metric=metric)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        return _leaf_response(request, indicator, error=error.message)
    return _leaf_response(request, indicator)


@office_required
def task_search(request, pk: int):
    """The task picker's options for the typed words (HTMX replaces the select's options)."""
    system = services.system_for(request.user, pk)
    tasks = _task_choices(system.campaign_id, request.GET.get("q", ""))
    chosen = request.GET.get("task", "")
    selected = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else None
    return render(request, "assessment/systems/_task_options.html", {"tasks": tasks, "selected": selected})


@office_required
@require_POST
def mapping_suggest(request, pk: int):
    system = services.system_for(request.user, pk)
    result = services.suggest_links(by=request.user, system=system)
    messages.success(
        request,
        f"已按共有词语生成建议：新增 {result['created']} 条，更新 {result['updated']} 条，"
        f"移除不再相符的建议 {result['removed']} 条；已确认或已排除的对应关系保持不变。",
    )
    return redirect("assessment:mapping", system.pk)
