"""Background jobs of compiled documents (Celery; discovered as ``<app>.jobs``). Thin: ids in, ``build`` out.

Compilation jobs acknowledge late and are rejected back to the queue when their worker process dies, so a
killed pool process's job runs again at once; a job whose whole worker died comes back from Redis after the
visibility timeout (longer than the hard time limit). ``build.compilation_run`` restarts such a job cleanly
and gives up after a few interruptions. What no redelivery will take over is failed by
``compilations_fail_stuck`` (``build.stuck_after`` says when).
"""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from . import background, build


@shared_task(
    name="reports.compilations.jobs.compilation_build",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.COMPILATION_TIME_LIMIT,
    time_limit=settings.COMPILATION_TIME_LIMIT + 60,
    ignore_result=True,
)
def compilation_build(compilation_id: int) -> str:
    return build.compilation_run(compilation_id=compilation_id)


def compilation_enqueue(compilation_id: int) -> None:
    """Queue the build once the transaction that created or reset the row commits: to the worker, or in the
    quick start (jobs in-process) to a background thread when ``COMPILATIONS_IN_BACKGROUND`` is on, so the
    request returns at once instead of building the file."""
    if background.enabled():
        transaction.on_commit(lambda: background.submit(compilation_id))
    else:
        transaction.on_commit(lambda: compilation_build.delay(compilation_id))


@shared_task(name="reports.compilations.jobs.compilations_fail_stuck", ignore_result=True)
def compilations_fail_stuck() -> dict[str, int]:
    return build.compilations_fail_stuck()


@shared_task(name="reports.compilations.jobs.compilations_for_closed_periods", ignore_result=True)
def compilations_for_closed_periods() -> int:
    return build.compilations_for_closed_periods(enqueue=compilation_enqueue)


@shared_task(name="reports.compilations.jobs.compilations_purge_old", ignore_result=True)
def compilations_purge_old() -> int:
    return build.compilations_purge_old()
