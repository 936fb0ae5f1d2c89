"""Celery beat entries of this app; campaign/settings.py merges every app's BEAT_SCHEDULE.

The reminder run is daily at REMINDERS_HOUR:REMINDERS_MINUTE local time (08:00 by default, so the mail is
there when people start work). REMINDERS_BEAT_SECONDS replaces that with a fixed interval (the integration
test runs it every 2 seconds), and REMINDERS_QUEUE routes it to a named queue.
"""

import os

from celery.schedules import crontab

_seconds = os.environ.get("REMINDERS_BEAT_SECONDS", "").strip()
_queue = os.environ.get("REMINDERS_QUEUE", "").strip()

_entry: dict = {
    "task": "notifications.jobs.reminders_send_daily",
    "schedule": float(_seconds)
    if _seconds
    else crontab(
        hour=int(os.environ.get("REMINDERS_HOUR", "8")), minute=int(os.environ.get("REMINDERS_MINUTE", "0"))
    ),
}
if _queue:
    _entry["options"] = {"queue": _queue}

BEAT_SCHEDULE: dict = {"reminders-daily": _entry}
