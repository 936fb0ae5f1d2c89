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
    """Move periods forward by the calendar: open at their start, close some days after their due date.

    Only ever moves forward, so a period the office closed early is not reopened, and running it twice
    changes nothing the second time.
    """
    today = today or timezone.localdate()
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
