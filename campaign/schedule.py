"""Celery beat entries of this app; campaign/settings.py merges every app's BEAT_SCHEDULE."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    "periods-advance-daily": {
        "task": "campaign.jobs.periods_advance",
        "schedule": crontab(hour=0, minute=20),
    },
}
