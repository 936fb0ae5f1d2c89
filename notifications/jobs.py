"""Background jobs of the notifications app (Celery; discovered as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from . import services


@shared_task(name="notifications.jobs.reminders_send_daily")
def reminders_send_daily(today: str | None = None) -> dict[str, int]:
    """The daily reminder run; ``today`` (YYYY-MM-DD) lets it run as of another day."""
    day = dt.date.fromisoformat(today) if today else None
    return services.reminders_send_daily(today=day)
