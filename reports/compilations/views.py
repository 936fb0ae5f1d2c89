"""Pages of compiled documents: ask for one, watch it being built (HTMX polling), download, retry, list."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from campaign.decorators import domain_errors_as_pages
from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, ReportingPeriod
from campaign.templatetags.portal import cndatetime
from tasks.models import Task
from units.access import get_access
from units.models import Unit

from . import kinds, selectors
from . import services as service
from .models import Compilation

SCOPE_FIELDS = ("period", "year", "unit", "task")
PAGE_SIZE = 20


@domain_errors_as_pages
def compilation_list(request):
    access = get_access(request.user)
    qs = selectors.compilations_visible_to(request.user)
    filters = {
        "kind": request.GET.get("kind", ""),
        "format": request.GET.get("format", ""),
        "state": request.GET.get("state", ""),
        "origin": request.GET.get("origin", ""),
    }
    if filters["kind"] in service.kind_labels():
        qs = qs.filter(kind=filters["kind"])
    if filters["format"] in service.FORMAT_LABELS:
        qs = qs.filter(format=filters["format"])
    if filters["state"] in dict(Compilation.State.choices):
        qs = qs.filter(state=filters["state"])
    if filters["origin"] == "auto":
        qs = qs.filter(automatic=True)
    elif filters["origin"] == "mine":
        qs = qs.filter(requested_by=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    kinds.subject_labels(page.object_list)  # the dossiers' systems, in one query
    return render(
        request,
        "compilations/list.html",
        {
            "page": page,
            "filters": filters,
            # Unit people see only their units' unit reports: the filter offers no other kind.
            "kinds": kinds.kind_choices()
            if access.sees_everything
            else [(Compilation.Kind.UNIT, "单位报告")],
            "formats": Compilation.Format.choices,
            "states": Compilation.State.choices,
            "can_request": access.sees_everything or access.is_unit_member,
        },
    )


def _form_context(request, values: dict, error: str = "") -> dict:
    access = get_access(request.user)
    campaign = Campaign.current()
    periods = ReportingPeriod.objects.none()
    tasks = Task.objects.none()
    if campaign is not None:
        periods = ReportingPeriod.objects.filter(campaign=campaign).exclude(
            state=ReportingPeriod.State.UPCOMING
        )
        tasks = Task.objects.filter(campaign=campaign).order_by("number")
    periods = list(periods.order_by("-year", "-quarter"))
    units = Unit.objects.filter(is_active=True).order_by("order", "id")
    if not access.sees_everything:
        units = units.filter(pk__in=access.unit_ids)
    offered = Compilation.Kind.choices if access.sees_everything else [(Compilation.Kind.UNIT, "单位报告")]
    # A registered kind (the 申报 dossier) is offered to those it allows, with a select of its subjects.
    extras = [k for k in kinds.extra() if k.can_request(access)]
    offered = [*offered, *((k.value, k.label) for k in extras)]
    return {
        "values": values,
        "error": error,
        "kinds": offered,
        "extras": [{"kind": k, "options": k.options(), "value": values.get(k.scope, "")} for k in extras],
        "formats": Compilation.Format.choices,
        "periods": periods,
        "years": sorted({p.year for p in periods}, reverse=True),
        "units": list(units),
        "tasks": list(tasks),
        "kind_help": service.kind_help(),
        "limited": not access.sees_everything,
    }


@domain_errors_as_pages
def compilation_new(request):
    access = get_access(request.user)
    if not (access.sees_everything or access.is_unit_member):
        raise PermissionDenied("您没有汇编文件的权限。")
    source = request.POST if request.method == "POST" else request.GET
    values = {
        name: source.get(name, "") for name in ("kind", "format", *SCOPE_FIELDS, *service.scope_params())
    }
    if not access.sees_everything:
        values["kind"] = values["kind"] or Compilation.Kind.UNIT
        if not values["unit"] and len(access.unit_ids) == 1:
            values["unit"] = str(next(iter(access.unit_ids)))
    values["format"] = values["format"] or Compilation.Format.PDF
    values["with_appendix"] = source.get("with_appendix", "") in ("1", "on", "true")
    if request.method != "POST":
        existing = _existing_file(request, values)
        if existing is not None:
            messages.info(
                request,
                f"该文件已于{cndatetime(existing.finished_at)}生成，可直接下载；"
                "如需包含最新数据，请点击“重新生成”。",
            )
            return redirect("compilations:detail", pk=existing.pk)
        return render(request, "compilations/new.html", _form_context(request, values))
    try:
        compilation, created = service.compilation_request(
            kind=values["kind"],
            format=values["format"],
            **_built_in_scope(values),
            with_appendix=values["with_appendix"],
            extra_scope=_extra_scope(values),
            by=request.user,
        )
    except DomainError as exc:
        return render(
            request,
            "compilations/new.html",
            _form_context(request, values, exc.message),
            status=exc.http_status,
        )
    if created:
        messages.success(request, f"已提交生成：{compilation.title}（{compilation.get_format_display()}）。")
    else:
        messages.info(request, "相同的汇编正在生成中，已为您打开该任务。")
    return redirect("compilations:detail", pk=compilation.pk)


def _built_in_scope(values: dict) -> dict:
    """Period, year, unit and task of a request; a registered kind does not use them (the form may still
    carry what was chosen for another kind)."""
    if kinds.get(values["kind"]) is not None:
        return {}
    return {name: values[name] or None for name in SCOPE_FIELDS}


def _extra_scope(values: dict) -> dict:
    """The registered kinds' parameters of a request (``system``); only the asked kind's own counts, so that the
    form's other selects, left as they are, do not make the request wrong."""
    extra = kinds.get(values["kind"])
    return {extra.scope: values.get(extra.scope) or None} if extra is not None else {}


