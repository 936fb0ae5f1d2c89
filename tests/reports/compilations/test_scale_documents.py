"""Compiled documents built to scale (issue 15): the ledger on xlsxwriter in constant memory with its metric
values in the one main query, one rule for user text in both workbook writers, the PDF's contents as bookmarks
of its one layout pass, one dense paragraph per report in the appendix, and a province-scale appendix that
summarises units instead of listing every unit × task. Every output is read back (pypdf, pdftotext, openpyxl,
python-docx)."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx import Document
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from reports.compilations.management.commands import benchmark_compilations as bench
from reports.compilations.models import Compilation
from reports.compilations.render import data, pdf, xlsx
from reports.dashboards import selectors as dashboard_selectors
from reports.models import ProgressReport
from tasks.models import Responsibility
from tests.reports.compilations.test_outputs import (  # noqa: F401
    PROGRESS_A,
    PROGRESS_B,
    compile_now,
    flat,
    needs_poppler,
    pdf_text,
    year_2024,
)
from units.models import Unit

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------ ledger


def test_ledger_rows_read_reports_and_metric_values_in_one_query_whatever_the_chunk(year_2024):  # noqa: F811
    compilation = Compilation(kind="ledger", format="xlsx", campaign=year_2024[1].campaign)
    scope = data.scope_for(compilation)
    metrics = data.ledger_metrics(scope)

    with CaptureQueriesContext(connection) as ctx:
        rows = list(data.ledger_rows(scope, metrics, chunk_size=2))
    # One read (PostgreSQL adds its savepoint and SET LOCAL jit around it, which read nothing).
    assert len([q for q in ctx.captured_queries if "SELECT" in q["sql"].upper()]) == 1
    assert len(rows) == ProgressReport.objects.count() == 5
    # The metric columns hold each report's values, as numbers, in the metrics' order.
    columns = [f"{m.name}（{m.unit_of_measure}）" for m in metrics]
    by_text = {row[6]: dict(zip(columns, row[9 : 9 + len(metrics)], strict=True)) for row in rows}
    assert by_text[PROGRESS_A]["宣传资料（份）"] == 1200 and by_text[PROGRESS_A]["参与（人次）"] == 3400
    assert by_text[PROGRESS_B]["展板（块）"] == 20
    assert all(v is None for v in by_text["退回的报告不进入汇总正文。"].values())


def test_the_ledger_workbook_streams_inline_strings_and_reads_back_unchanged(office_user, year_2024):  # noqa: F811
    compilation = compile_now(office_user, kind="ledger", format="xlsx")

    with zipfile.ZipFile(compilation.file.path) as archive:
        names = archive.namelist()
        sheet = archive.read("xl/worksheets/sheet2.xml").decode()
    # constant_memory: strings are written in their rows, no shared-strings table grows with the texts.
    assert "xl/sharedStrings.xml" not in names
    assert 't="inlineStr"' in sheet and PROGRESS_A in sheet
    ledger = load_workbook(compilation.file.path)["台账"]
    header = [c.value for c in ledger[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ledger.iter_rows(min_row=2)]
    assert {r["工作进展"] for r in rows} == set(ProgressReport.objects.values_list("progress", flat=True))
    assert ledger.auto_filter.ref == f"A1:{ledger.cell(1, len(header)).column_letter}6"


def test_the_dropped_control_characters_are_the_ones_openpyxl_refuses():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for code in range(0x110):
        ch = chr(code)
        assert bool(xlsx.ILLEGAL_CHARACTERS.match(ch)) == bool(ILLEGAL_CHARACTERS_RE.match(ch)), hex(code)


def test_both_workbook_writers_follow_the_one_text_rule(tmp_path):
    """``workbook_text`` is the rule; openpyxl's ``cell_value`` and the xlsxwriter sheets both call it."""
    assert xlsx.workbook_text("=1+1\x0b") == ("=1+1", True)
    assert xlsx.workbook_text("@SUM(A1)") == ("@SUM(A1)", True)
    assert xlsx.workbook_text("#N/A") == ("#N/A", False)
    assert xlsx.workbook_text("第一段\x0b第二段") == ("第一段第二段", False)

    hostile = ['=HYPERLINK("http://x")', "-2+3", "#N/A", "正常文字\x01"]
    # openpyxl (the review-queue export and the sites 台账)
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("a")
    ws.append([xlsx.cell_value(ws, v) for v in hostile])
    workbook.save(tmp_path / "openpyxl.xlsx")
    # xlsxwriter (compiled documents)
    book = xlsx.Book(tmp_path / "xlsxwriter.xlsx")
    sheet = book.sheet("a", [data.LedgerColumn(f"列{i}", 12) for i in range(len(hostile))])
    sheet.append(hostile)
    sheet.close()
    book.close()

    for name, row in (("openpyxl.xlsx", 1), ("xlsxwriter.xlsx", 2)):
        cells = list(load_workbook(tmp_path / name)["a"][row])
        assert [c.value for c in cells] == ['=HYPERLINK("http://x")', "-2+3", "#N/A", "正常文字"], name
        assert all(c.data_type == "s" for c in cells), name
        assert [c.quotePrefix for c in cells] == [True, True, False, False], name


