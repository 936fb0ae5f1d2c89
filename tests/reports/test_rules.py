"""Each rule tested once, against the rule itself, at its boundaries: on time, reported, the report's light,
a unit's light, a target's light and pace, a period's "as of", and the allowed transitions. Every page,
API, document and notification calls these, so they are not re-tested per surface (see test_consistency)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from campaign.lights import GREEN, GREY, LIGHTS, RED, YELLOW, worst
from campaign.models import ReportingPeriod
from reports.dashboards.selectors import Tally, Window, light_for, target_pace, unit_period_light
from reports.models import ProgressReport
from tests.factories import make_report

pytestmark = pytest.mark.django_db
State = ProgressReport.State


def at(day: dt.date, hms: str) -> dt.datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, h, m, s))


@pytest.fixture
def period(plan) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=2025, quarter=3)  # due 2025-10-10


# ------------------------------------------------------------------------------------------- on time


@pytest.mark.parametrize(
    ("first_submitted", "on_time"),
    [
        ("2025-10-10 23:59:59", True),  # the last second of the due day, local time
        ("2025-10-11 00:00:00", False),  # the first instant that is late
        ("2025-07-01 09:00:00", True),
    ],
)
def test_on_time_is_first_submitted_by_the_end_of_the_due_day_in_local_time(
    period, unit_a, first_submitted, on_time
):
    day, hms = first_submitted.split()
    report = make_report(period=period, unit=unit_a, task=3, state=State.SUBMITTED)
    report.first_submitted_at = at(dt.date.fromisoformat(day), hms)
    report.save()

    assert period.on_time_cutoff == at(dt.date(2025, 10, 11), "00:00:00")
    assert report.is_on_time is on_time
    assert report.is_late is (not on_time)
    # the query form of the rule agrees with the row form
    assert ProgressReport.objects.on_time().filter(pk=report.pk).exists() is on_time


@pytest.mark.parametrize("state", [State.DRAFT, State.RETURNED])
def test_a_report_not_in_the_offices_hands_is_neither_reported_nor_on_time(period, unit_a, state):
    report = make_report(period=period, unit=unit_a, task=3, state=state)
    report.first_submitted_at = at(dt.date(2025, 10, 1), "10:00:00")
    report.save()

    assert (report.is_reported, report.is_on_time) == (False, False)
    assert not ProgressReport.objects.reported().filter(pk=report.pk).exists()
    assert not ProgressReport.objects.on_time().filter(pk=report.pk).exists()


@pytest.mark.parametrize("state", [State.SUBMITTED, State.APPROVED])
def test_submitted_and_approved_count_as_reported(period, unit_a, state):
    report = make_report(period=period, unit=unit_a, task=3, state=state)

    assert report.is_reported is True
    assert ProgressReport.objects.reported().filter(pk=report.pk).exists()


# ------------------------------------------------------------------------------------ report's light


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 10, 6), (GREY, "未填写")),  # 4 days before the due date
        (dt.date(2025, 10, 7), (YELLOW, "即将截止")),  # 3 days before
        (dt.date(2025, 10, 10), (YELLOW, "即将截止")),  # the due day itself
        (dt.date(2025, 10, 11), (RED, "逾期未报")),  # the day after
    ],
)
def test_an_unreported_task_turns_yellow_three_days_before_and_red_after_the_due_date(
    period, today, expected
):
    assert ProgressReport.light_for(None, period, today) == expected


def test_a_submitted_report_is_green_even_when_its_work_is_behind(period, unit_a):
    # Decided: the report's light is about reporting; "behind" is shown as words and in the target's light.
    report = make_report(
        period=period,
        unit=unit_a,
        task=3,
        state=State.SUBMITTED,
        progress_status=ProgressReport.ProgressStatus.BEHIND,
    )

    assert ProgressReport.light_for(report, period, dt.date(2026, 1, 1)) == (GREEN, "已报送")


def test_a_returned_report_is_red_and_a_draft_is_judged_like_a_missing_one(period, unit_a, unit_b):
    returned = make_report(period=period, unit=unit_a, task=3, state=State.RETURNED)
    draft = make_report(period=period, unit=unit_b, task=1, state=State.DRAFT)

    assert ProgressReport.light_for(returned, period, dt.date(2025, 8, 1)) == (RED, "退回未重报")
    assert ProgressReport.light_for(draft, period, dt.date(2025, 8, 1)) == (GREY, "草稿")
    assert ProgressReport.light_for(draft, period, dt.date(2025, 10, 11)) == (RED, "逾期未报")


def test_a_units_light_is_the_worst_of_its_reports(period):
    assert unit_period_light(Tally(expected=3, reported=3), period, dt.date(2025, 10, 20)) == (GREEN, "正常")
    assert unit_period_light(Tally(expected=3, reported=1), period, dt.date(2025, 10, 7)) == (
        YELLOW,
        "即将截止，未报2项",
    )
    assert unit_period_light(Tally(expected=3, reported=1), period, dt.date(2025, 10, 11)) == (
        RED,
        "逾期未报2项",
    )
    assert unit_period_light(Tally(expected=3, reported=2, returned=1), period, dt.date(2025, 8, 1)) == (
        RED,
        "退回未重报1项",
    )


def test_one_table_gives_every_light_its_label_symbol_and_colour():
    assert [LIGHTS[k].symbol for k in (GREEN, YELLOW, RED, GREY)] == ["●", "▲", "■", "○"]
    assert LIGHTS[GREEN].hex == "009E73"
    assert worst([GREEN, YELLOW, RED]) == RED and worst([GREEN, GREY]) == GREEN and worst([]) == GREEN


# ------------------------------------------------------------------------------------ target's light

WINDOW = Window(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "2025年")


def test_target_pace_is_linear_over_the_quarters_whose_reports_are_due():
    promised = Decimal("365")
    # nothing due yet in the window
    assert target_pace(promised=promised, window=WINDOW, as_of=dt.date(2025, 3, 1), covered_until=None) == 0
    # Q1 and Q2 covered: 181 of 365 days
    assert target_pace(
        promised=promised, window=WINDOW, as_of=dt.date(2025, 8, 1), covered_until=dt.date(2025, 6, 30)
    ) == Decimal("181.00")
    # past the window: the whole promise
    assert target_pace(
        promised=promised, window=WINDOW, as_of=dt.date(2026, 1, 1), covered_until=dt.date(2025, 9, 30)
    ) == Decimal("365")


@pytest.mark.parametrize(
    ("reported", "past", "light"),
    [
        ("10", False, GREEN),  # met
        ("5", False, GREEN),  # exactly on pace
        ("4.99", False, YELLOW),  # behind the pace
        ("9.99", True, RED),  # the window is over and it is short
        ("10", True, GREEN),  # met at the end
    ],
)
def test_a_target_row_is_green_on_pace_yellow_behind_and_red_when_over_and_short(reported, past, light):
    assert (
        light_for(reported=Decimal(reported), promised=Decimal("10"), expected=Decimal("5"), past=past)
        == light
    )


# -------------------------------------------------------------------------------------- as of, steps


def test_as_of_a_period_covers_the_quarters_begun_by_its_last_day(period):
    covered = list(ReportingPeriod.objects.as_of(period.as_of).values_list("year", "quarter"))

    assert period.as_of == dt.date(2025, 9, 30)
    assert covered[-1] == (2025, 3) and (2025, 4) not in covered


def test_transitions_table_is_what_the_services_consult(period, unit_a, liaison_a, office_user):
    from campaign.errors import DomainError
    from reports import services

    approved = make_report(period=period, unit=unit_a, task=3, state=State.APPROVED)

    assert [step for step in ("submit", "return", "approve", "edit") if approved.can(step)] == []
    with pytest.raises(DomainError) as error:
        services.report_approve(report=approved, by=office_user)
    assert error.value.code == "not_submitted"


@time_machine.travel(dt.datetime(2025, 10, 9, 12, 0), tick=False)
def test_the_live_light_uses_todays_date(period):
    assert ProgressReport.light_for(None, period, timezone.localdate()) == (YELLOW, "即将截止")


# ---------------------------------------------------------------------------------- a metric's total


def test_a_flow_metric_adds_up_its_quarters_and_a_stock_takes_the_latest():
    from tasks.models import Metric

    flow = Metric(code="f", name="宣讲", unit_of_measure="场", aggregation=Metric.Aggregation.SUM)
    stock = Metric(code="s", name="专职人员", unit_of_measure="人", aggregation=Metric.Aggregation.LATEST)
    quarters = [((2025, 1), Decimal("3")), ((2025, 3), Decimal("5")), ((2025, 2), Decimal("4"))]

    assert flow.add_up(quarters) == Decimal("12")
    assert stock.add_up(quarters) == Decimal(
        "5"
    )  # the latest quarter, not the largest value nor the last given
    assert flow.add_up([]) == stock.add_up([]) == 0


def test_the_dashboards_flow_total_in_sql_equals_the_metric_rule(period, unit_b):
    from reports.dashboards.selectors import target_progress
    from tasks.models import Metric, Target

    q2 = ReportingPeriod.objects.get(year=2025, quarter=2)
    # A flow the units report (示范点 come from the register, not from reports: sites/selectors.py).
    make_report(period=q2, unit=unit_b, task=23, state=State.APPROVED, metrics={"practice_events": 2})
    make_report(period=period, unit=unit_b, task=23, state=State.APPROVED, metrics={"practice_events": 1})
    target = Target.objects.get(task__number=23, metric__code="practice_events")

    [row] = [
        r
        for r in target_progress(period.campaign, as_of=period.as_of)
        if r.target == target and r.unit == unit_b
    ]

    expected = Metric.objects.get(code="practice_events").add_up(
        [((2025, 2), Decimal(2)), ((2025, 3), Decimal(1))]
    )
    assert row.reported == expected == 3
