"""tests/factories.py's ``many_reports``: many reports made with one recount of the figures' read model give
the same figures as one recount per report (what a rebuild from the reports gives)."""

from __future__ import annotations

from reports import figures
from tasks.models import Responsibility
from tests.factories import make_report, many_reports


def test_many_reports_leave_the_same_figures_as_one_recount_per_report(open_period):
    carried = list(Responsibility.objects.select_related("unit", "task").order_by("pk")[:40])
    states = ["approved", "submitted", "returned", "draft"]

    with many_reports():
        for n, resp in enumerate(carried):
            make_report(
                period=open_period,
                unit=resp.unit,
                task=resp.task,
                state=states[n % 4],
                metrics={"lectures": n},
            )
        assert figures.differences() != []  # not yet recounted inside the block

    assert figures.differences() == []
    assert sum(row[0] for row in figures.snapshot()["counts"].values()) == 10  # submitted