def test_fast_rows_write_the_same_sheet_as_xlsxwriters_own_writers(tmp_path, monkeypatch):
    """RawRows writes rows as XML itself; byte for byte it is what xlsxwriter's public writers make of the same
    rows: tall and short rows, wrapped and quoted text, escapes, dates, percentages, numbers, gaps."""
    columns = [
        data.LedgerColumn("报告期", 16),
        data.LedgerColumn("任务编号", 9, "number"),
        data.LedgerColumn("工作进展", 60),
        data.LedgerColumn("报送率", 9, "percent"),
        data.LedgerColumn("报送时间", 18, "date"),
        data.LedgerColumn("状态", 10),
    ]
    rows = [
        ["2024年第三季度", 3, "市委宣传部" * 40, 0.5, dt.datetime(2024, 10, 8, 10, 30), "已通过"],
        [" 前有空格", 3.25, "=SUM(1)&<b>\r_x0041_ 尾空格 ", None, None, "-1"],
        ["\x01", None, "短。", 1, dt.date(2024, 1, 2), "#N/A"],
        [None, 7, "\ufffe\n第二段", 0.123456789, None, "@x"],
        ["", 12345678901, "第一行\n第二行\n第三行", None, dt.datetime(2025, 3, 31, 23, 59, 59), None],
    ]
    sheets = {}
    for raw in (True, False):
        monkeypatch.setattr(xlsx.RawRows, "RAW", raw)
        book = xlsx.Book(tmp_path / f"{raw}.xlsx")
        sheet = book.sheet("台账", columns)
        assert (sheet._raw is not None) is raw
        for row in rows:
            sheet.append(row)
        sheet.close()
        book.close()
        with zipfile.ZipFile(tmp_path / f"{raw}.xlsx") as archive:
            sheets[raw] = archive.read("xl/worksheets/sheet1.xml").decode()
    assert sheets[True] == sheets[False]
    back = list(load_workbook(tmp_path / "True.xlsx")["台账"].iter_rows(min_row=2, values_only=True))
    assert (
        back[0][2] == "市委宣传部" * 40
        and back[0][3] == 0.5
        and back[0][4] == dt.datetime(2024, 10, 8, 10, 30)
    )
    assert back[1][0] == " 前有空格" and back[2][0] is None and back[3][5] == "@x"


# --------------------------------------------------------------------------------------------- PDF


def test_no_printed_contents_with_page_references_the_bookmarks_are_the_contents():
    """A target counter (a printed TOC's page numbers) would make WeasyPrint lay the document out twice."""
    for path in (Path(settings.BASE_DIR) / "templates" / "compilations" / "pdf").iterdir():
        assert "target-counter" not in path.read_text(encoding="utf-8"), path.name


