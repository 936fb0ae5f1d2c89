"""Celery beat entries of this app; campaign/settings.py merges every app's BEAT_SCHEDULE."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    # A period may be closed by the office at any time, or by periods_advance at 00:20.
    "compilations-for-closed-periods": {
        "task": "reports.compilations.jobs.compilations_for_closed_periods",
        "schedule": crontab(minute="*/15"),
    },
    "compilations-fail-stuck": {
        "task": "reports.compilations.jobs.compilations_fail_stuck",
        "schedule": crontab(minute="*/5"),
    },
    "compilations-purge-old": {
        "task": "reports.compilations.jobs.compilations_purge_old",
        "schedule": crontab(hour=3, minute=40),
    },
}