def _existing_file(request, values: dict) -> Compilation | None:
    """A link with the whole request in it (the dashboards' download buttons: a kind and what it needs;
    the format defaults to PDF, as on the form) leads to the file already built for exactly that request.
    ``?fresh=1``, or a link without the kind or its required scope, opens the form."""
    kind = request.GET.get("kind", "")
    if kind not in service.kind_labels() or request.GET.get("fresh"):
        return None
    if any(not request.GET.get(name) for name in service.required_scope(kind)):
        return None
    try:
        return service.compilation_existing_file(
            kind=kind,
            format=values["format"],
            **_built_in_scope(values),
            with_appendix=values["with_appendix"],
            extra_scope=_extra_scope(values),
            by=request.user,
        )
    except DomainError:
        return None  # the form shows the request; submitting it says what is wrong


def _progress_context(request, compilation: Compilation) -> dict:
    access = get_access(request.user)
    return {
        "c": compilation,
        "can_rebuild": service.can_request(access, kind=compilation.kind, unit_id=compilation.unit_id),
    }


@domain_errors_as_pages
def compilation_detail(request, pk: int):
    compilation = selectors.compilation_visible_to(user=request.user, pk=pk)
    compilation = service.compilation_check_stuck(compilation=compilation)
    return render(request, "compilations/detail.html", _progress_context(request, compilation))


@domain_errors_as_pages
def compilation_progress(request, pk: int):
    """The polled fragment: polls itself every second until the compilation is done or failed."""
    compilation = selectors.compilation_visible_to(user=request.user, pk=pk)
    compilation = service.compilation_check_stuck(compilation=compilation)
    return render(request, "compilations/_progress.html", _progress_context(request, compilation))


@domain_errors_as_pages
def compilation_download(request, pk: int):
    compilation = selectors.compilation_visible_to(user=request.user, pk=pk)
    return selectors.compilation_file_response(compilation)  # 409 / 410 pages say why there is no file


@require_POST
@domain_errors_as_pages
def compilation_retry(request, pk: int):
    compilation = selectors.compilation_visible_to(user=request.user, pk=pk)
    try:
        service.compilation_retry(compilation=compilation, by=request.user)
    except PermissionDenied:
        raise  # the 403 page; any other refusal (not failed any more) is a message on the detail page
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新排队生成。")
    return redirect("compilations:detail", pk=compilation.pk)
