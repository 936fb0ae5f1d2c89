"""One truth: for the same scope, every surface gives the same figures.

A closed quarter (2025 Q3) and a year (2025) are read through the dashboard pages' contexts, the dashboard
API, the quarterly PDF's text, the Excel workbook's sheets and the Word documents; each figure must be equal
everywhere: per-unit expected / reported / on time, the overall rates, each target's reported value and
light, the count of overdue targets, the 八进 counts, each report's light. A report approved for the next
quarter (2025 Q4) must appear in none of the Q3 outputs.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum
from docx import Document
from openpyxl import load_workbook

from campaign.lights import RED
from campaign.models import ReportingPeriod
from reports import figures
from reports.compilations.render.annual import annual_summary
from reports.compilations.render.data import scope_for
from reports.models import MetricValue, ProgressReport
from sites.models import Site
from sites.selectors import site_counts, sites_as_of
from tasks.models import Target, Task
from tests.reports.compilations.test_outputs import compile_now
from tests.reports.dashboards.world import make_report, site
from units.models import Unit

pytestmark = pytest.mark.django_db
State = ProgressReport.State
Status = ProgressReport.ProgressStatus


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        yield


@pytest.fixture
def scope(plan, unit_a, unit_b):
    """2025 Q3 closed with a mix a real office sees; 2025 Q4 has a later report that Q3 must not show."""
    ReportingPeriod.objects.filter(year=2025).update(state=ReportingPeriod.State.CLOSED)
    q2, q3, q4 = (ReportingPeriod.objects.get(year=2025, quarter=q) for q in (2, 3, 4))
    huating = Unit.objects.get(code="huating")
    make_report(period=q3, unit=unit_a, task=3, state=State.APPROVED, metrics={"materials": 1200})
    make_report(
        period=q3,
        unit=unit_a,
        task=4,
        state=State.SUBMITTED,
        submitted_on=q3.due_on + dt.timedelta(days=2),  # late
        progress_status=Status.BEHIND,  # submitted but behind: still green (reported)
    )
    make_report(period=q3, unit=unit_a, task=5, state=State.RETURNED)
    make_report(period=q3, unit=unit_a, task=6, state=State.DRAFT)
    # 示范点 come from the register; the reports' typed "示范点" numbers (9 each) count for nothing
    make_report(period=q3, unit=unit_b, task=22, state=State.APPROVED, metrics={"demo_sites": 9})
    make_report(period=q3, unit=unit_b, task=1, state=State.APPROVED)
    make_report(period=q3, unit=huating, task=22, state=State.APPROVED, metrics={"demo_sites": 9})
    make_report(period=q2, unit=huating, task=1, state=State.APPROVED)
    task22 = Task.objects.get(campaign=plan, number=22)
    site(unit_b, task22, named_on=dt.date(2025, 8, 1))
    site(huating, task22, named_on=dt.date(2025, 3, 1), level=Site.Level.PROVINCE)
    site(huating, task22, named_on=dt.date(2025, 9, 30), level=Site.Level.CITY)
    site(unit_b, task22, named_on=None)  # 培育 only
    # After the scope: would turn 崆峒区's task-22 target green (1 + 5 ≥ 3) if Q3 outputs counted them.
    for _ in range(5):
        site(unit_b, task22, named_on=dt.date(2025, 11, 1))
    make_report(period=q4, unit=unit_b, task=22, state=State.APPROVED, metrics={"demo_sites": 5})
    return q3


def pdf_text(path: str) -> str:
    out = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


def units_from_context(comp) -> dict[str, tuple[int, int, int]]:
    return {row.unit.name: (row.expected, row.reported, row.on_time) for row in comp.units}


def test_every_surface_gives_the_same_figures_for_a_closed_quarter(scope, as_office, office_user):
    period = scope

    # --- the dashboard page and the API
    page = as_office.get(f"/dashboard/?period={period.pk}").context
    comp = page["comp"]
    api = as_office.get(f"/api/v1/dashboard/completeness/?period={period.pk}").json()
    by_unit = units_from_context(comp)
    assert by_unit == {u["unit_name"]: (u["expected"], u["reported"], u["on_time"]) for u in api["units"]}
    overall = (comp.overall.expected, comp.overall.reported, comp.overall.on_time)
    assert overall == (api["overall"]["expected"], api["overall"]["reported"], api["overall"]["on_time"])
    assert by_unit["市委宣传部"][1:] == (2, 1)  # approved on time + submitted late; returned and draft not
    assert by_unit["崆峒区"][1:] == (2, 2)

    # --- the overdue bulletin (通报) page counts the same
    bulletin = as_office.get(f"/notifications/bulletin/?period={period.pk}").context["bulletin"]
    assert (bulletin.expected_total, bulletin.reported_total) == overall[:2]
    assert {g.unit.name: (g.expected, g.reported) for g in bulletin.gaps} == {
        name: counts[:2] for name, counts in by_unit.items()
    }

    # --- the quarterly PDF, Excel and Word
    pdf = pdf_text(compile_now(office_user, kind="quarterly", format="pdf", period=period).file.path)
    xlsx = load_workbook(compile_now(office_user, kind="quarterly", format="xlsx", period=period).file.path)
    docx = "\n".join(
        p.text
        for p in Document(
            compile_now(office_user, kind="quarterly", format="docx", period=period).file.path
        ).paragraphs
    )
    rate = f"{comp.overall.reported * 100 / comp.overall.expected:.1f}%"
    sentence = f"全市各责任单位应报送进展报告{overall[0]}份，已报送{overall[1]}份，报送率{rate}"
    on_time = f"按时报送{overall[2]}份，按时报送率{overall[2] * 100 / overall[0]:.1f}%"
    assert sentence in pdf and on_time in pdf
    assert sentence in docx and on_time in docx

    sheet = xlsx["单位报送情况"]
    header = [c.value for c in sheet[1]]
    name, expected, reported, on_time = (header.index(h) for h in ("单位", "应报送", "已报送", "按时报送"))
    excel_units = {
        row[name]: (row[expected], row[reported], row[on_time])
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[name]
    }
    assert excel_units == by_unit

    # --- targets: page, API and Excel judged as of the quarter's end, with the same lights
    targets_page = as_office.get(f"/dashboard/targets/?period={period.pk}").context
    page_rows = {
        (g["group"].target.pk, r.unit_name): r for g in targets_page["groups"] for r in g["group"].rows
    }
    api_rows = as_office.get(f"/api/v1/dashboard/targets/?period={period.pk}&page_size=1000").json()
    assert api_rows["as_of"] == "2025-09-30"
    api_by_key = {(r["target"], r["unit_name"] or r["scope_label"]): r for r in api_rows["targets"]}
    assert set(api_by_key) == set(page_rows)
    for key, row in page_rows.items():
        assert Decimal(api_by_key[key]["reported"]) == row.reported, key
        assert api_by_key[key]["light"] == row.light, key

    sheet = xlsx["指标完成"]
    header = [c.value for c in sheet[1]]
    cols = {h: header.index(h) for h in ("任务编号", "指标", "范围/单位", "已完成", "状态")}
    excel_targets = {
        (row[cols["任务编号"]], row[cols["指标"]], row[cols["范围/单位"]]): (
            row[cols["已完成"]],
            row[cols["状态"]],
        )
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if row[0] is not None
    }
    page_targets = {
        (r.target.task.number, r.target.metric.name, r.unit_name): (float(r.reported), r.light_label)
        for r in page_rows.values()
    }
    assert {k: (float(v[0] or 0), v[1]) for k, v in excel_targets.items()} == page_targets

    # 崆峒区's task-22 sites named by the end of Q3: 1 (not 6, nor the reports' 9), behind the pace: yellow
    kongtong_22 = page_targets[(22, "示范点", "崆峒区")]
    assert kongtong_22 == (1.0, "进度滞后")

    # overdue targets: one count, whichever page says it
    red_rows = sum(1 for r in page_rows.values() if r.light == RED)
    assert targets_page["totals"][RED] == red_rows
    assert sum(1 for r in api_rows["targets"] if r["light"] == RED) == red_rows

    # 八进: the table on the page counts the sites named by the quarter's end only
    eight = targets_page["eight"]
    column = [t.number for t in eight.categories].index(22)
    by_row = {row.label: row.cells[column].reported for row in eight.rows}
    assert (by_row["崆峒区"], by_row["华亭市"], eight.total.cells[column].reported) == (1, 2, 3)

    # --- a report's light: the liaison's own page and the PDF agree (submitted but behind → green)
    # (the units' entries are in the appendix of the quarterly summary, said in words)
    appendix = pdf_text(
        compile_now(office_user, kind="quarterly", format="pdf", period=period, with_appendix=True).file.path
    )
    assert "市委宣传部（牵头，已报送，推进情况：滞后）" in appendix
    assert "退回未重报" in appendix

    # --- nothing after the scope: the Q3 PDF's trend chart stops at Q3
    chart = pdf[pdf.index("各季度报送率与按时报送率") : pdf.index("图2各季度报送率趋势")]
    assert "2023年第三季度" in chart and chart.endswith("2025年第三季度")
    assert "2025年第四季度" not in chart and "2026年" not in chart


def test_live_pages_agree_on_the_number_of_overdue_targets(scope, as_office):
    targets_page = as_office.get("/dashboard/targets/").context
    leadership = as_office.get("/dashboard/leadership/").context
    api = as_office.get("/api/v1/dashboard/targets/?page_size=1000").json()

    red = targets_page["totals"][RED]
    assert leadership["risk_counts"]["red"] == red
    assert sum(1 for r in api["targets"] if r["light"] == RED) == red


def test_a_years_figures_agree_between_the_dashboards_and_the_annual_summary(scope, as_office, office_user):
    periods = ReportingPeriod.objects.filter(year=2025).order_by("quarter")
    expected = reported = 0
    for p in periods:
        overall = as_office.get(f"/api/v1/dashboard/completeness/?period={p.pk}").json()["overall"]
        expected += overall["expected"]
        reported += overall["reported"]

    annual = compile_now(office_user, kind="annual", format="docx", year=2025)
    text = "\n".join(p.text for p in Document(annual.file.path).paragraphs)

    assert f"责任单位报送季度进展报告{reported}份，报送率{reported * 100 / expected:.1f}%" in text
    assert reported == 7
    # 示范点: the register's named sites at the year's end (1 + 2 + 5), not the reports' 9 + 9 + 5
    named = sites_as_of(dt.date(2025, 12, 31), status=Site.Status.NAMED).count()
    assert named == 8
    assert f"打造示范点{named}个" in text and "打造示范点23个" not in text
    totals = annual_summary(scope_for(annual)).totals
    assert (totals["demo_sites"], totals["sites_provincial"], totals["sites_city"]) == (8, 1, 1)


SITE_CODES = ("demo_sites", "sites_provincial", "sites_city")


def _register_value(target: Target, unit_name: str | None, as_of: dt.date) -> Decimal:
    """A site target's actual value computed straight from the register, as the selector's docstring says."""
    named = sites_as_of(as_of, status=Site.Status.NAMED)
    tiers = {"sites_provincial": ["province", "nation"], "sites_city": ["city"]}
    if target.metric.code in tiers:
        return Decimal(named.filter(level_on__in=tiers[target.metric.code]).count())
    named = named.filter(task=target.task)
    if unit_name:
        return Decimal(named.filter(owner__name=unit_name).count())
    city = named.exclude(owner__kind__in=["county", "park"]).count()
    listed = named.filter(owner__in=target.units.all()).count() if target.scope == "city_district" else 0
    return Decimal(city + listed)


def test_eight_into_and_site_targets_equal_the_register_on_the_page_the_api_and_the_pdf(
    scope, as_office, office_user
):
    period = scope
    as_of = period.ends_on
    # a department's site (市上) and a 省级 one, so every kind of scope has something to count
    site(
        Unit.objects.get(code="tongzhanbu"),
        Task.objects.get(number=23),
        county=Unit.objects.get(code="kongtong"),
    )
    counts = site_counts(as_of, by=("unit", "task"), status=Site.Status.NAMED)

    targets_page = as_office.get(f"/dashboard/targets/?period={period.pk}").context
    eight = targets_page["eight"]
    for row in eight.rows:
        for task, cell in zip(eight.categories, row.cells, strict=True):
            if row.unit is not None:
                expected = counts.get((row.unit.pk, task.pk), 0)
            else:
                expected = sum(
                    n
                    for (unit_id, task_id), n in counts.items()
                    if task_id == task.pk and Unit.objects.get(pk=unit_id).kind not in ("county", "park")
                )
            assert cell.reported == expected, (row.label, task.number)
    assert eight.total.reported == sum(
        n for (_u, t), n in counts.items() if t in {c.pk for c in eight.categories}
    )

    site_rows = [
        r for g in targets_page["groups"] for r in g["group"].rows if r.target.metric.code in SITE_CODES
    ]
    assert len(site_rows) > 20
    for r in site_rows:
        assert r.reported == _register_value(r.target, r.unit.name if r.unit else None, as_of), r

    api = as_office.get(f"/api/v1/dashboard/targets/?period={period.pk}&page_size=1000").json()["targets"]
    api_by_key = {(r["target"], r["unit_name"] or r["scope_label"]): r for r in api}
    for r in site_rows:
        assert Decimal(api_by_key[(r.target.pk, r.unit_name)]["reported"]) == r.reported

    # the quarterly PDF: its chart of targets shows each 示范点 target's completion from the same counts, and
    # its 总体情况 quotes no report-typed 示范点 figure
    pdf = pdf_text(compile_now(office_user, kind="quarterly", format="pdf", period=period).file.path)
    groups = [g["group"] for g in targets_page["groups"] if g["group"].target.metric.code in SITE_CODES]
    for g in groups:
        t = g.target
        promised = sum(r.promised for r in g.rows)
        done = sum(
            min(_register_value(t, r.unit.name if r.unit else None, as_of), r.promised) for r in g.rows
        )
        label = f"任务{t.task.number}{t.scope_label}{t.metric.name}{t.get_comparison_display()}"
        label += f"{t.value_display}{t.metric.unit_of_measure}"
        if len(label) <= 23:  # the chart cuts longer labels
            assert f"{label}{done * 100 / promised:.0f}%" in pdf, label
    assert "任务14全市省级互嵌式示范点不少于7个14%" in pdf  # 1 named 省级 of 7
    assert "打造示范点18个" not in pdf  # the reports' 9 + 9


def test_the_read_model_the_dashboards_and_the_api_agree(scope, as_office):
    """The figures every surface reads come from one read model (``reports.figures``): it equals a rebuild
    from the reports, and the page, the API and the trends give exactly its counts and approved totals."""
    period = scope
    assert figures.differences() == []

    stored = {
        unit_id: dict(zip(figures.COUNT_FIELDS, counts, strict=True))
        for (period_id, unit_id), counts in figures.snapshot()["counts"].items()
        if period_id == period.pk
    }
    api = as_office.get(f"/api/v1/dashboard/completeness/?period={period.pk}").json()
    assert api["count"] == len(api["units"])  # one page holds the city's 56 units
    for row in api["units"]:
        assert {name: row[name] for name in figures.COUNT_FIELDS} == stored.get(
            row["unit"], dict.fromkeys(figures.COUNT_FIELDS, 0)
        ), row["unit_name"]
    assert set(stored) <= {row["unit"] for row in api["units"]}
    page = as_office.get(f"/dashboard/?period={period.pk}").context["comp"]
    assert {r.unit.pk: (r.reported, r.on_time) for r in page.units} == {
        u["unit"]: (u["reported"], u["on_time"]) for u in api["units"]
    }

    # the quarter's point on the trends page: the same counts, and the approved values of the reports
    trends = as_office.get(f"/dashboard/trends/?period={period.pk}").context["data"]
    point = next(p for p in trends.points if p.period == period)
    assert (point.tally.expected, point.tally.reported, point.tally.on_time) == (
        api["overall"]["expected"],
        api["overall"]["reported"],
        api["overall"]["on_time"],
    )
    approved = dict(
        MetricValue.objects.filter(report__period=period, report__state=State.APPROVED)
        .exclude(metric__code__in=SITE_CODES)
        .values_list("metric__code")
        .annotate(total=Sum("value"))
    )
    assert approved == {"materials": Decimal("1200")}
    assert {code: total for code, total in point.metrics.items() if total} == approved