@needs_poppler
def test_appendix_reports_are_one_dense_paragraph_each_in_the_order_of_the_word_file(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="quarterly", format="pdf", period=q3, with_appendix=True)
    scope = data.scope_for(compilation)
    html = pdf.document_html(scope, lambda *args: None)
    appendix = html[html.index('<section class="gw-appendix">') :]

    entries = Responsibility.objects.filter(unit__is_active=True).count()
    assert len(re.findall(r"<p>（\d+）", appendix)) == entries
    assert "<h5" not in appendix
    # The caption runs into the report's parts, in one paragraph.
    paragraph = next(
        p for p in re.findall(r"<p>（\d+）.*?</p>", appendix, flags=re.S) if PROGRESS_A[:20] in p
    )
    for part in (
        "市委宣传部（牵头，已通过，推进情况：按计划推进）",
        "工作进展：",
        "存在问题：",
        "下一步计划：",
        "主要指标：",
    ):
        assert part in paragraph, part
    text = flat(pdf_text(compilation.file.path))
    assert flat(f"市委宣传部（牵头，已通过，推进情况：按计划推进）工作进展：{PROGRESS_A}存在问题：") in text
    # The outline (bookmarks) still gives 一、 / (一) / 1. of the appendix.
    titles = []

    def walk(items):
        for item in items:
            walk(item) if isinstance(item, list) else titles.append(item.title)

    walk(PdfReader(compilation.file.path).outline)
    assert "3．弘扬中华民族伟大精神" in titles and "（二）“共有精神家园建设”工程" in titles


# ------------------------------------------------------------------------------- province scale


@pytest.fixture
def province_threshold(monkeypatch):
    """The Pingliang plan has ~400 unit × task entries; a threshold below it makes it "province scale"."""
    monkeypatch.setattr(data, "APPENDIX_ENTRIES_MAX", 50)


@needs_poppler
def test_at_province_scale_the_appendix_summarises_units_in_pdf_and_word(
    office_user,
    year_2024,  # noqa: F811
    province_threshold,
):
    _, q3 = year_2024
    pdf_file = compile_now(office_user, kind="quarterly", format="pdf", period=q3, with_appendix=True)
    word = compile_now(office_user, kind="quarterly", format="docx", period=q3, with_appendix=True)

    comp = dashboard_selectors.completeness(q3)
    units = [row for row in comp.units if row.expected]
    text = re.sub(r"—\d+—", "", flat(pdf_text(pdf_file.file.path)))  # less the page numbers between lines
    assert "附件：各单位报送情况" in text and "附件：各单位报告全文" not in text
    assert flat(f"本季度应报送进展报告的单位{len(units)}个") in text
    assert "工作进展：" not in text  # no unit's full text
    for row in units:
        assert row.unit.name in text
    # 崆峒区: 29 tasks, task 26 reported (three days late, behind), task 1 returned: 28 not reported.
    kongtong = next(row for row in units if row.unit.code == "kongtong")
    missing = "、".join(str(n) for n in range(1, 30) if n != 26)
    line = (
        f"崆峒区：应报{kongtong.expected}份，已报{kongtong.reported}份（按时{kongtong.on_time}份），"
        f"推进滞后1份；未报送任务{missing}。"
    )
    assert flat(line) in text
    assert len(PdfReader(pdf_file.file.path).pages) < 30

    document = Document(word.file.path)
    paragraphs = [p.text for p in document.paragraphs]
    assert "附件：各单位报送情况" in paragraphs and not any("工作进展：" in p for p in paragraphs)
    appendix = paragraphs[len(paragraphs) - paragraphs[::-1].index("各单位报送情况") :]
    lines = [p for p in appendix if re.match(r"\d+．", p)]
    assert [p.split("：", 1)[0].split("．", 1)[1] for p in lines] == [
        row.unit.name for group in comp.groups for row in group.rows if row.expected
    ]
    assert any(p.endswith(line) for p in lines)
    # The same words in both: every Word line is printed in the PDF.
    assert all(flat(p) in text for p in lines)


