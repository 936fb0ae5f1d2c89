"""Every compiled workbook prints as a document: A4 landscape, one page wide, the header row on every page,
long texts wrapped in rows tall enough for them, and what people typed still stored as text."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from campaign.models import ReportingPeriod
from reports.compilations.render.data import text_width
from reports.compilations.render.xlsx import LINE_HEIGHT, LONG_TEXT_WIDTH
from reports.models import ProgressReport
from tests.factories import make_report
from tests.reports.compilations.test_outputs import compile_now

pytestmark = pytest.mark.django_db

# 294 characters, 576 width units: in the 60-wide 工作进展 column (59 units a line) it takes 10 lines.
LONG_PROGRESS = (
    "市委宣传部组织开展“石榴籽”宣讲进机关活动，编印民族团结进步宣传读本，在市区主干道设置公益广告牌。" * 6
)
FORMULA_LIKE = "=SUM(1+1)"


@pytest.fixture
def q3_reports(plan, unit_a, unit_b):
    q3 = ReportingPeriod.objects.get(year=2024, quarter=3)
    ReportingPeriod.objects.filter(year=2024).update(state=ReportingPeriod.State.CLOSED)
    make_report(
        period=q3,
        unit=unit_a,
        task=3,
        state=ProgressReport.State.APPROVED,
        progress=LONG_PROGRESS,
        problems="经费不足。",
        next_steps=FORMULA_LIKE,
        metrics={"materials": 1200},
    )
    make_report(period=q3, unit=unit_b, task=26, state=ProgressReport.State.SUBMITTED, progress="短。")
    # A short one in every scope (the unit's and the task's too).
    q1 = ReportingPeriod.objects.get(year=2024, quarter=1)
    make_report(period=q1, unit=unit_a, task=3, state=ProgressReport.State.APPROVED, progress="短。")
    return q3


def column_width(ws, index: int) -> float | None:
    """The width Excel shows for column ``index`` (1-based). A <col> element may span several columns of one
    width, and the file stores the width with Excel's cell padding (60 is stored as 60.71)."""
    for dimension in ws.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= index <= dimension.max:
            return int(dimension.width)
    return None


def _workbook(user, kind, q3, unit_a):
    scope = {
        "quarterly": {"period": q3},
        "ledger": {},
        "unit": {"unit": unit_a},
        "task": {"task": 3},
        "annual": {"year": 2024},
    }[kind]
    compilation = compile_now(user, kind=kind, format="xlsx", **scope)
    return load_workbook(compilation.file.path)


@pytest.mark.parametrize("kind", ["quarterly", "ledger", "unit", "task", "annual"])
def test_every_sheet_prints_landscape_a4_one_page_wide_with_the_header_repeated(
    office_user, q3_reports, unit_a, kind
):
    workbook = _workbook(office_user, kind, q3_reports, unit_a)

    assert workbook.sheetnames == ["汇总", "台账", "单位报送情况", "指标完成"]
    for ws in workbook.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert setup.paperSize == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        # One page wide: fitToWidth is 1, written out or left to the schema's default of 1 (xlsxwriter omits it).
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.print_options.gridLines is True, ws.title
        assert ws.oddFooter.center.text == "第 &P 页 共 &N 页", ws.title
        assert ws.freeze_panes == "A2", ws.title


@pytest.mark.parametrize("kind", ["quarterly", "ledger", "unit", "task", "annual"])
def test_long_text_columns_wrap_and_rows_are_as_tall_as_their_text(office_user, q3_reports, unit_a, kind):
    workbook = _workbook(office_user, kind, q3_reports, unit_a)
    ledger = workbook["台账"]
    header = [c.value for c in ledger[1]]
    progress = header.index("工作进展") + 1
    long_columns = [i + 1 for i, title in enumerate(header) if column_width(ledger, i + 1) >= LONG_TEXT_WIDTH]

    # 任务, 工作进展, 存在问题, 下一步计划 are the ledger's sentence columns.
    assert [header[i - 1] for i in long_columns] == ["任务", "工作进展", "存在问题", "下一步计划"]
    rows = {row[progress - 1].value: row[0].row for row in ledger.iter_rows(min_row=2)}
    long_row = rows[LONG_PROGRESS]
    for column in long_columns:
        cell = ledger.cell(long_row, column)
        assert cell.alignment.wrap_text is True and cell.alignment.vertical == "top", (column, cell.value)
    # 10 lines of 15 pt, plus 3 pt of padding.
    assert text_width(LONG_PROGRESS) == 576
    assert ledger.row_dimensions[long_row].height == 10 * LINE_HEIGHT + 3
    assert ledger.cell(long_row, 2).alignment.vertical == "top"  # 单位 reads from the top of the tall row
    # A short report keeps Excel's default height, its texts still wrap.
    short_row = rows["短。"]
    assert ledger.row_dimensions[short_row].height is None
    assert ledger.cell(short_row, progress).alignment.wrap_text is True
    # The header row wraps too (metric titles) and is the row repeated on each printed page.
    assert all(c.alignment.wrap_text for c in ledger[1])


def test_long_text_is_still_stored_as_text(office_user, q3_reports, unit_a):
    ledger = _workbook(office_user, "quarterly", q3_reports, unit_a)["台账"]
    header = [c.value for c in ledger[1]]

    row = next(r for r in ledger.iter_rows(min_row=2) if r[header.index("工作进展")].value == LONG_PROGRESS)
    formula_like = row[header.index("下一步计划")]
    assert (formula_like.value, formula_like.data_type, formula_like.quotePrefix) == (FORMULA_LIKE, "s", True)
    assert row[header.index("工作进展")].data_type == "s"
    assert row[header.index("任务编号")].value == 3 and row[header.index("任务编号")].data_type == "n"


def test_the_targets_sheet_wraps_the_targets_source_text(office_user, q3_reports, unit_a):
    targets = _workbook(office_user, "quarterly", q3_reports, unit_a)["指标完成"]
    header = [c.value for c in targets[1]]
    source = header.index("目标原文")

    cells = [row[source] for row in targets.iter_rows(min_row=2) if row[source].value]
    assert cells
    assert all(c.alignment.wrap_text for c in cells)
    assert column_width(targets, 12) == 60
    for cell in cells:
        lines = -(-text_width(cell.value) // 59)  # 59 of the column's 60 units hold text
        expected = lines * LINE_HEIGHT + 3 if lines > 1 else None
        assert targets.row_dimensions[cell.row].height == expected, cell.value
