"""The annual summary reads like the city's own (seeds 000/003): third person, official numbers, problems
grouped by theme with unit counts, and every figure equal to the dashboards' total for the same quarters."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from docx import Document

from campaign.models import ReportingPeriod
from reports.compilations.render.annual import THEMES, annual_summary, theme_of
from reports.compilations.render.data import scope_for
from reports.dashboards import selectors as dashboard_selectors
from reports.models import ProgressReport
from tests.factories import make_report
from tests.reports.compilations.test_outputs import compile_now
from units.models import Unit

pytestmark = pytest.mark.django_db
State = ProgressReport.State
# A unit of measure right after a number: 份, 块, 场次, 人次, 万元, 个 … (what the document writes).
NUMBER_BEFORE_UNIT = re.compile(r"(\d+)(?:\.\d+)?(?=[份块条场次人个课时万元项所])")


@pytest.fixture
def year_2024(plan, unit_a, unit_b):
    """A year of reports as units write them: first person, 本季度, large figures, overlapping problems."""
    periods = {p.quarter: p for p in ReportingPeriod.objects.filter(year=2024)}
    ReportingPeriod.objects.filter(year=2024).update(state=ReportingPeriod.State.CLOSED)
    huating = Unit.objects.get(code="huating")
    make_report(
        period=periods[1],
        unit=unit_a,
        task=3,
        state=State.APPROVED,
        progress="本季度，我单位召开民族团结进步宣传工作推进会，推动“民族团结“一家亲””活动。",
        problems="创建工作经费保障不足。部分宣传内容形式单一，群众参与度有待提高。",
        next_steps="下一步，将加大宣传力度，扩大宣传覆盖面。",
        metrics={"materials": 500_000, "boards": 150, "lectures": 2000},
    )
    make_report(
        period=periods[3],
        unit=unit_a,
        task=3,
        state=State.APPROVED,
        progress="本季度，我单位编印“民族团结“一家亲””宣传读本，在市区主干道设置公益广告牌。",
        problems="创建工作经费保障不足。",
        metrics={"materials": 277_631, "boards": 133, "lectures": 1215, "participants": 120_500},
    )
    make_report(
        period=periods[2],
        unit=unit_b,
        task=26,
        state=State.APPROVED,
        progress="崆峒区在全区中小学开设铸牢中华民族共同体意识专题课程。",
        problems="专项资金紧张，示范学校建设投入有限。专职教师力量不足。",
        next_steps="积极争取专项资金，保障示范学校建设。",
        metrics={"materials": 800, "participants": 1600},
    )
    make_report(
        period=periods[4],
        unit=huating,
        task=1,
        state=State.SUBMITTED,
        progress="本季度我市召开专题会议。",
        problems="基层经费不足，保障不足。",
        metrics={"materials": 999_999},  # submitted, not approved: not in the figures
    )
    make_report(period=periods[4], unit=unit_b, task=1, state=State.RETURNED, problems="退回的报告不算。")
    return periods


def _summary(office_user, year=2024):
    from reports.compilations.models import Compilation

    compilation = Compilation.objects.create(
        kind="annual", format="docx", year=year, requested_by=office_user
    )
    return annual_summary(scope_for(compilation, today=dt.date(2025, 1, 20)))


def test_each_year_figure_equals_the_dashboards_total_for_the_years_quarters(office_user, year_2024):
    summary = _summary(office_user)
    trends = dashboard_selectors.trends(year_2024[1].campaign, as_of=dt.date(2025, 1, 20))
    year_points = [p for p in trends.points if p.period.year == 2024]
    assert len(year_points) == 4
    for metric in trends.metrics:
        dashboard_total = sum((p.metrics.get(metric.code, Decimal(0)) for p in year_points), Decimal(0))
        assert summary.totals.get(metric.code, Decimal(0)) == dashboard_total, metric.code
    assert summary.totals["materials"] == Decimal(778_431)  # 500,000 + 277,631 + 800; the submitted one not
    assert "全年累计印发宣传资料77万余份、制作展板280余块" in summary.intro
    assert "开展宣讲3200余场次、覆盖12万余人次" in summary.intro


def test_no_quarterly_voice_and_no_raw_integer_of_ten_thousand_before_a_unit(office_user, year_2024):
    compilation = compile_now(office_user, kind="annual", format="docx", year=2024)
    text = "\n".join(p.text for p in Document(compilation.file.path).paragraphs)

    assert "本季度" not in text and "我单位" not in text and "我市" not in text
    assert "下一步，将" not in text
    numbers = [int(n) for n in NUMBER_BEFORE_UNIT.findall(text)]
    assert numbers and all(n < 10_000 for n in numbers), [n for n in numbers if n >= 10_000]
    # The unit is named where its report said 我单位, and nested quotes alternate.
    # Q3 has the larger figures, so it is the unit's highlight, with its own figures in official numbers.
    assert (
        "1.2024年第三季度，市委宣传部编印“民族团结‘一家亲’”宣传读本，在市区主干道设置公益广告牌，"
        "印发宣传资料27万余份、制作展板130余块、开展宣讲1200余场次、覆盖12万余人次。"
    ) in text


def test_problems_are_grouped_by_theme_with_the_number_of_units(office_user, year_2024):
    summary = _summary(office_user)
    by_theme = {t.theme.key: t for t in summary.problems}

    funding = by_theme["funding"]
    # 市委宣传部 (twice, counted once), 崆峒区 and 华亭市 (submitted) raised money; the returned report did not.
    assert funding.units == ["市委宣传部", "崆峒区", "华亭市"] and funding.unit_count == 3
    assert funding.paragraph.startswith("市委宣传部、崆峒区、华亭市3个单位反映了此类问题")
    assert funding.paragraph.count("创建工作经费保障不足") == 1  # de-duplicated
    assert by_theme["staff"].units == ["崆峒区"]
    assert by_theme["publicity"].units == ["市委宣传部"]
    assert summary.problems[0].theme.key == "funding"  # the most often raised first
    assert "退回的报告不算" not in summary.text()


def test_theme_table_sends_sentences_to_one_theme_each():
    assert theme_of("创建工作经费保障不足").key == "funding"
    assert theme_of("专职教师力量不足").key == "staff"
    assert theme_of("宣传教育覆盖面不够广").key == "publicity"
    assert theme_of("部门之间协调配合还需加强").key == "mechanism"
    assert theme_of("天气原因").key == "other"
    assert len({t.key for t in THEMES}) == len(THEMES)


def test_word_numbering_runs_one_paren_one_dot_and_names_the_issuer(office_user, year_2024):
    campaign = year_2024[1].campaign
    campaign.issuer = "平凉市民族团结进步创建办"
    campaign.save()
    compilation = compile_now(office_user, kind="annual", format="docx", year=2024)
    paragraphs = Document(compilation.file.path).paragraphs

    level1 = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert level1 == ["一、工作开展情况", "二、存在的困难和问题", "三、下一步工作计划"]
    level2 = [p.text for p in paragraphs if p.style.name == "Heading 2"]
    assert all(re.match(r"^（[一二三四五六七八九十]+）", t) for t in level2), level2
    assert "（一）经费保障不够充足" in level2
    body = [p.text for p in paragraphs if p.style.name == "Normal"]
    assert any(t.startswith("1.") and "市委宣传部" in t for t in body)
    assert not any(re.match(r"^[（(]\d", t) for t in body)  # no (1) straight under 二、
    assert any(t.startswith("1.") and "任务" in t for t in body)  # targets short: 三、(一) 1.
    texts = [p.text for p in paragraphs if p.text]
    assert texts[-3:-1] == ["平凉市民族团结进步创建办", texts[-2]] and texts[-3] == "平凉市民族团结进步创建办"
    assert texts[-1].startswith("平凉市民族团结进步创建办\t") and texts[-1].endswith("印发")  # the 版记


def test_annual_pdf_is_the_new_summary_as_a_gongwen_and_says_what_the_word_file_says(office_user, year_2024):
    """The PDF lays out ``annual_summary`` (not the old per-unit quarterly text) in 公文 form: mark block and
    title on the first page, no cover or contents, every paragraph of the Word file in the same order, the
    signature and the 版记 on the last page."""
    import subprocess

    from pypdf import PdfReader

    from tests.reports.compilations.test_outputs import flat

    campaign = year_2024[1].campaign
    campaign.issuer, campaign.printed_by = "平凉市民族团结进步创建办", "平凉市创建办"
    campaign.copy_to = "市委办公室，市政府办公室"
    campaign.save()
    pdf = compile_now(office_user, kind="annual", format="pdf", year=2024)
    word = compile_now(office_user, kind="annual", format="docx", year=2024)

    pages = [flat(page.extract_text()) for page in PdfReader(pdf.file.path).pages]
    text = flat(subprocess.run(["pdftotext", pdf.file.path, "-"], capture_output=True, text=True).stdout)
    text = re.sub(r"—\d+—", "", text)  # page numbers, between the lines of a paragraph across pages
    assert pages[0].startswith(
        "平凉市民族团结进步创建办平凉市2024年创建全国民族团结进步示范市工作总结2024年，"
    )
    assert "目录" not in text and "本季度" not in text and "我单位" not in text
    assert "全年累计印发宣传资料77万余份、制作展板280余块" in text
    assert "（一）经费保障不够充足市委宣传部、崆峒区、华亭市3个单位反映了此类问题" in text
    # Every paragraph of the Word file, in order: the two formats say the same things.
    position = 0
    for paragraph in Document(word.file.path).paragraphs:
        if paragraph.text.strip():
            found = text.find(flat(paragraph.text), position)
            assert found >= 0, paragraph.text
            position = found + len(flat(paragraph.text))
    last = pages[-1]
    assert "平凉市民族团结进步创建办" in last and "抄送：市委办公室，市政府办公室。" in last
    assert last.index("平凉市民族团结进步创建办") < last.index("抄送") < last.index("平凉市创建办")
