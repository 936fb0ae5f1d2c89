"""Target progress: sums over approved reports per scope, latest values, windows, lights at boundaries;
the 示范点 targets and the 八进 table counted from the site register."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.dashboards import selectors as sel
from reports.models import ProgressReport
from sites.models import Site
from tasks.models import Target
from tests.reports.dashboards.world import build_world, metric, more_units, report, site, target

State = ProgressReport.State
Scope = Target.Scope
pytestmark = pytest.mark.django_db
AFTER_ALL = dt.date(2026, 3, 1)


@pytest.fixture
def world():
    return build_world()


def frozen(day: dt.date):
    """Freeze the clock at noon, Beijing time, on ``day``."""
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 4, tzinfo=dt.UTC), tick=False)


def rows_for(rows, t):
    return [r for r in rows if r.target.pk == t.pk]


def test_each_unit_target_sums_approved_values_of_that_unit_and_task_only(world):
    # given: 甲县 and 乙县 each promise ≥3 宣讲 under task 22 by 2025-12-31
    t = target(world.t22, world.lectures, 3, Scope.EACH_UNIT, units=[world.county_c, world.county_d])
    report(world.period(2024, 2), world.county_c, world.t22, State.APPROVED, values={world.lectures: 2})
    report(world.period(2025, 1), world.county_c, world.t22, State.APPROVED, values={world.lectures: 1})
    report(world.period(2025, 2), world.county_c, world.t22, State.SUBMITTED, values={world.lectures: 9})
    report(world.period(2025, 3), world.county_c, world.t22, State.RETURNED, values={world.lectures: 9})
    report(world.period(2025, 1), world.county_c, world.t1, State.APPROVED, values={world.lectures: 7})
    report(world.period(2024, 3), world.county_d, world.t22, State.APPROVED, values={world.lectures: "1.5"})

    rows = rows_for(sel.target_progress(world.campaign, as_of=AFTER_ALL), t)

    assert [(r.unit.code, r.reported, r.promised, r.light) for r in rows] == [
        ("county-c", Decimal("3"), Decimal("3"), "green"),
        ("county-d", Decimal("1.5"), Decimal("3"), "red"),
    ]
    assert rows[0].window_label == "到2025年底"


def test_city_target_sums_department_and_other_units_reports_not_counties(world):
    t = target(world.t1, world.meetings, 4, Scope.CITY, label="市上")
    report(world.period(2024, 1), world.dept_a, world.t1, State.APPROVED, values={world.meetings: 2})
    report(world.period(2024, 2), world.dept_b, world.t1, State.APPROVED, values={world.meetings: 1})
    report(world.period(2024, 2), world.county_c, world.t1, State.APPROVED, values={world.meetings: 10})

    [row] = rows_for(sel.target_progress(world.campaign, as_of=AFTER_ALL), t)

    assert (row.unit, row.scope_label, row.reported, row.promised, row.light) == (
        None,
        "市上",
        Decimal("3"),
        Decimal("4"),
        "red",
    )


def test_city_district_target_adds_the_listed_county_to_the_city(world):
    t = target(world.t22, world.lectures, 5, Scope.CITY_DISTRICT, units=[world.county_c], label="市区联合")
    report(world.period(2024, 1), world.dept_b, world.t22, State.APPROVED, values={world.lectures: 2})
    report(world.period(2024, 2), world.county_c, world.t22, State.APPROVED, values={world.lectures: 3})
    report(world.period(2024, 2), world.county_d, world.t22, State.APPROVED, values={world.lectures: 4})

    [row] = rows_for(sel.target_progress(world.campaign, as_of=AFTER_ALL), t)

    assert (row.reported, row.promised, row.light) == (Decimal("5"), Decimal("5"), "green")


def test_each_responsible_per_year_target_has_a_row_per_unit_for_this_year_and_last(world):
    # given: every unit carrying task 2 (部门甲, 甲县) holds ≥2 meetings a year
    t = target(world.t2, world.meetings, 2, Scope.EACH_RESPONSIBLE, period_kind=Target.PeriodKind.PER_YEAR)
    report(world.period(2024, 4), world.dept_a, world.t2, State.APPROVED, values={world.meetings: 2})
    report(world.period(2025, 1), world.dept_a, world.t2, State.APPROVED, values={world.meetings: 1})
    report(world.period(2025, 2), world.county_c, world.t2, State.APPROVED, values={world.meetings: 3})

    rows = rows_for(
        sel.target_progress(world.campaign, as_of=dt.date(2025, 11, 1), latest_window_only=False), t
    )

    assert [(r.window_label, r.unit.code, r.reported, r.light) for r in rows] == [
        ("2024年", "dept-a", Decimal("2"), "green"),
        ("2024年", "county-c", Decimal("0"), "red"),
        ("2025年", "dept-a", Decimal("1"), "yellow"),  # 2 × 273/365 = 1.50 expected by the end of Q3
        ("2025年", "county-c", Decimal("3"), "green"),
    ]
    assert rows[2].expected == Decimal("1.50")


def test_per_semester_windows_are_half_years(world):
    t = target(
        world.t2, world.meetings, 1, Scope.EACH_RESPONSIBLE, period_kind=Target.PeriodKind.PER_SEMESTER
    )
    report(world.period(2025, 2), world.dept_a, world.t2, State.APPROVED, values={world.meetings: 1})
    report(world.period(2025, 3), world.dept_a, world.t2, State.APPROVED, values={world.meetings: 5})

    rows = rows_for(
        sel.target_progress(world.campaign, as_of=dt.date(2025, 8, 1), latest_window_only=False), t
    )

    dept_a = [(r.window_label, r.reported) for r in rows if r.unit == world.dept_a]
    assert dept_a == [("2025年春季学期（1—6月）", Decimal("1")), ("2025年秋季学期（7—12月）", Decimal("5"))]


def test_latest_metric_takes_the_last_approved_quarters_value_not_the_sum(world):
    t = target(world.t1, world.staff, 10, Scope.EACH_UNIT, units=[world.dept_a])
    report(world.period(2024, 4), world.dept_a, world.t1, State.APPROVED, values={world.staff: 8})
    report(world.period(2025, 1), world.dept_a, world.t1, State.APPROVED, values={world.staff: 6})
    report(world.period(2025, 2), world.dept_a, world.t1, State.SUBMITTED, values={world.staff: 12})

    [row] = rows_for(sel.target_progress(world.campaign, as_of=AFTER_ALL), t)

    assert row.reported == Decimal("6")


# Lights. A by-date target judged over 2024-01-01..2025-12-31 (731 days); quarters count as elapsed once
# their reports are due (the 10th day after the quarter).
@pytest.mark.parametrize(
    ("today", "reported", "light"),
    [
        (dt.date(2025, 12, 31), 3, "green"),  # met
        (
            dt.date(2025, 12, 31),
            2,
            "yellow",
        ),  # the target date itself: not yet past; 4×639/731 = 3.50 expected
        (dt.date(2026, 1, 1), 2, "red"),  # the day after the target date and short
        (dt.date(2026, 1, 1), 4, "green"),  # past the date but met
    ],
)
def test_by_date_light_turns_red_the_day_after_the_target_date(world, today, reported, light):
    t = target(world.t22, world.lectures, 4, Scope.EACH_UNIT, units=[world.county_c])
    if reported == 3:
        t.value = Decimal("3")
        t.save()
    report(
        world.period(2024, 1), world.county_c, world.t22, State.APPROVED, values={world.lectures: reported}
    )

    with frozen(today):
        [row] = rows_for(sel.target_progress(world.campaign), t)

    assert row.light == light


@pytest.mark.parametrize(
    ("today", "reported", "light", "expected"),
    [
        (dt.date(2025, 4, 10), 0, "green", "0"),  # Q1 reports still due today: no 2025 quarter elapsed
        (dt.date(2025, 4, 11), 0, "yellow", "0.49"),  # Q1 now counts: 2 × 90/365 = 0.49 expected
        (dt.date(2025, 4, 11), "0.49", "green", "0.49"),  # exactly on pace
        (dt.date(2025, 4, 11), "0.48", "yellow", "0.49"),  # a hair behind
    ],
)
def test_per_year_light_turns_yellow_when_behind_the_linear_pace(world, today, reported, light, expected):
    t = target(world.t2, world.meetings, 2, Scope.EACH_UNIT, units=[world.dept_a], period_kind="per_year")
    report(world.period(2025, 1), world.dept_a, world.t2, State.APPROVED, values={world.meetings: reported})

    with frozen(today):
        rows = rows_for(sel.target_progress(world.campaign), t)

    [row] = [r for r in rows if r.window_label == "2025年"]
    assert (row.light, row.expected) == (light, Decimal(expected))


def test_site_targets_count_named_sites_in_the_register_not_report_numbers(world):
    # given: 甲县 and 乙县 each promise ≥2 示范点 on task 22; the reports' "示范点" numbers are ignored
    t = target(world.t22, world.demo_sites, 2, Scope.EACH_UNIT, units=[world.county_c, world.county_d])
    report(world.period(2024, 2), world.county_c, world.t22, State.APPROVED, values={world.demo_sites: 9})
    report(world.period(2024, 3), world.county_d, world.t22, State.APPROVED, values={world.demo_sites: 9})
    site(world.county_c, world.t22, named_on=dt.date(2024, 6, 30))
    site(world.county_c, world.t22, named_on=dt.date(2025, 3, 1))
    site(world.county_c, world.t22, named_on=None)  # still 培育: not yet a 示范点
    site(world.county_c, world.t1, named_on=dt.date(2024, 6, 30))  # another task
    site(world.dept_b, world.t22, county=world.county_d)  # a department's site in 乙县: not 乙县's

    def counted(as_of):
        return [
            (r.unit.code, r.reported, r.light)
            for r in rows_for(sel.target_progress(world.campaign, as_of=as_of), t)
        ]

    assert counted(AFTER_ALL) == [("county-c", Decimal("2"), "green"), ("county-d", Decimal("0"), "red")]
    # as of a day: the naming of 2025-03-01 had not happened by the end of 2024
    assert counted(dt.date(2024, 12, 31))[0][:2] == ("county-c", Decimal("1"))


def test_city_and_joint_site_targets_count_department_sites_and_the_listed_county(world):
    city = target(world.t22, world.demo_sites, 1, Scope.CITY, label="市上")
    joint = target(
        world.t22, world.demo_sites, 3, Scope.CITY_DISTRICT, units=[world.county_c], label="市区联合"
    )
    site(world.dept_b, world.t22, county=world.county_c)
    site(world.county_c, world.t22)
    site(world.county_d, world.t22)

    rows = sel.target_progress(world.campaign, as_of=AFTER_ALL)

    assert [r.reported for r in rows_for(rows, city)] == [Decimal("1")]
    assert [(r.reported, r.light) for r in rows_for(rows, joint)] == [(Decimal("2"), "red")]


def test_provincial_and_city_tier_targets_count_the_whole_city_by_level_without_overlap(world):
    # the plan: "到2025年底打造7个省级、20个市级互嵌式示范点" (scope 全市, on a task that is not 八进)
    provincial = target(
        world.t1, metric("sites_provincial", "省级互嵌式示范点", "个"), 2, Scope.CITY, label="全市"
    )
    city_tier = target(world.t1, metric("sites_city", "市级互嵌式示范点", "个"), 2, Scope.CITY, label="全市")
    site(world.county_c, world.t22, level=Site.Level.PROVINCE)
    site(world.dept_a, None, level=Site.Level.NATION, county=world.county_d)
    site(world.county_d, world.t22, level=Site.Level.CITY)
    site(world.county_d, world.t22, level=Site.Level.COUNTY)
    site(world.county_c, world.t22, level=Site.Level.PROVINCE, named_on=None)  # 拟创建省级, not named

    rows = sel.target_progress(world.campaign, as_of=AFTER_ALL)

    assert [(r.reported, r.light) for r in rows_for(rows, provincial)] == [(Decimal("2"), "green")]
    assert [(r.reported, r.light) for r in rows_for(rows, city_tier)] == [(Decimal("1"), "red")]


def test_eight_into_table_shows_register_sites_against_the_plan_per_county_and_category(world):
    target(world.t22, world.demo_sites, 3, Scope.EACH_UNIT, units=[world.county_c, world.county_d])
    target(world.t22, world.demo_sites, 5, Scope.CITY_DISTRICT, units=[world.county_c], label="市区联合")
    for _ in range(2):
        site(world.dept_b, world.t22, county=world.county_d)
    for _ in range(3):
        site(world.county_c, world.t22)
    for _ in range(8):
        site(world.county_d, world.t22, named_on=None)  # 培育 only
    report(world.period(2024, 3), world.county_d, world.t22, State.APPROVED, values={world.demo_sites: 8})

    table = sel.eight_into_table(world.campaign, as_of=AFTER_ALL)

    assert [t.number for t in table.categories] == [22]
    assert [row.label for row in table.rows] == ["市直单位（市上）", "甲县", "乙县"]
    city, c, d = (row.cells[0] for row in table.rows)
    assert (city.reported, city.planned, city.note, city.light) == (
        Decimal("2"),
        Decimal("5"),
        "市区联合",
        "green",
    )
    assert (c.reported, c.planned, c.light) == (Decimal("3"), Decimal("3"), "green")
    assert (d.reported, d.planned, d.light) == (Decimal("0"), Decimal("3"), "red")
    total = table.total.cells[0]
    assert (total.reported, total.planned) == (Decimal("5"), Decimal("11"))


def test_each_eight_into_cell_equals_the_target_row_next_to_it(world):
    target(world.t22, world.demo_sites, 2, Scope.EACH_UNIT, units=[world.county_c, world.county_d])
    site(world.county_c, world.t22)
    site(world.county_d, world.t22, named_on=dt.date(2025, 5, 1))

    for as_of in (dt.date(2024, 12, 31), AFTER_ALL):
        rows = sel.target_progress(world.campaign, as_of=as_of)
        table = sel.eight_into_table(world.campaign, as_of=as_of, target_rows=rows)
        by_unit = {r.unit.pk: r.reported for r in rows if r.unit}
        for row in table.rows[1:]:
            assert row.cells[0].reported == by_unit[row.unit.pk]


def test_target_progress_and_eight_into_table_run_in_a_fixed_number_of_queries(world):
    target(world.t22, world.demo_sites, 3, Scope.EACH_UNIT, units=[world.county_c, world.county_d])
    target(world.t22, world.demo_sites, 3, Scope.CITY, label="市上")
    target(world.t1, world.meetings, 2, Scope.EACH_RESPONSIBLE, period_kind="per_year")
    target(world.t1, world.meetings, 9, Scope.CITY)
    more_units(world, 3)

    def count(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx)

    small = count(lambda: sel.target_progress(world.campaign, as_of=AFTER_ALL))
    small_eight = count(lambda: sel.eight_into_table(world.campaign, as_of=AFTER_ALL))
    rows = sel.target_progress(world.campaign, as_of=AFTER_ALL)
    reused = count(lambda: sel.eight_into_table(world.campaign, as_of=AFTER_ALL, target_rows=rows))
    more_units(world, 40, start=3)
    large = count(lambda: sel.target_progress(world.campaign, as_of=AFTER_ALL))
    large_eight = count(lambda: sel.eight_into_table(world.campaign, as_of=AFTER_ALL))

    # periods, targets, their units, responsibilities, the read model's sums; units' kinds (for the 市上
    # target on reports); the register
    assert small == large == 5 + 1 + 1
    assert small_eight == large_eight == 2 + 7  # categories, county-level units; target_progress
    assert reused == 2  # the register is read once per page: the table reuses target_progress's tally


def test_eight_into_table_counts_sites_even_where_the_plan_sets_no_number(world):
    # given: no 示范点 target at all, so the table reads the register itself
    for _ in range(4):
        site(world.county_d, world.t22)
    site(world.dept_a, world.t22, county=world.county_c)

    table = sel.eight_into_table(world.campaign, as_of=AFTER_ALL)

    city, c, d = (row.cells[0] for row in table.rows)
    assert (city.reported, city.planned) == (Decimal("1"), None)
    assert (c.reported, d.reported, d.planned, d.light) == (Decimal("0"), Decimal("4"), None, None)
    assert table.total.cells[0].reported == Decimal("5")
