"""Completeness of a period: rates, on-time boundary, matrix, groups, lights, overdue list."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.dashboards import selectors as sel
from reports.models import ProgressReport
from tests.factories import MembershipFactory, UserFactory
from tests.reports.dashboards.world import build_world, local, more_units, report

State = ProgressReport.State
pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def rows_by_code(comp):
    return {row.unit.code: row for row in comp.units}


def test_reported_counts_submitted_and_approved_not_returned_or_draft(world):
    # given: 2025 Q1 (due 2025-04-10)
    q = world.period(2025, 1)
    report(q, world.dept_a, world.t1, State.APPROVED)
    report(q, world.dept_a, world.t2, State.RETURNED)
    report(q, world.county_c, world.t1, State.SUBMITTED)
    report(q, world.county_c, world.t2, State.DRAFT)
    report(q, world.county_d, world.t22, State.APPROVED, first_submitted_at=local(dt.date(2025, 4, 12)))

    # when
    comp = sel.completeness(q)

    # then
    rows = rows_by_code(comp)
    a, b, c, d = rows["dept-a"], rows["dept-b"], rows["county-c"], rows["county-d"]
    assert (a.expected, a.reported, a.approved, a.returned, a.on_time) == (2, 1, 1, 1, 1)
    assert (a.rate, a.on_time_rate) == (0.5, 0.5)
    assert (b.expected, b.reported, b.rate, b.on_time_rate) == (2, 0, 0.0, 0.0)
    assert (c.expected, c.reported, c.submitted, c.draft, c.missing) == (3, 1, 1, 1, 1)
    assert c.rate == pytest.approx(1 / 3)
    assert (d.expected, d.reported, d.on_time, d.rate, d.on_time_rate) == (1, 1, 0, 1.0, 0.0)
    overall = comp.overall
    assert (overall.expected, overall.reported, overall.approved, overall.on_time) == (8, 3, 2, 2)
    assert overall.rate == pytest.approx(3 / 8)
    assert overall.on_time_rate == pytest.approx(2 / 8)


@pytest.mark.parametrize(
    ("first_submitted", "on_time"),
    [
        (local(dt.date(2025, 4, 10), 23, 59, 59), True),  # the last second of the due date, Beijing time
        (local(dt.date(2025, 4, 11), 0, 0, 0), False),  # the first second after it
        (dt.datetime(2025, 4, 10, 16, 30, tzinfo=dt.UTC), False),  # 4月10日 in UTC but 4月11日 00:30 local
        (dt.datetime(2025, 4, 10, 15, 59, tzinfo=dt.UTC), True),  # 4月10日 23:59 local
        (local(dt.date(2025, 2, 1)), True),  # early
    ],
)
def test_on_time_means_first_submitted_on_or_before_the_due_date_local_time(world, first_submitted, on_time):
    q = world.period(2025, 1)
    assert q.due_on == dt.date(2025, 4, 10)
    report(q, world.county_d, world.t22, State.SUBMITTED, first_submitted_at=first_submitted)

    row = rows_by_code(sel.completeness(q))["county-d"]

    assert row.reported == 1
    assert row.on_time == (1 if on_time else 0)
    assert row.cells[world.t22.pk].on_time is on_time


def test_a_returned_report_resubmitted_late_counts_as_reported_and_on_time_by_its_first_submission(world):
    # given: first submitted on time, returned, resubmitted after the due date (now submitted again)
    q = world.period(2025, 1)
    r = report(q, world.county_d, world.t22, State.SUBMITTED, first_submitted_at=local(dt.date(2025, 4, 9)))
    r.submitted_at = local(dt.date(2025, 4, 20))
    r.save()

    row = rows_by_code(sel.completeness(q))["county-d"]

    assert (row.reported, row.on_time) == (1, 1)


def test_matrix_holds_each_expected_cell_with_state_and_report_and_ignores_tasks_not_carried(world):
    q = world.period(2025, 1)
    approved = report(q, world.dept_a, world.t1, State.APPROVED)
    report(q, world.dept_a, world.t22, State.SUBMITTED)  # 部门甲 does not carry task 22

    comp = sel.completeness(q)

    cells = comp.matrix[world.dept_a.pk]
    assert set(cells) == {world.t1.pk, world.t2.pk}
    assert (cells[world.t1.pk].state, cells[world.t1.pk].report_id) == ("approved", approved.pk)
    assert (cells[world.t2.pk].state, cells[world.t2.pk].report_id) == ("none", None)
    row = rows_by_code(comp)["dept-a"]
    assert row.reported == 1
    assert [cell.state if cell else None for _, cell in comp.row_cells(row)] == ["approved", "none", None]


def test_units_are_grouped_by_kind_with_subtotals(world):
    q = world.period(2025, 1)
    report(q, world.dept_b, world.t1, State.APPROVED)
    report(q, world.county_c, world.t22, State.SUBMITTED)
    report(q, world.county_d, world.t22, State.SUBMITTED)

    comp = sel.completeness(q)

    assert [(g.kind, g.label, [r.unit.code for r in g.rows]) for g in comp.groups] == [
        ("department", "市直部门", ["dept-a", "dept-b"]),
        ("county", "县市区", ["county-c", "county-d"]),
    ]
    assert (comp.groups[0].totals.expected, comp.groups[0].totals.reported) == (4, 1)
    assert (comp.groups[1].totals.expected, comp.groups[1].totals.reported) == (4, 2)


def test_kind_and_section_filters_narrow_units_and_tasks(world):
    q = world.period(2025, 1)
    report(q, world.dept_b, world.t22, State.APPROVED)
    report(q, world.county_c, world.t22, State.APPROVED)
    report(q, world.county_c, world.t1, State.APPROVED)

    by_kind = sel.completeness(q, kind="county")
    by_section = sel.completeness(q, section=world.s8)

    assert [r.unit.code for r in by_kind.units] == ["county-c", "county-d"]
    assert (by_kind.overall.expected, by_kind.overall.reported) == (4, 2)
    assert [t.number for t in by_section.tasks] == [22]
    assert {r.unit.code: (r.expected, r.reported) for r in by_section.units} == {
        "dept-b": (1, 1),
        "county-c": (1, 1),
        "county-d": (1, 0),
    }


@pytest.mark.parametrize(
    ("today", "light"),
    [
        (dt.date(2025, 4, 6), "green"),  # 4 days before the due date
        (dt.date(2025, 4, 7), "yellow"),  # 3 days before: due soon
        (dt.date(2025, 4, 10), "yellow"),  # the due date itself
        (dt.date(2025, 4, 11), "red"),  # overdue
    ],
)
def test_unit_light_turns_yellow_three_days_before_and_red_after_the_due_date(world, today, light):
    q = world.period(2025, 1)
    report(q, world.dept_a, world.t1, State.APPROVED)  # one of two reported

    row = rows_by_code(sel.completeness(q))["dept-a"]

    with time_machine.travel(dt.datetime(today.year, today.month, today.day, 12, tzinfo=dt.UTC), tick=False):
        assert sel.unit_period_light(row, q)[0] == light


def test_a_returned_report_not_resubmitted_is_red_even_before_the_due_date(world):
    q = world.period(2025, 1)
    report(q, world.county_d, world.t22, State.RETURNED)

    row = rows_by_code(sel.completeness(q))["county-d"]

    assert sel.unit_period_light(row, q, dt.date(2025, 4, 1)) == ("red", "退回未重报1项")


def test_overdue_list_has_red_then_yellow_units_with_liaisons_names_and_phones(world):
    q = world.period(2025, 1)
    for task in (world.t1, world.t2):
        report(q, world.dept_a, task, State.APPROVED)
    report(q, world.dept_b, world.t1, State.APPROVED)
    report(q, world.dept_b, world.t22, State.APPROVED)
    report(q, world.county_d, world.t22, State.RETURNED)
    liaison = UserFactory(username="c_liaison", last_name="周", first_name="晓")
    MembershipFactory(user=liaison, unit=world.county_c, phone="13912345678")

    comp = sel.completeness(q)
    before = sel.overdue_units(comp, today=dt.date(2025, 4, 8))
    after = sel.overdue_units(comp, today=dt.date(2025, 4, 11))

    assert [(o.unit.code, o.light) for o in before] == [("county-d", "red"), ("county-c", "yellow")]
    assert [(o.unit.code, o.light) for o in after] == [("county-c", "red"), ("county-d", "red")]
    county_c = next(o for o in after if o.unit.code == "county-c")
    assert [(li.name, li.phone) for li in county_c.liaisons] == [("周晓", "13912345678")]
    assert county_c.label == "逾期未报3项"


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def test_completeness_runs_in_a_fixed_number_of_queries_whatever_the_number_of_units(world):
    q = world.period(2025, 1)
    more_units(world, 3)
    small = queries(lambda: sel.completeness(q))
    small_tallies = queries(lambda: sel.completeness(q, with_cells=False))
    small_section = queries(lambda: sel.completeness(q, section=world.s8, with_cells=False))
    small_overdue = queries(lambda: sel.overdue_units(sel.completeness(q), today=dt.date(2025, 5, 1)))
    more_units(world, 40, start=3)

    large = queries(lambda: sel.completeness(q))
    large_tallies = queries(lambda: sel.completeness(q, with_cells=False))
    large_section = queries(lambda: sel.completeness(q, section=world.s8, with_cells=False))
    large_overdue = queries(lambda: sel.overdue_units(sel.completeness(q), today=dt.date(2025, 5, 1)))

    assert small == large == 6  # tasks, units, expected, the read model's counts; the cells' 2
    assert small_tallies == large_tallies == small_section == large_section == 4
    assert small_overdue == large_overdue == 7
