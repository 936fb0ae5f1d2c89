"""Writes about campaigns and their reporting periods."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .dates import quarter_of
from .models import Campaign, ReportingPeriod


def period_ensure(*, campaign: Campaign, year: int, quarter: int) -> ReportingPeriod:
    """The period for a quarter, created with the default due date if missing."""
    starts, ends, due = ReportingPeriod.bounds_for(year, quarter)
    period, _ = ReportingPeriod.objects.get_or_create(
        campaign=campaign,
        year=year,
        quarter=quarter,
        defaults={"starts_on": starts, "ends_on": ends, "due_on": due},
    )
    return period


def period_ensure_current(*, campaign: Campaign, today: dt.date | None = None) -> ReportingPeriod:
    """Make sure the quarter containing ``today`` exists and is open: a named city keeps reporting."""
    today = today or timezone.localdate()
    year, quarter = quarter_of(today)
    period = period_ensure(campaign=campaign, year=year, quarter=quarter)
    if period.state != ReportingPeriod.State.OPEN:
        period.state = ReportingPeriod.State.OPEN
        period.closed_at = None
        period.save(update_fields=["state", "closed_at"])
    return period


@transaction.atomic
def periods_advance(*, today: dt.date | None = None) -> dict[str, int]:
    """Move periods forward by the calendar: create the quarter that has begun, open periods at their start,
    close them some days after their due date.

    Only ever moves forward, so a period the office closed early is not reopened, and running it twice
    changes nothing the second time.
    """
    today = today or timezone.localdate()
    for campaign in Campaign.objects.filter(is_active=True):
        periods_ensure_until(campaign=campaign, today=today)  # the calendar runs on after the plan's quarters
    # Closed once ``period_last_open_day`` has passed: due_on + N < today.
    close_before = today - dt.timedelta(days=settings.PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE)
    opened = (
        ReportingPeriod.objects.filter(state=ReportingPeriod.State.UPCOMING, starts_on__lte=today)
        .exclude(due_on__lt=close_before)
        .update(state=ReportingPeriod.State.OPEN)
    )
    closed = ReportingPeriod.objects.filter(
        state__in=[ReportingPeriod.State.UPCOMING, ReportingPeriod.State.OPEN], due_on__lt=close_before
    ).update(state=ReportingPeriod.State.CLOSED, closed_at=timezone.now())
    return {"opened": opened, "closed": closed}


def periods_ensure_until(*, campaign: Campaign, today: dt.date | None = None) -> list[ReportingPeriod]:
    """Every quarter from the campaign's first reporting period (or, without one, the quarter it starts in)
    to the quarter containing ``today``, created where missing: the calendar never has a gap, also after
    the plan's last quarter, when a named city keeps reporting. Returns them in order; states untouched."""
    today = today or timezone.localdate()
    first = campaign.periods.order_by("year", "quarter").first()
    year, quarter = (first.year, first.quarter) if first else quarter_of(campaign.starts_on)
    periods = []
    while (year, quarter) <= quarter_of(today):
        periods.append(period_ensure(campaign=campaign, year=year, quarter=quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return periods


def period_last_open_day(period: ReportingPeriod) -> dt.date:
    """The last day a period stays open for late reports: periods_advance closes it the day after."""
    return period.due_on + dt.timedelta(days=settings.PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE)
