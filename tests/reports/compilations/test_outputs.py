"""Every output read back: PDF text and fonts (pdftotext, pdffonts, pypdf), PNG pages, Excel sheets and
rows against the database, Word headings and summed figures."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Sum
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from campaign.models import ReportingPeriod
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request
from reports.models import MetricValue, ProgressReport
from tasks.models import Responsibility, Task
from tests.factories import make_report
from units.models import Unit

pytestmark = pytest.mark.django_db
State = ProgressReport.State
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "compilations"

PROGRESS_A = (
    "市委宣传部组织开展“石榴籽”宣讲进机关活动，编印民族团结进步宣传读本，在市区主干道设置公益广告牌。"
)
PROGRESS_B = "崆峒区在全区中小学开设铸牢中华民族共同体意识专题课程，组织“民族团结一家亲”主题班会。"


@pytest.fixture
def year_2024(plan, unit_a, unit_b):
    """Reports in 2024 Q1 and Q3 with known texts and figures; Q3 is closed."""
    q1 = ReportingPeriod.objects.get(year=2024, quarter=1)
    q3 = ReportingPeriod.objects.get(year=2024, quarter=3)
    ReportingPeriod.objects.filter(year=2024).update(state=ReportingPeriod.State.CLOSED)
    q3.refresh_from_db()
    huating = Unit.objects.get(code="huating")
    make_report(
        period=q1,
        unit=unit_a,
        task=3,
        state=State.APPROVED,
        progress="市委宣传部召开民族团结进步宣传工作推进会。",
        problems="基层宣传阵地建设不够均衡。",
        metrics={"materials": 500, "boards": 10},
    )
    make_report(
        period=q3,
        unit=unit_a,
        task=3,
        state=State.APPROVED,
        progress=PROGRESS_A,
        problems="部分宣传内容形式单一，群众参与度有待提高。",
        next_steps="下一步将拍摄民族团结主题微电影。",
        metrics={"materials": 1200, "boards": 30, "lectures": 12, "participants": 3400},
    )
    make_report(
        period=q3,
        unit=unit_b,
        task=26,
        state=State.SUBMITTED,
        progress=PROGRESS_B,
        problems="专职教师力量不足。",
        next_steps="推动创建市级民族团结进步示范学校2所。",
        progress_status=ProgressReport.ProgressStatus.BEHIND,
        metrics={"materials": 800, "boards": 20, "lectures": 8, "participants": 1600},
        submitted_on=q3.due_on + dt.timedelta(days=3),
    )
    make_report(period=q3, unit=unit_b, task=1, state=State.RETURNED, progress="退回的报告不进入汇总正文。")
    make_report(period=q3, unit=huating, task=1, state=State.DRAFT, progress="草稿不进入汇总正文。")
    return q1, q3


def compile_now(user, **kwargs) -> Compilation:
    from django.db import transaction

    with transaction.atomic():
        compilation, _ = compilation_request(by=user, **kwargs)
    # pytest-django runs each test in a transaction, so on_commit never fires by itself: run the job now.
    from reports.compilations.jobs import compilation_build

    compilation_build.delay(compilation.pk)
    compilation.refresh_from_db()
    assert compilation.state == Compilation.State.DONE, compilation.error
    return compilation


def pdf_text(path: str) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return out


def flat(text: str) -> str:
    """Text without line breaks or spaces, so wrapped titles read as one string."""
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------------------------------------- PDF


needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils 未安装")


@needs_poppler
def test_quarterly_pdf_holds_every_task_title_and_unit_name_with_cjk_fonts_embedded(office_user, year_2024):
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="quarterly", format="pdf", period=q3, with_appendix=True)
    path = compilation.file.path

    text = flat(pdf_text(path))
    for task in Task.objects.all():
        assert flat(task.title) in text, task.title
    for name in Unit.objects.filter(responsibilities__isnull=False).distinct().values_list("name", flat=True):
        assert name in text, name
    assert "平凉市创建全国民族团结进步示范市工作2024年第三季度进展情况汇总" in text
    assert "一、总体情况" in text and "二、各项任务推进情况" in text and "附件：各单位报告全文" in text
    assert "（二）“共有精神家园建设”工程" in text and "3．弘扬中华民族伟大精神" in text
    assert flat(PROGRESS_A) in text and flat(PROGRESS_B) in text
    assert "主要指标：宣传资料1200份；展板30块；宣讲/讲座12场次；参与3400人次" in text
    # Each entry's standing said once, in words: no coloured symbol, no "▲滞后 · 已报送 · 滞后".
    assert "（配合，已报送，推进情况：滞后）" in text or "（牵头，已报送，推进情况：滞后）" in text
    assert "退回未重报" in text and "逾期未报" in text and "●已报送" not in text
    assert "退回的报告不进入汇总正文" not in text and "草稿不进入汇总正文" not in text
    assert "—1—" in text and "—2—" in text  # page numbers "— 1 —" from the first page (版头, no cover)

    fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows, fonts
    assert {r[0].split("+", 1)[1] for r in rows} >= {
        "Noto-Serif-CJK-SC",
        "Noto-Serif-CJK-SC-Bold",
        "Noto-Sans-CJK-SC-Bold",
    }
    assert all(r[-5:-2] == ["yes", "yes", "yes"] for r in rows), fonts  # emb, sub, uni

    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    assert reader.metadata.title == "平凉市创建全国民族团结进步示范市工作2024年第三季度进展情况汇总"
    root = reader.trailer["/Root"]
    assert root.get("/Lang") == "zh-CN"
    outline_titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert outline_titles[:2] == ["一、总体情况", "二、各项任务推进情况"]

    # PNG pages to look at (var/screenshots/compilations/quarterly-*.png)
    if shutil.which("pdftoppm"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "6", path, str(SCREENSHOTS / "quarterly")],
            check=True,
        )
        assert len(list(SCREENSHOTS.glob("quarterly-*.png"))) >= 6


@needs_poppler
def test_pdf_margins_follow_gb_t_9704(office_user, year_2024):
    """Body text starts 28 mm from the left edge and 37 mm from the top (pdftotext -bbox)."""
    _, q3 = year_2024
    compilation = compile_now(
        office_user, kind="unit", format="pdf", unit=Unit.objects.get(code="xuanchuanbu"), period=q3
    )
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "3", "-l", "3", compilation.file.path, "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = [
        tuple(float(v) for v in m)
        for m in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', out)
    ]
    mm = 72 / 25.4
    assert min(w[0] for w in words) >= 28 * mm - 1
    body = [w for w in words if w[1] < 260 * mm]  # leave out the page number in the footer
    assert min(w[1] for w in body) >= 37 * mm - 2
    assert max(w[2] for w in body) <= (210 - 26) * mm + 1


@needs_poppler
@pytest.mark.parametrize(
    "kind, scope, expected",
    [
        (
            "unit",
            {"unit": "xuanchuanbu"},
            ["市委宣传部创建工作进展情况报告", "2024年第一季度", "2024年第三季度", PROGRESS_A],
        ),
        ("task", {"task": 26}, ["任务26推进情况报告", "进学校", "崆峒区", PROGRESS_B]),
        (
            "annual",
            {"year": 2024},
            ["一、工作开展情况", "二、存在的困难和问题", "三、下一步工作计划", "专职教师力量不足"],
        ),
        ("ledger", {"period": "q3"}, ["工作台账", PROGRESS_A, PROGRESS_B, "已退回", "草稿"]),
    ],
)
def test_other_kinds_render_as_pdf(office_user, year_2024, kind, scope, expected):
    _, q3 = year_2024
    values = {}
    for key, value in scope.items():
        if key == "unit":
            values["unit"] = Unit.objects.get(code=value)
        elif key == "task":
            values["task"] = Task.objects.get(number=value)
        elif key == "period":
            values["period"] = q3
        else:
            values[key] = value
    compilation = compile_now(office_user, kind=kind, format="pdf", **values)

    text = flat(pdf_text(compilation.file.path))
    for fragment in expected:
        assert flat(fragment) in text, fragment
    if shutil.which("pdftoppm"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "4",
                compilation.file.path,
                str(SCREENSHOTS / kind),
            ],
            check=True,
        )


# -------------------------------------------------------------------------------------------- Excel


def test_quarterly_excel_sheets_and_rows_match_the_database(office_user, year_2024):
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="quarterly", format="xlsx", period=q3)

    workbook = load_workbook(compilation.file.path)
    assert workbook.sheetnames == ["汇总", "台账", "单位报送情况", "指标完成"]

    ledger = workbook["台账"]
    header = [c.value for c in ledger[1]]
    assert header[:9] == [
        "报告期",
        "单位",
        "任务编号",
        "任务",
        "状态",
        "推进情况",
        "工作进展",
        "存在问题",
        "下一步计划",
    ]
    assert header[-2:] == ["报送时间", "审核时间"]
    assert "宣传资料（份）" in header and "参与（人次）" in header
    assert ledger.freeze_panes == "A2"
    assert ledger.auto_filter.ref == f"A1:{ledger.cell(1, len(header)).column_letter}{ledger.max_row}"
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in ledger.iter_rows(min_row=2)]
    reports = ProgressReport.objects.filter(period=q3)
    assert len(rows) == reports.count() == 4
    by_key = {(r["单位"], r["任务编号"]): r for r in rows}
    for report in reports.select_related("unit", "task"):
        row = by_key[(report.unit.name, report.task.number)]
        assert row["报告期"] == "2024年第三季度"
        assert row["任务"] == report.task.title
        assert row["状态"] == report.get_state_display()
        assert row["工作进展"] == report.progress
        assert row["存在问题"] == (report.problems or None)
        for mv in report.metric_values.select_related("metric"):
            cell = row[f"{mv.metric.name}（{mv.metric.unit_of_measure}）"]
            assert isinstance(cell, int) and cell == mv.value
        if report.submitted_at:
            assert isinstance(row["报送时间"], dt.datetime)
            assert row["报送时间"] == report.submitted_at.astimezone(
                dt.timezone(dt.timedelta(hours=8))
            ).replace(tzinfo=None)
    assert by_key[("崆峒区", 26)]["推进情况"] == "滞后"
    assert by_key[("华亭市", 1)]["状态"] == "草稿" and by_key[("华亭市", 1)]["推进情况"] is None

    summary = {row[0].value: [c.value for c in row] for row in workbook["汇总"].iter_rows(min_row=2)}
    assert len(summary) == 29
    expected_task3 = Responsibility.objects.filter(task__number=3, unit__is_active=True).count()
    assert summary[3][2] == "弘扬中华民族伟大精神"
    assert summary[3][4:7] == [expected_task3, 1, 1]  # expected, reported, on time
    assert summary[26][5:7] == [1, 0]  # 崆峒区 reported three days late
    assert summary[1][5] == 0 and summary[1][8] == 1  # returned, not counted as reported

    units = {row[1].value: [c.value for c in row] for row in workbook["单位报送情况"].iter_rows(min_row=2)}
    xuan = Responsibility.objects.filter(unit__code="xuanchuanbu").count()
    assert units["市委宣传部"][3:6] == [xuan, 1, 1]
    assert units["市委宣传部"][6] == pytest.approx(1 / xuan)
    assert units["崆峒区"][3:6] == [29, 1, 0]

    targets = list(workbook["指标完成"].iter_rows(min_row=2, values_only=True))
    assert targets and all(isinstance(r[0], int) and isinstance(r[5], int | float) for r in targets)


def test_ledger_excel_covers_every_report_of_the_campaign(office_user, year_2024):
    compilation = compile_now(office_user, kind="ledger", format="xlsx")

    workbook = load_workbook(compilation.file.path, read_only=True)
    rows = list(workbook["台账"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == ProgressReport.objects.count() == 5
    assert [r[0] for r in rows] == ["2024年第一季度"] + ["2024年第三季度"] * 4


def test_liaisons_unit_report_excel_has_only_their_unit(liaison_a, year_2024, unit_a):
    compilation = compile_now(liaison_a, kind="unit", format="xlsx", unit=unit_a)

    workbook = load_workbook(compilation.file.path, read_only=True)
    units = {r[1] for r in workbook["台账"].iter_rows(min_row=2, values_only=True)}
    assert units == {"市委宣传部"}


# --------------------------------------------------------------------------------------------- Word


def test_annual_word_summary_has_the_examples_shape_and_summed_figures(office_user, year_2024):
    compilation = compile_now(office_user, kind="annual", format="docx", year=2024)

    document = Document(compilation.file.path)
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    level1 = [text for style, text in headings if style == "Heading 1"]
    assert level1 == ["一、工作开展情况", "二、存在的困难和问题", "三、下一步工作计划"]
    level2 = [text for style, text in headings if style == "Heading 2"]
    assert level2[:2] == ["（一）“政治引领”工程", "（二）“共有精神家园建设”工程"]
    assert level2[7] == "（八）“八进”活动" and level2[8].startswith("（一）")  # 二、's themes restart at (一)

    text = "\n".join(p.text for p in document.paragraphs)
    # The title broken between words, as in the PDF: "平凉市2024年" / "创建全国民族团结进步示范市工作总结".
    assert document.paragraphs[0].text == "平凉市2024年\n创建全国民族团结进步示范市工作总结"
    # Section 二 (task 3): Q1 500 + Q3 1200 materials, 10 + 30 boards, 12 lectures, 3400 people, approved.
    assert (
        "全年各责任单位围绕“共有精神家园建设”工程报送进展报告2份，"
        "共印发宣传资料1700份、制作展板40块、开展宣讲12场次、覆盖3400人次。"
    ) in text
    # Section 八 (task 26): 崆峒区's report is submitted, not yet approved: counted, its figures not.
    assert "全年各责任单位围绕“八进”活动报送进展报告1份。" in text
    assert "全年累计印发宣传资料1700份、制作展板40块、开展宣讲12场次、覆盖3400人次" in text
    # The figures are the database's sums over the year's approved reports (as on the dashboards).
    totals = dict(
        MetricValue.objects.filter(report__period__year=2024, report__state=State.APPROVED)
        .values_list("metric__code")
        .annotate(total=Sum("value"))
    )
    assert totals["materials"] == Decimal(1700) and totals["participants"] == Decimal(3400)
    assert (
        f"1.{PROGRESS_A.rstrip('。')}，印发宣传资料1200份、制作展板30块、开展宣讲12场次、覆盖3400人次。"
        in text
    )
    assert "市委宣传部反映：基层宣传阵地建设不够均衡；部分宣传内容形式单一，群众参与度有待提高。" in text
    assert "崆峒区反映：专职教师力量不足。" in text
    assert "市委宣传部提出：拍摄民族团结主题微电影。" in text
    assert "退回的报告" not in text and "草稿不进入" not in text
    section = document.sections[0]
    assert (round(section.top_margin.mm), round(section.left_margin.mm)) == (37, 28)
    assert (round(section.right_margin.mm), round(section.bottom_margin.mm)) == (26, 35)


def test_quarterly_word_summary_is_condensed_with_the_full_texts_only_as_the_appendix(office_user, year_2024):
    """The Word file follows the PDF: 总体情况 and the per-task digest, the units' texts only in the 附件."""
    _, q3 = year_2024
    short = Document(compile_now(office_user, kind="quarterly", format="docx", period=q3).file.path)
    full = Document(
        compile_now(office_user, kind="quarterly", format="docx", period=q3, with_appendix=True).file.path
    )

    def by_level(document):
        out = {}
        for p in document.paragraphs:
            if p.style.name.startswith("Heading"):
                out.setdefault(p.style.name, []).append(p.text)
        return out

    def text(document):
        return "\n".join(p.text for p in document.paragraphs)

    short_levels, full_levels = by_level(short), by_level(full)
    for levels in (short_levels, full_levels):
        assert levels["Heading 1"] == ["一、总体情况", "二、各项任务推进情况"]
    # Short: one (一) per section with reports expected, each task one paragraph; no unit texts.
    assert "Heading 3" not in short_levels and "Heading 4" not in short_levels
    assert "（二）“共有精神家园建设”工程" in short_levels["Heading 2"]
    assert any(p.text.startswith("3．弘扬中华民族伟大精神。牵头单位") for p in short.paragraphs)
    assert "附件" not in text(short) and "工作进展：" not in text(short)
    # The digest quotes the unit's first sentence, naming the unit once (its sentence already names it).
    assert f"未报送。{PROGRESS_A}" in text(short) and "市委宣传部市委宣传部" not in text(short)
    # With the appendix: the 附件 line before the signature, then every task and unit in full.
    assert "附件：各单位报告全文" in text(full)
    assert full_levels["Heading 3"] == [f"{t.number}．{t.title}" for t in Task.objects.order_by("number")]
    assert len(full_levels["Heading 4"]) == Responsibility.objects.filter(unit__is_active=True).count()
    assert "（1）市委宣传部（牵头，已通过，推进情况：按计划推进）" in full_levels["Heading 4"]
    assert f"工作进展：{PROGRESS_A}" in text(full)
    assert "主要指标：宣传资料1200份；展板30块；宣讲/讲座12场次；参与3400人次。" in text(full)
    assert not any("●" in h or "▲" in h for h in full_levels["Heading 4"])  # states in words, no symbols
    assert "草稿不进入汇总正文" not in text(full) and "退回的报告不进入汇总正文" not in text(full)
    # Signed by the campaign's issuer, with the 版记 after.
    lines = [p.text for p in full.paragraphs if p.text]
    assert f"{q3.campaign.printed_by_name}\t" in lines[-1] and lines[-1].endswith("印发")


