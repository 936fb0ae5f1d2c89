"""The register's pages: thin — parse, call a service or selector, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from campaign.decorators import domain_errors_as_pages, office_required
from campaign.errors import DomainError, PermissionDenied
from campaign.redirects import redirect_next
from units.access import get_access
from units.models import Unit

from . import selectors, services
from .forms import NamingForm, SiteForm
from .models import Site

PAGE_SIZE = 20


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def list_filters(request) -> dict:
    """The register's filters from the query string, the same for the page and the 台账 download."""
    access = get_access(request.user)
    get = request.GET
    county = _int(get.get("county"))
    unit = _int(get.get("unit"))
    filters = {
        "county": Unit.objects.filter(pk=county).first() if county else None,
        "category": get.get("category") if get.get("category") in Site.Category.values else None,
        "level": get.get("level") if get.get("level") in Site.Level.values else None,
        "status": get.get("status") if get.get("status") in Site.Status.values else None,
    }
    if not access.sees_everything:
        own = sorted(access.unit_ids)
        unit = unit if unit in own else (own[0] if own else None)
        if unit is None:
            raise PermissionDenied("示范点台账只对各单位联络员、创建办和领导开放。")
    filters["unit"] = Unit.objects.filter(pk=unit).first() if unit else None
    return filters


@domain_errors_as_pages
def site_list(request):
    access = get_access(request.user)
    filters = list_filters(request)
    as_of = _date(request.GET.get("as_of"))
    qs = selectors.register_page_sites(as_of=as_of, search=request.GET.get("q"), **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counties = Unit.objects.filter(is_active=True, kind__in=[Unit.Kind.COUNTY, Unit.Kind.PARK])
    return render(
        request,
        "sites/list.html",
        {
            "page": page,
            "filters": filters,
            "q": request.GET.get("q", ""),
            "counties": counties.order_by("order", "id"),
            "categories": Site.Category.choices,
            "levels": Site.Level.choices,
            "statuses": Site.Status.choices,
            "can_add": bool(access.liaison_unit_ids),
            "is_office": access.is_office,
            "pending": selectors.pending_namings().count() if access.is_office else 0,
            "query": request.GET.urlencode(),
        },
    )


@domain_errors_as_pages
def site_detail(request, pk: int):
    site = services.site_for(request.user, pk)
    access = get_access(request.user)
    return render(
        request,
        "sites/detail.html",
        {
            "site": site,
            "photos": site.photos.all(),
            "files": site.files.all(),
            "namings": site.namings.select_related("requested_by", "decided_by"),
            "changes": site.changes.select_related("by")[:50],
            "can_edit": services.can_update(request.user, site.owner_id),
            "is_office": access.is_office,
            "naming_form": NamingForm(),
        },
    )


def _owner_for(request) -> Unit:
    access = get_access(request.user)
    own = sorted(access.liaison_unit_ids)
    wanted = _int(request.POST.get("owner") or request.GET.get("owner"))
    if wanted in own:
        return Unit.objects.get(pk=wanted)
    if not own:
        raise PermissionDenied("只有单位联络员可以添加示范点（创建办负责审核命名和合并）。")
    return Unit.objects.get(pk=own[0])


@domain_errors_as_pages
def site_add(request):
    owner = _owner_for(request)
    initial = {"county": owner if owner.is_county_level else None}
    if (task_id := request.GET.get("task", "")).isdigit():
        initial["task"] = int(task_id)  # from a report form: "本季度新增示范点" is a site, not a number
    form = SiteForm(request.POST or None, initial=initial)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(by=request.user, owner=owner, **form.cleaned_data)
            photo = request.FILES.get("photo")
            if photo is not None:
                services.site_add_photo(site=site, by=request.user, upload=photo)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"已添加示范点“{site.name}”。")
            return redirect_next(request, "sites:detail", site.pk)
    return render(request, "sites/form.html", {"form": form, "owner": owner, "site": None, "error": error})


@domain_errors_as_pages
def site_edit(request, pk: int):
    site = services.site_for(request.user, pk)
    if not services.can_update(request.user, site.owner_id):
        raise PermissionDenied("只有该示范点所属单位的联络员和创建办可以修改它。")
    form = SiteForm(request.POST or None, instance=Site.objects.get(pk=site.pk))
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(site=site, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "已保存修改。")
            return redirect_next(request, "sites:detail", site.pk)
    return render(
        request, "sites/form.html", {"form": form, "owner": site.owner, "site": site, "error": error}
    )


@require_POST
@domain_errors_as_pages
def site_upload(request, pk: int):
    site = services.site_for(request.user, pk)
    upload = request.FILES.get("file")
    if upload is None:
        raise DomainError("请选择要上传的照片或文件。")
    if request.POST.get("kind") == "file":
        services.site_add_file(
            site=site, by=request.user, upload=upload, caption=request.POST.get("caption", "")
        )
    else:
        services.site_add_photo(
            site=site, by=request.user, upload=upload, caption=request.POST.get("caption", "")
        )
    messages.success(request, f"已上传“{upload.name}”。")
    return redirect_next(request, "sites:detail", site.pk)


@require_POST
@domain_errors_as_pages
def site_naming_request(request, pk: int):
    site = services.site_for(request.user, pk)
    form = NamingForm(request.POST, request.FILES)
    if not form.is_valid():
        raise DomainError("请填写命名级别、命名日期（如 2025-06-30）并上传命名文件。")
    services.naming_request(site=site, by=request.user, **form.cleaned_data)
    messages.success(request, "已提交命名申请，等待创建办审核。")
    return redirect_next(request, "sites:detail", site.pk)


@office_required
def naming_queue(request):
    page = Paginator(selectors.pending_namings(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sites/naming_queue.html", {"page": page})


@require_POST
@office_required
def naming_decide(request, pk: int):
    naming = services.naming_for_office(pk)
    if request.POST.get("decision") == "approve":
        site = services.naming_approve(naming=naming, by=request.user)
        messages.success(request, f"已命名“{site.name}”为{site.get_level_display()}示范点。")
    else:
        services.naming_return(naming=naming, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"已退回“{naming.site.name}”的命名申请。")
    return redirect("sites:namings")


@office_required
def site_merge(request):
    keep = _int(request.GET.get("keep") or request.POST.get("keep"))
    absorb = _int(request.GET.get("absorb") or request.POST.get("absorb"))
    sites = Site.objects.filter(merged_into__isnull=True).select_related("owner", "county")
    pair = {s.pk: s for s in sites.filter(pk__in=[p for p in (keep, absorb) if p])}
    if request.method == "POST":
        if keep not in pair or absorb not in pair:
            raise DomainError("请选择要保留的示范点和要并入的示范点（两个都必须是台账中未合并的示范点）。")
        kept = services.site_merge(keep=pair[keep], absorb=pair[absorb], by=request.user)
        messages.success(request, f"已把“{pair[absorb].name}”并入“{kept.name}”。")
        return redirect("sites:detail", pk=kept.pk)
    return render(
        request,
        "sites/merge.html",
        {
            "sites": sites.order_by("county__order", "name", "id"),
            "keep": pair.get(keep),
            "absorb": pair.get(absorb),
        },
    )
