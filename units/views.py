from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from campaign.decorators import domain_errors_as_pages
from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign
from tasks.selectors import unit_tasks, units_directory

from . import services
from .access import get_access
from .models import CampaignRole, Membership, Unit, display_name

SIGNOFF_ON_TIME_NOTE = "按时：以报送到创建办（分管领导审核通过）的时间计算。"


@login_required
def directory(request):
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    if kind not in Unit.Kind.values:
        kind = ""
    page = Paginator(units_directory(query=query, kind=kind), 30).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "kind": kind, "kinds": Unit.Kind.choices}
    template = "units/_directory_rows.html" if request.htmx else "units/directory.html"
    return render(request, template, context)


@login_required
@domain_errors_as_pages
@require_http_methods(["GET", "HEAD", "POST"])
def unit_page(request, code: str):
    """The unit's page; the office also sets here whether its reports need the 分管领导's sign-off (POST)."""
    unit = get_object_or_404(Unit, code=code, is_active=True)
    access = get_access(request.user)
    if request.method == "POST":
        on = request.POST.get("requires_signoff") == "on"
        try:
            services.unit_set_requires_signoff(unit=unit, by=request.user, on=on)
        except PermissionDenied:
            raise
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("units:detail", code=unit.code)
        if on:
            messages.success(
                request, f"已开启：{unit.name}的报告报送前需分管领导审核。{SIGNOFF_ON_TIME_NOTE}"
            )
        else:
            messages.success(request, f"已关闭：{unit.name}的报告由联络员直接报送到创建办。")
        return redirect("units:detail", code=unit.code)
    campaign = Campaign.current()
    responsibilities = unit_tasks(unit, campaign) if campaign else []
    members = Membership.objects.filter(unit=unit, is_active=True).select_related("user")
    office = (
        CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE).exclude(phone="").select_related("user")
    )
    return render(
        request,
        "units/unit_detail.html",
        {
            "unit": unit,
            "responsibilities": responsibilities,
            "lead_count": sum(1 for r in responsibilities if r.is_lead),
            "members": members,
            "show_phones": access.sees_phones_of(unit.pk),
            "can_set_signoff": access.is_office,
            "has_leader": any(m.role == Membership.Role.LEADER for m in members),
            "on_time_note": SIGNOFF_ON_TIME_NOTE,
            "office_contacts": [(display_name(role.user), role.phone) for role in office.order_by("id")],
        },
    )
