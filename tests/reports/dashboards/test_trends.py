"""Trends quarter by quarter, one unit's record, and the SVG charts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.dashboards import charts
from reports.dashboards import selectors as sel
from reports.models import ProgressReport
from tasks.models import Target
from tests.reports.dashboards.world import build_world, local, more_units, report, target

State = ProgressReport.State
pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world():
    return build_world()


def test_trends_give_reporting_and_on_time_rates_and_approved_metric_totals_per_quarter(world):
    q1, q2 = world.period(2025, 1), world.period(2025, 2)
    report(q1, world.dept_a, world.t1, State.APPROVED, values={world.lectures: 2})
    report(q1, world.dept_a, world.t2, State.SUBMITTED, first_submitted_at=local(dt.date(2025, 4, 11)))
    report(q1, world.county_c, world.t22, State.RETURNED, values={world.lectures: 5})
    report(q2, world.county_d, world.t22, State.APPROVED, values={world.lectures: 1})
    report(q2, world.county_c, world.t22, State.SUBMITTED, values={world.lectures: 4})

    data = sel.trends(world.campaign, as_of=dt.date(2025, 7, 15))

    assert [p.period.label for p in data.points][-3:] == [
        "2025年第一季度",
        "2025年第二季度",
        "2025年第三季度",
    ]
    by_label = {p.period.label: p for p in data.points}
    first, second = by_label["2025年第一季度"], by_label["2025年第二季度"]
    assert (first.tally.expected, first.tally.reported, first.tally.on_time, first.tally.returned) == (
        8,
        2,
        1,
        1,
    )
    assert (first.rate, first.on_time_rate) == (2 / 8, 1 / 8)
    assert (second.tally.reported, second.tally.on_time) == (2, 2)
    assert first.metrics["lectures"] == Decimal("2")  # the returned report's 5 is not approved
    assert second.metrics["lectures"] == Decimal("1")
    assert by_label["2025年第三季度"].tally.reported == 0
    assert "2025年第四季度" not in by_label  # not started on 2025-07-15
    # 示范点 are counted in the register, never as the quarters' typed numbers
    assert "demo_sites" not in {m.code for m in data.metrics}


def test_trends_filtered_by_kind(world):
    q1 = world.period(2025, 1)
    report(q1, world.dept_a, world.t1, State.APPROVED, values={world.lectures: 2})
    report(q1, world.county_c, world.t1, State.APPROVED, values={world.lectures: 3})

    data = sel.trends(world.campaign, kind="county", as_of=dt.date(2025, 5, 1))

    point = next(p for p in data.points if p.period == q1)
    assert (point.tally.expected, point.tally.reported) == (4, 1)
    assert point.metrics["lectures"] == Decimal("3")


def test_unit_record_lists_periods_returned_reports_and_the_units_targets(world):
    q4, q1 = world.period(2024, 4), world.period(2025, 1)
    report(q4, world.county_c, world.t1, State.APPROVED)
    returned = report(q1, world.county_c, world.t2, State.RETURNED)
    returned.return_reason = "请补充佐证材料。"
    returned.save()
    t = target(world.t22, world.demo_sites, 3, Target.Scope.EACH_UNIT, units=[world.county_c, world.county_d])

    record = sel.unit_record(world.county_c, world.campaign, today=dt.date(2025, 5, 1))

    assert [t.number for t in record.tasks] == [1, 2, 22]
    assert [p.period.label for p in record.periods][:2] == ["2025年第二季度", "2025年第一季度"]
    by_period = {p.period.pk: p for p in record.periods}
    assert (by_period[q4.pk].tally.reported, by_period[q4.pk].tally.expected) == (1, 3)
    assert [c.state for c in by_period[q1.pk].cells] == ["none", "returned", "none"]
    assert by_period[q1.pk].light == "red"
    assert [(r.report_id, r.reason) for r in record.returned] == [(returned.pk, "请补充佐证材料。")]
    assert [(r.target.pk, r.unit) for r in record.targets] == [(t.pk, world.county_c)]


def test_trends_and_unit_record_run_in_a_fixed_number_of_queries(world):
    more_units(world, 3)

    def count(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx)

    small = (
        count(lambda: sel.trends(world.campaign)),
        count(lambda: sel.unit_record(world.dept_a, world.campaign)),
    )
    more_units(world, 40, start=3)
    large = (
        count(lambda: sel.trends(world.campaign)),
        count(lambda: sel.unit_record(world.dept_a, world.campaign)),
    )

    assert small == large


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, as WeasyPrint needs
    assert root.tag == f"{SVG}svg"
    assert "Noto Sans CJK SC" in root.get("font-family")
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    return root


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def test_charts_are_standalone_svg_with_chinese_labels_and_shapes_as_well_as_colours(world):
    q1 = world.period(2025, 1)
    report(q1, world.dept_a, world.t1, State.APPROVED, values={world.lectures: 2})
    report(q1, world.county_c, world.t22, State.RETURNED)
    target(world.t22, world.demo_sites, 3, Target.Scope.EACH_UNIT, units=[world.county_c], label="甲县")

    trend = parse(charts.reporting_rate_trend_svg(world.campaign))
    completeness = parse(charts.period_completeness_svg(q1))
    progress = parse(charts.target_progress_svg(world.campaign, as_of=dt.date(2026, 1, 5)))
    metric = parse(charts.metric_trend_svg(world.campaign, "lectures"))

    assert {"报送率", "按时报送率", "2025年", "第一季度"} <= set(texts(trend))
    # the two series differ by marker shape and line style, not only colour
    assert trend.findall(f".//{SVG}circle") and trend.findall(f".//{SVG}rect[@width='10.0']")
    assert any(el.get("stroke-dasharray") for el in trend.iter(f"{SVG}polyline"))
    assert {"市直部门", "县市区", "全部单位", "↩ 已退回", "✓ 已通过"} <= set(texts(completeness))
    assert any(t.startswith("✓1") for t in texts(completeness))
    labels = texts(progress)
    assert any(t.startswith("任务22 甲县 示范点") for t in labels)
    assert "逾期" in labels and any("■1" in t for t in labels)  # the red light is a square and a label
    assert progress.findall(f".//{SVG}rect[@fill='#D55E00']")
    assert "宣讲/讲座（场次）" in texts(metric)


def test_charts_say_so_when_there_is_nothing_to_draw(world):
    assert "暂无量化目标" in charts.target_progress_svg(world.campaign, as_of=dt.date(2025, 1, 1))
    empty = sel.Trends(points=[], metrics=[])
    assert "暂无数据" in charts.reporting_rate_trend_svg(world.campaign, data=empty)
