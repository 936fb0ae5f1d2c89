"""The quick start runs jobs in-process; production sends them through Redis to a worker. This proves the latter."""

import time

import pytest
from django.db import connection
from django.utils import timezone

from campaign import jobs
from campaign.models import ReportingPeriod
from campaign.services import period_last_open_day

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def test_periods_advance_runs_on_a_real_worker_against_postgresql(plan, celery_worker):
    _, log = celery_worker
    ReportingPeriod.objects.update(state=ReportingPeriod.State.UPCOMING)

    jobs.periods_advance.delay()

    def settled() -> bool:
        # Every period closed exactly when its last open day has passed, and the calendar reaches today.
        today = timezone.localdate()
        periods = list(ReportingPeriod.objects.all())
        return ReportingPeriod.objects.filter(starts_on__lte=today, ends_on__gte=today).exists() and all(
            (p.state == ReportingPeriod.State.CLOSED) == (period_last_open_day(p) < today) for p in periods
        )

    assert connection.vendor == "postgresql"
    assert wait_for(settled), log.read_text()[-2000:]
    assert ReportingPeriod.objects.filter(state="closed").count() >= 10
    assert wait_for(
        lambda: "campaign.jobs.periods_advance" in log.read_text() and "succeeded" in log.read_text()
    )
