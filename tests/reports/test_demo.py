"""Demo and scale data: plausible, in every state, idempotent; the benchmark's query counts do not grow."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from campaign.models import ReportingPeriod
from campaign.services import period_ensure_current
from reports.demo import populate_demo_reports
from reports.models import MetricValue, ProgressReport, ReportEvent
from units.models import Unit

S = ProgressReport.State
TODAY = dt.date(2025, 11, 20)


@pytest.fixture
def demo_campaign(plan):
    """Periods as setup_demo leaves them on TODAY: past quarters closed, 2025 Q4 open."""
    for period in ReportingPeriod.objects.all():
        period.state = ReportingPeriod.State.CLOSED if period.ends_on < TODAY else ReportingPeriod.State.OPEN
        period.save()
    period_ensure_current(campaign=plan, today=TODAY)
    return plan


def test_demo_fills_past_quarters_in_every_state_with_metrics_and_history(demo_campaign):
    added = populate_demo_reports(campaign=demo_campaign, today=TODAY, stdout=io.StringIO())

    closed = ProgressReport.objects.filter(period__state="closed")
    assert added == ProgressReport.objects.count() > 2500
    assert set(closed.values_list("state", flat=True)) == {S.DRAFT, S.SUBMITTED, S.RETURNED, S.APPROVED}
    assert (
        closed.filter(state=S.RETURNED).exclude(return_reason="").count()
        == closed.filter(state=S.RETURNED).count()
    )
    assert sum(1 for r in closed.filter(state=S.APPROVED).select_related("period")[:2000] if r.is_late) > 10
    assert MetricValue.objects.count() > 2 * added
    assert (
        ReportEvent.objects.filter(action="returned").count()
        == closed.filter(state=S.RETURNED).count()
        + ReportEvent.objects.filter(action="returned", report__period__state="open").count()
    )


def test_demo_has_drafts_and_submissions_in_the_open_quarter(demo_campaign):
    populate_demo_reports(campaign=demo_campaign, today=TODAY)

    current = ProgressReport.objects.filter(period__year=2025, period__quarter=4)
    states = set(current.values_list("state", flat=True))
    assert {S.DRAFT, S.SUBMITTED} <= states
    assert current.count() < 363  # some tasks still to do


def test_demo_texts_are_chinese_and_name_the_task(demo_campaign):
    populate_demo_reports(campaign=demo_campaign, today=TODAY)

    report = ProgressReport.objects.select_related("task").exclude(state=S.DRAFT).first()
    assert f"“{report.task.title}”" in report.progress
    assert "本季度共" in report.progress


def test_demo_is_idempotent(demo_campaign):
    first = populate_demo_reports(campaign=demo_campaign, today=TODAY)
    counts = (ProgressReport.objects.count(), MetricValue.objects.count(), ReportEvent.objects.count())

    second = populate_demo_reports(campaign=demo_campaign, today=TODAY)

    assert first > 0 and second == 0
    assert (
        ProgressReport.objects.count(),
        MetricValue.objects.count(),
        ReportEvent.objects.count(),
    ) == counts


def test_demo_history_carries_past_dates(demo_campaign):
    populate_demo_reports(campaign=demo_campaign, today=TODAY)

    approved = ProgressReport.objects.filter(state=S.APPROVED, period__year=2024, period__quarter=1).first()
    events = list(approved.events.order_by("at"))
    assert [e.action for e in events] == ["created", "submitted", "approved"]
    assert events[1].at.date() < dt.date(2024, 5, 1)


def test_scale_data_adds_units_with_tasks_and_reports_and_is_idempotent(demo_campaign):
    out = io.StringIO()
    call_command("generate_scale_data", units=80, quarters=2, stdout=out)
    counts = (Unit.objects.count(), ProgressReport.objects.count(), MetricValue.objects.count())

    call_command("generate_scale_data", units=80, quarters=2, stdout=io.StringIO())

    scale = Unit.objects.filter(code__startswith="scale-")
    assert Unit.objects.filter(is_active=True).count() == 80
    assert scale.count() == 24
    assert set(scale.values_list("kind", flat=True)) == {"county", "department"}
    assert all(u.responsibilities.exists() for u in scale)
    assert (Unit.objects.count(), ProgressReport.objects.count(), MetricValue.objects.count()) == counts
    assert set(ProgressReport.objects.values_list("state", flat=True)) == {
        S.DRAFT,
        S.SUBMITTED,
        S.RETURNED,
        S.APPROVED,
    }
    assert "新增报告" in out.getvalue()


def test_scale_data_reset_removes_what_it_added(demo_campaign):
    call_command("generate_scale_data", units=70, quarters=1, stdout=io.StringIO())

    call_command("generate_scale_data", reset=True, stdout=io.StringIO())

    assert not Unit.objects.filter(code__startswith="scale-").exists()
    assert not ProgressReport.objects.filter(unit__code__startswith="scale-").exists()


def test_benchmark_prints_equal_query_counts_and_rolls_back(demo_campaign):
    out = io.StringIO()

    call_command("benchmark_reports", large=90, quarters=2, repeat=2, stdout=out)

    text = out.getvalue()
    assert "联络员“本季度报送”：两种规模下查询次数相同" in text
    assert "创建办审核队列：两种规模下查询次数相同" in text
    assert "（已回滚本次生成的数据）" in text
    assert not Unit.objects.filter(code__startswith="scale-").exists()
