"""Celery beat entries of this app; campaign/settings.py merges every app's BEAT_SCHEDULE."""

from celery.schedules import crontab  # noqa: F401

BEAT_SCHEDULE: dict = {}
