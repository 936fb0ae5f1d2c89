"""Excel workbooks with openpyxl in write-only mode: rows stream to disk, memory stays flat.

Sheets: 汇总 (per task), 台账 (one row per report), 单位报送情况 (per unit), 指标完成 (targets vs reported).
Every sheet has a frozen, filterable header row and widths that fit Chinese text; dates are Excel dates and
numbers are numbers, so the office can sort, filter and sum without retyping anything. Text is text: every
string goes through ``cell_value``, so what a person typed is never a formula (see ``string_cell``).

Every sheet also prints as a document (``print_setup``): A4 landscape, scaled to the page's width, the header
row repeated on every page, page numbers in the footer; long text columns wrap, and each row is given the
height its longest wrapped text needs, so Excel, WPS and LibreOffice all print the same lines.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension

from . import data

HEADER_FONT = Font(name="等线", bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
PERCENT_FORMAT = "0.0%"
# First characters that make Excel or WPS read text as a formula: openpyxl itself writes a string starting
# with "=" as a formula cell, and a spreadsheet turns "+", "-", "@" (and tab/CR before them) into one when
# the cell is edited. Such text gets an explicit string cell with Excel's quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A text column this wide (Excel width units) or wider holds sentences: it wraps, and sets its row's height.
LONG_TEXT_WIDTH = 30
WRAP_ALIGN = Alignment(vertical="top", wrap_text=True)
TOP_ALIGN = Alignment(vertical="top")
# Points per wrapped line of 11 pt text, as Excel and WPS draw a CJK line; a row holds at most Excel's 409 pt.
LINE_HEIGHT = 15.0
MAX_ROW_HEIGHT = 409.0


def string_cell(ws, text: str) -> WriteOnlyCell:
    """``text`` as a string cell whatever it looks like: openpyxl guesses the type from the value ("=…" is a
    formula, "#N/A" an error), so the type is set after the value. ``quotePrefix`` is Excel's own leading
    apostrophe, kept in the style: the cell shows and reads back exactly ``text``, and stays text when edited."""
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def cell_value(ws, value):
    """What to write for ``value``: numbers, dates and None as they are; a string as text, never a formula.
    Control characters a worksheet cannot hold (a Word line break pasted as \\v) are dropped rather than
    failing the whole workbook."""
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_STARTS) or value in ERROR_CODES:
        return string_cell(ws, value)
    return str(value)  # a str subclass (SafeString) would fall outside openpyxl's type table


def print_setup(ws) -> None:
    """How a sheet prints: A4 landscape, all columns on the page's width (as many pages down as it takes), the
    header row on every page, gridlines (cells have no borders), "第 N 页 共 M 页" at the foot.

    Must run before the first row: a write-only sheet writes ``fitToPage`` with its first row."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.center.text = "&A"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapping column ``width`` wide: each paragraph's width (``data.text_width``)
    over what a line holds, less a character of padding."""
    per_line = max(width - 1, 1)
    if 2 * len(text) <= per_line:  # fits even if every character is a wide one
        return 1
    return sum(max(-(-data.text_width(part) // per_line), 1) for part in text.split("\n"))


def _alignment_id(ws, alignment: Alignment) -> int:
    cell = WriteOnlyCell(ws)
    cell.alignment = alignment
    return cell._style.alignmentId


def row_height(lines: int) -> float:
    return min(lines * LINE_HEIGHT + 3, MAX_ROW_HEIGHT)


class Sheet:
    """A write-only sheet with a styled header, set up to print; columns are (title, width, kind)."""

    def __init__(self, workbook: Workbook, title: str, columns: list[data.LedgerColumn]):
        self.ws = workbook.create_sheet(title)
        self.columns = columns
        self.widths = []
        for index, column in enumerate(columns, start=1):
            width = min(max(column.width, data.text_width(column.title) + 4), 70)
            self.ws.column_dimensions[get_column_letter(index)].width = width
            self.widths.append(width)
        # Must be set before the first row: write-only sheets write their header XML on the first append.
        self.ws.freeze_panes = "A2"
        print_setup(self.ws)
        self._long = [
            i for i, c in enumerate(columns) if c.kind == "text" and self.widths[i] >= LONG_TEXT_WIDTH
        ]
        header = []
        for column in columns:
            cell = string_cell(self.ws, ILLEGAL_CHARACTERS_RE.sub("", str(column.title)))
            cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN
            header.append(cell)
        self.rows = 0
        header_lines = max(wrapped_lines(str(c.title), w) for c, w in zip(columns, self.widths, strict=True))
        self._append_sized(header, header_lines)
        self.rows = 1
        # Dates need no styled cell: openpyxl gives datetime values a date format by itself, and a styled
        # cell per value would cost more than the rest of the row on a 100,000-row ledger.
        self._styled = [c.kind == "percent" for c in columns]
        self._any_styled = any(self._styled)
        # The alignments' ids in the workbook, looked up once: setting ``cell.alignment`` hashes the Alignment
        # on every call, which on a 100,000-row ledger cost more than writing the rows.
        self._wrap_id = _alignment_id(self.ws, WRAP_ALIGN)
        self._top_id = _alignment_id(self.ws, TOP_ALIGN)

    def append(self, values: list) -> None:
        ws = self.ws
        values = [cell_value(ws, v) for v in values]
        lines = 1
        for i in self._long:
            if values[i] is not None:
                text = values[i].value if isinstance(values[i], Cell) else values[i]
                lines = max(lines, wrapped_lines(text, self.widths[i]))
        if self._any_styled:
            for i, styled in enumerate(self._styled):
                if styled and values[i] is not None:
                    cell = WriteOnlyCell(ws, value=values[i])
                    cell.number_format = PERCENT_FORMAT
                    values[i] = cell
        # Long texts wrap; in a row taller than a line every cell reads from the top.
        for i in range(len(values)) if lines > 1 else self._long:
            value = values[i]
            if value is not None:
                cell = value if isinstance(value, Cell) else WriteOnlyCell(ws, value=value)
                if cell._style is None:
                    cell._style = StyleArray()
                cell._style.alignmentId = self._wrap_id if i in self._long else self._top_id
                values[i] = cell
        self._append_sized(values, lines)
        self.rows += 1

    def _append_sized(self, values: list, lines: int) -> None:
        """Append row ``self.rows + 1``, ``lines`` lines high. The height is written out with the row, so its
        dimension is dropped right after: a 100,000-row ledger keeps no per-row state."""
        index = self.rows + 1
        if lines > 1:
            self.ws.row_dimensions[index] = RowDimension(
                self.ws, index=index, ht=row_height(lines), customHeight=True
            )
        self.ws.append(values)
        self.ws.row_dimensions.pop(index, None)

    def close(self) -> None:
        self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{max(self.rows, 2)}"


def col(title: str, width: float, kind: str = "text") -> data.LedgerColumn:
    return data.LedgerColumn(title, width, kind)


def render_xlsx(scope: data.Scope, path: Path, progress) -> None:
    progress(5, "统计汇总数据")
    workbook = Workbook(write_only=True)
    summary = Sheet(
        workbook,
        "汇总",
        [
            col("任务编号", 9, "number"),
            col("所属工程", 24),
            col("任务", 44),
            col("牵头单位", 20),
            col("应报送", 9, "number"),
            col("已报送", 9, "number"),
            col("按时报送", 10, "number"),
            col("已通过", 9, "number"),
            col("已退回", 9, "number"),
            col("报送率", 9, "percent"),
            col("滞后", 8, "number"),
            col("已完成", 9, "number"),
        ],
    )
    metrics = data.ledger_metrics(scope)
    ledger = Sheet(workbook, "台账", data.ledger_columns(metrics))
    units = Sheet(
        workbook,
        "单位报送情况",
        [
            col("序号", 7, "number"),
            col("单位", 24),
            col("类别", 10),
            col("应报送", 9, "number"),
            col("已报送", 9, "number"),
            col("按时报送", 10, "number"),
            col("报送率", 9, "percent"),
            col("按时报送率", 11, "percent"),
        ],
    )
    targets = Sheet(
        workbook,
        "指标完成",
        [
            col("任务编号", 9, "number"),
            col("指标", 18),
            col("范围/单位", 22),
            col("时限", 14),
            col("要求", 8),
            col("目标值", 10, "number"),
            col("计量单位", 9),
            col("已完成", 12, "number"),
            col("完成率", 9, "percent"),
            col("按进度应达", 12, "number"),
            col("状态", 12),
            col("目标原文", 60),
        ],
    )

    for row in data.task_summaries(scope):
        summary.append(
            [
                row.task.number,
                str(row.task.section),
                row.task.title,
                row.lead,
                row.expected,
                row.reported,
                row.on_time,
                row.approved,
                row.returned,
                row.reported / row.expected if row.expected else None,
                row.behind,
                row.done,
            ]
        )
    summary.close()
    progress(10, "写入台账")

    total = max(data.ledger_count(scope), 1)
    step = max(total // 40, 500)
    for index, row in enumerate(data.prefetched(data.ledger_rows(scope, metrics)), start=1):
        ledger.append(row)
        if index % step == 0:
            progress(10 + int(80 * index / total), f"写入台账（{index}/{total}）")
    ledger.close()

    progress(92, "统计各单位报送情况")
    for index, row in enumerate(data.unit_rows(scope), start=1):
        units.append(
            [
                index,
                row.unit.name,
                str(row.unit.get_kind_display()),
                row.expected,
                row.reported,
                row.on_time,
                row.rate,
                row.on_time_rate,
            ]
        )
    units.close()
    for row in data.target_rows(scope):
        target = row.target
        targets.append(
            [
                target.task.number,
                target.metric.name,
                row.unit_label,
                row.window_label,
                str(target.get_comparison_display()),
                data.excel_number(row.promised),
                target.metric.unit_of_measure,
                data.excel_number(row.reported),
                row.rate,
                data.excel_number(row.expected) if row.expected is not None else None,
                row.light_label,
                target.source_text,
            ]
        )
    targets.close()
    progress(95, "保存 Excel 文件")
    workbook.save(path)
