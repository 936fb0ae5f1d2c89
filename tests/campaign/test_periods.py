"""The reporting calendar moves forward by itself, also after the plan's last quarter."""

from __future__ import annotations

import datetime as dt

import pytest

from campaign.models import ReportingPeriod
from campaign.services import periods_advance

pytestmark = pytest.mark.django_db


def test_the_daily_job_creates_the_quarter_that_has_begun_after_the_plans_last_one(plan):
    assert not ReportingPeriod.objects.filter(year=2026).exists()  # the plan's quarters end in 2025 Q4

    periods_advance(today=dt.date(2026, 7, 2))

    quarters = list(ReportingPeriod.objects.filter(year=2026).values_list("quarter", "state"))
    assert quarters == [(1, "closed"), (2, "open"), (3, "open")]  # Q2 is still being reported (due 07-10)
    q3 = ReportingPeriod.objects.get(year=2026, quarter=3)
    assert (q3.starts_on, q3.ends_on, q3.due_on) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 10),
    )


def test_running_the_daily_job_twice_changes_nothing_the_second_time(plan):
    periods_advance(today=dt.date(2026, 7, 2))
    before = list(ReportingPeriod.objects.values_list("year", "quarter", "state", "closed_at"))

    assert periods_advance(today=dt.date(2026, 7, 2)) == {"opened": 0, "closed": 0}
    assert list(ReportingPeriod.objects.values_list("year", "quarter", "state", "closed_at")) == before
