"""Background jobs of the campaign app (Celery; discovered as ``<app>.jobs``)."""

from celery import shared_task

from . import services


@shared_task(name="campaign.jobs.periods_advance")
def periods_advance() -> dict[str, int]:
    return services.periods_advance()