def test_ledger_word_is_a_table_of_reports(office_user, year_2024):
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="ledger", format="docx", period=q3)

    table = Document(compilation.file.path).tables[0]
    assert len(table.rows) == 1 + ProgressReport.objects.filter(period=q3).count()
    assert {row.cells[2].text for row in table.rows[1:]} == {"市委宣传部", "崆峒区", "华亭市"}


def test_ledger_rows_come_out_the_same_through_the_prefetch_thread(office_user, year_2024):
    """On PostgreSQL a worker reads the ledger's rows in a second thread; order and content are kept. (The
    thread's own database connection is exercised by the integration run on PostgreSQL.)"""
    from reports.compilations.render import data

    compilation = Compilation.objects.create(kind="ledger", format="xlsx", campaign=year_2024[1].campaign)
    scope = data.scope_for(compilation)
    metrics = data.ledger_metrics(scope)
    inline = list(data.ledger_rows(scope, metrics))
    threaded = list(_outside_atomic(data.prefetched, iter(inline), batch=2))
    assert len(threaded) == 5 and threaded == inline


def test_prefetch_hands_a_producer_error_to_the_consumer(plan):
    from reports.compilations.render import data

    def broken():
        yield [1]
        raise RuntimeError("数据库连接中断")

    with pytest.raises(RuntimeError, match="数据库连接中断"):
        list(_outside_atomic(data.prefetched, broken()))