def test_the_summarised_appendix_reads_no_report_text(office_user, year_2024, province_threshold):  # noqa: F811
    _, q3 = year_2024
    compilation = Compilation(
        kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, with_appendix=True
    )
    scope = data.scope_for(compilation)

    with CaptureQueriesContext(connection) as ctx:
        doc = data.narrative(scope, with_entries=True)
    assert doc.unit_summary and not doc.groups
    texts = [q["sql"] for q in ctx.captured_queries if '"next_steps"' in q["sql"]]
    assert texts == []


def test_below_the_threshold_the_appendix_keeps_every_full_text(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    compilation = Compilation(
        kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, with_appendix=True
    )
    doc = data.narrative(data.scope_for(compilation), with_entries=True)

    assert doc.groups and not doc.unit_summary and doc.appendix_title == "各单位报告全文"


# ---------------------------------------------------------------------------------------- benchmark


def test_benchmark_json_is_one_object_on_the_last_line_with_the_agreed_keys(capsys):
    command = bench.Command()
    fake = {"seconds": 2.0, "peak_mb": 300.0, "bytes": 1000}
    results = {
        "pdf": fake | {"pages": 10, "data_s": 0.1, "layout_s": 1.5, "write_s": 0.4},
        "bare-pdf": fake | {"seconds": 1.6, "pages": 8, "chars": 100},
        "ledger": fake | {"seconds": 9.0, "rows": 94000},
        "ledger-rows": fake | {"rows": 94000},
        "bare-openpyxl": fake | {"seconds": 10.0},
        "bare-xlsxwriter": fake | {"seconds": 8.0},
        "province-pdf": fake | {"seconds": 20.0, "pages": 40, "data_s": 5.0},
    }
    options = {"reports": 360, "chars": 500, "units": 1000, "json": True}
    command.stdout.write = lambda text: print(text)
    command.report(results, options, [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])

    last = capsys.readouterr().out.strip().splitlines()[-1]
    out = json.loads(last)
    assert set(out) == {"pdf", "ledger", "province_pdf"}
    assert set(out["pdf"]) == {"ours_s", "bare_s", "ratio", "peak_mb", "pages"}
    assert set(out["ledger"]) == {
        "ours_s", "openpyxl_s", "xlsxwriter_s", "ratio_openpyxl", "ratio_xlsxwriter", "peak_mb", "rows",
    }  # fmt: skip
    assert set(out["province_pdf"]) == {"ours_s", "peak_mb", "pages"}
    assert out["pdf"]["ratio"] == 1.25 and out["ledger"]["ratio_openpyxl"] == 0.9
    assert out["ledger"]["ratio_xlsxwriter"] == 1.125 and out["province_pdf"]["pages"] == 40


def test_benchmark_texts_are_distinct():
    import random

    rng = random.Random(1)
    progress = [bench.texts(rng, 500)["progress"] for _ in range(2000)]
    assert len(set(progress)) == 2000
    assert all(380 <= len(t) <= 400 for t in progress)


def test_unit_kinds_in_the_summary_follow_the_dashboards_groups(year_2024, province_threshold):  # noqa: F811
    _, q3 = year_2024
    compilation = Compilation(
        kind="quarterly", format="pdf", period=q3, campaign=q3.campaign, with_appendix=True
    )
    doc = data.narrative(data.scope_for(compilation), with_entries=True)

    comp = dashboard_selectors.completeness(q3)
    assert [g.label for g in doc.unit_summary] == [
        g.label for g in comp.groups if any(r.expected for r in g.rows)
    ]
    numbers = [row.number for g in doc.unit_summary for row in g.rows]
    assert numbers == list(range(1, len([r for r in comp.units if r.expected]) + 1))
    assert (
        len(numbers) == Unit.objects.filter(is_active=True, responsibilities__isnull=False).distinct().count()
    )
