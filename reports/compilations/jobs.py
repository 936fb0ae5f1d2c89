"""Background jobs of the reports app (Celery; discovered as ``<app>.jobs``). Thin: ids in, services out.

Compilation jobs acknowledge late and are rejected back to the queue when their worker process dies, so a
killed worker's job runs again; ``compilation_run`` restarts such a job cleanly and gives up after a few
interruptions. Anything left "running" past the time limit is failed by ``compilations_fail_stuck``.
"""

from celery import shared_task
from django.conf import settings

from . import services as compilations


@shared_task(
    name="reports.compilations.jobs.compilation_build",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.COMPILATION_TIME_LIMIT,
    time_limit=settings.COMPILATION_TIME_LIMIT + 60,
    ignore_result=True,
)
def compilation_build(compilation_id: int) -> str:
    return compilations.compilation_run(compilation_id=compilation_id)


@shared_task(name="reports.compilations.jobs.compilations_fail_stuck", ignore_result=True)
def compilations_fail_stuck() -> dict[str, int]:
    return compilations.compilations_fail_stuck()


@shared_task(name="reports.compilations.jobs.compilations_for_closed_periods", ignore_result=True)
def compilations_for_closed_periods() -> int:
    return compilations.compilations_for_closed_periods()


@shared_task(name="reports.compilations.jobs.compilations_purge_old", ignore_result=True)
def compilations_purge_old() -> int:
    return compilations.compilations_purge_old()
