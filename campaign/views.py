import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from reports.selectors import unit_period_overview
from tasks.selectors import sections_with_tasks, unit_tasks
from units.access import get_access
from units.models import Unit

from .models import Campaign
from .selectors import campaign_timeline, open_period

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """For the container health check and the reverse proxy: 200 "ok" when the database answers, else 503.
    No login, no redirect to HTTPS (settings.SECURE_REDIRECT_EXEMPT)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("healthz: the database did not answer")
        return HttpResponse("database unavailable", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def _campaign_or_empty(request):
    campaign = Campaign.current()
    if campaign is None:
        return None, render(request, "campaign/no_campaign.html", status=200)
    return campaign, None


@login_required
def home(request):
    campaign, empty = _campaign_or_empty(request)
    if empty:
        return empty
    access = get_access(request.user)
    period = open_period(campaign)
    # After the plan's end date the city keeps reporting: say plainly that the 创建期 is over.
    plan_ended = campaign.ends_on < timezone.localdate()
    if access.sees_everything:
        sections = sections_with_tasks(campaign)
        return render(
            request,
            "campaign/home_office.html",
            {
                "campaign": campaign,
                "timeline": campaign_timeline(campaign),
                "sections": sections,
                "task_count": sum(len(s.task_list) for s in sections),
                "period": period,
                "plan_ended": plan_ended,
                "unit_count": Unit.objects.filter(is_active=True).count(),
            },
        )
    units = list(Unit.objects.filter(pk__in=access.unit_ids).order_by("order"))
    return render(
        request,
        "campaign/home_unit.html",
        {
            "campaign": campaign,
            "period": period,
            "plan_ended": plan_ended,
            "unit_blocks": [_unit_block(unit, campaign, period) for unit in units],
        },
    )


def _unit_block(unit, campaign, period) -> dict:
    """A unit's tasks, each with its report's state and light in the open period (the light is
    ProgressReport.light_for, through the 本季度报送 page's selector)."""
    responsibilities = unit_tasks(unit, campaign)
    overview = unit_period_overview(unit=unit, period=period)
    status = {row.task.pk: row for row in overview.rows}
    return {
        "unit": unit,
        "overview": overview,
        "rows": [(r, status.get(r.task_id)) for r in responsibilities],
        "responsibilities": responsibilities,
    }


@login_required
def plan(request):
    campaign, empty = _campaign_or_empty(request)
    if empty:
        return empty
    return render(
        request,
        "campaign/plan.html",
        {
            "campaign": campaign,
            "timeline": campaign_timeline(campaign),
            "sections": sections_with_tasks(campaign),
        },
    )
