from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from campaign.models import Campaign
from tasks.selectors import unit_tasks, units_directory

from .access import get_access
from .models import CampaignRole, Membership, Unit, display_name


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
def unit_page(request, code: str):
    unit = get_object_or_404(Unit, code=code, is_active=True)
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
            "show_phones": get_access(request.user).sees_phones_of(unit.pk),
            "office_contacts": [(display_name(role.user), role.phone) for role in office.order_by("id")],
        },
    )