def _outside_atomic(prefetched, rows, batch=1):
    from unittest import mock

    with (
        mock.patch("reports.compilations.render.data.connection") as conn,
        mock.patch("django.db.connections.close_all"),
    ):  # the thread must not close the test's shared connection
        conn.vendor, conn.in_atomic_block = "postgresql", False
        yield from prefetched(rows, batch=batch)


# ------------------------------------------------------------------------------------------ issuer

DEFAULT_ISSUER = "平凉市创建全国民族团结进步示范市工作领导小组办公室"


@needs_poppler
@pytest.mark.parametrize(
    "kind, scope",
    [("quarterly", "period"), ("annual", "year"), ("unit", "unit"), ("task", "task"), ("ledger", "period")],
)
def test_every_pdf_names_the_campaigns_issuer_and_no_other(office_user, year_2024, kind, scope):
    _, q3 = year_2024
    campaign = q3.campaign
    campaign.issuer, campaign.printed_by = "某市民族团结进步创建工作办公室", "某市创建办"
    campaign.save()
    values = {
        "period": {"period": q3},
        "year": {"year": 2024},
        "unit": {"unit": Unit.objects.get(code="xuanchuanbu")},
        "task": {"task": Task.objects.get(number=26)},
    }[scope]
    compilation = compile_now(office_user, kind=kind, format="pdf", **values)

    text = flat(pdf_text(compilation.file.path))
    assert "某市民族团结进步创建工作办公室" in text
    assert DEFAULT_ISSUER not in text and "创建工作办公室" not in text.replace(
        "某市民族团结进步创建工作办公室", ""
    )
    if kind != "ledger":  # a 公文 ends with its 版记; the ledger is a table book with a cover
        assert "某市创建办" in text and "印发" in text


def test_no_document_template_names_an_office_itself():
    """Document layouts take every name from the campaign (issuer_name, printed_by_name, …)."""
    templates = Path(settings.BASE_DIR) / "templates"
    paths = [
        *(templates / "compilations" / "pdf").iterdir(),
        templates / "notifications" / "bulletin_pdf.html",
    ]
    for path in paths:
        source = path.read_text(encoding="utf-8")
        for literal in ("办公室", "领导小组", "创建办", "平凉市", "民宗委"):
            assert literal not in source, (path.name, literal)
