"""Excel workbooks. Compiled documents are written with xlsxwriter in ``constant_memory`` mode: each row goes
to disk as soon as the next one starts, so a 100,000-row ledger keeps one row in memory; strings are written
inline, so no shared-strings table grows with the ledger's distinct texts. The portal's small exports (the
review queue, the 示范点 台账) stay on openpyxl write-only; both writers call the same rules below.

Sheets: 汇总 (per task), 台账 (one row per report), 单位报送情况 (per unit), 指标完成 (targets vs reported).
Every sheet has a frozen, filterable header row and widths that fit Chinese text; dates are Excel dates and
numbers are numbers, so the office can sort, filter and sum without retyping anything. Text is text: every
string goes through ``workbook_text`` (openpyxl: ``cell_value`` / ``string_cell``), so what a person typed
is never a formula.

Every sheet also prints as a document (``print_setup``): A4 landscape, scaled to the page's width, the header
row repeated on every page, page numbers in the footer; long text columns wrap, and each row is given the
height its longest wrapped text needs, so Excel, WPS and LibreOffice all print the same lines.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import xlsxwriter
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from xlsxwriter.utility import xl_col_to_name

from . import data

HEADER_STYLE = {
    "font_name": "等线",
    "bold": True,
    "bg_color": "#F2DCDB",
    "pattern": 1,
    "align": "center",
    "valign": "vcenter",
    "text_wrap": True,
}
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
# First characters that make Excel or WPS read text as a formula: openpyxl itself writes a string starting
# with "=" as a formula cell, and a spreadsheet turns "+", "-", "@" (and tab/CR before them) into one when
# the cell is edited. Such text gets an explicit string cell with Excel's quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A text column this wide (Excel width units) or wider holds sentences: it wraps, and sets its row's height.
LONG_TEXT_WIDTH = 30
# Points per wrapped line of 11 pt text, as Excel and WPS draw a CJK line; a row holds at most Excel's 409 pt.
LINE_HEIGHT = 15.0
MAX_ROW_HEIGHT = 409.0

WRAPS = "wraps"  # a text column at least LONG_TEXT_WIDTH wide

# How every sheet prints (both writers): margins in inches, header and footer.
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}
HEADER_FOOTER_MARGIN = 0.3
PRINT_HEADER = "&A"  # the sheet's name, centred
PRINT_FOOTER = "第 &P 页 共 &N 页"


# ------------------------------------------------------------------------------- the rule for text


# Control characters a worksheet cannot hold: openpyxl's ILLEGAL_CHARACTERS_RE, as one character class.
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def workbook_text(value: str) -> tuple[str, bool]:
    """What a user string becomes in any workbook, whichever library writes it: the text without the control
    characters a worksheet cannot hold (a Word line break pasted as \\v is dropped rather than failing the
    whole workbook), and whether it must carry Excel's quote prefix because a spreadsheet would read it as
    a formula. The caller then writes it as a string cell, never as a formula."""
    if ILLEGAL_CHARACTERS.search(value):
        value = ILLEGAL_CHARACTERS.sub("", value)
    return str(value), value.startswith(FORMULA_STARTS)  # str(): a SafeString is still a str subclass


def string_cell(ws, text: str) -> WriteOnlyCell:
    """openpyxl: ``text`` as a string cell whatever it looks like: openpyxl guesses the type from the value
    ("=…" is a formula, "#N/A" an error), so the type is set after the value. ``quotePrefix`` is Excel's own
    leading apostrophe, kept in the style: the cell shows and reads back exactly ``text``, and stays text
    when edited."""
    text, quote = workbook_text(text)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    if quote:
        cell.quotePrefix = True
    return cell


def cell_value(ws, value):
    """openpyxl: what to write for ``value``: numbers, dates and None as they are; a string as text (after
    ``workbook_text``), never a formula nor an error cell."""
    if not isinstance(value, str):
        return value
    text, quote = workbook_text(value)
    if quote or text in ERROR_CODES:
        return string_cell(ws, text)
    return text


def print_setup(ws) -> None:
    """openpyxl: how a sheet prints: A4 landscape, all columns on the page's width (as many pages down as it
    takes), the header row on every page, gridlines (cells have no borders), "第 N 页 共 M 页" at the foot.

    Must run before the first row: a write-only sheet writes ``fitToPage`` with its first row."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: as many pages as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.print_options.horizontalCentered = True
    for side, inches in MARGINS.items():
        setattr(ws.page_margins, side, inches)
    ws.page_margins.header = ws.page_margins.footer = HEADER_FOOTER_MARGIN
    ws.oddHeader.center.text = PRINT_HEADER
    ws.oddFooter.center.text = PRINT_FOOTER


def print_setup_xlsxwriter(ws) -> None:
    """xlsxwriter: the same print setup as ``print_setup``."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.hide_gridlines(0)  # 0: gridlines shown and printed
    ws.center_horizontally()
    ws.set_margins(**MARGINS)
    ws.set_header("&C" + PRINT_HEADER, {"margin": HEADER_FOOTER_MARGIN})
    ws.set_footer("&C" + PRINT_FOOTER, {"margin": HEADER_FOOTER_MARGIN})


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapping column ``width`` wide: each paragraph's width (``data.text_width``)
    over what a line holds, less a character of padding."""
    per_line = max(width - 1, 1)
    if 2 * len(text) <= per_line:  # fits even if every character is a wide one
        return 1
    if "\n" not in text:
        return max(-(-data.text_width(text) // per_line), 1)
    return sum(max(-(-data.text_width(part) // per_line), 1) for part in text.split("\n"))


def row_height(lines: int) -> float:
    return min(lines * LINE_HEIGHT + 3, MAX_ROW_HEIGHT)


# ------------------------------------------------------------------------ compiled workbooks


class Book:
    """An xlsxwriter workbook in constant-memory mode and the few formats its cells use, made once."""

    def __init__(self, path: Path):
        self.workbook = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "tmpdir": str(Path(path).parent), "use_zip64": True}
        )
        add = self.workbook.add_format
        self.header = add(HEADER_STYLE)
        # (wraps, top-aligned, quote prefix) → format; None where the cell needs no style at all.
        self.text = {}
        for wrap in (False, True):
            for top in (False, True):
                for quote in (False, True):
                    style = {"text_wrap": True} if wrap else {}
                    style |= {"valign": "top"} if top else {}
                    style |= {"quote_prefix": True} if quote else {}
                    self.text[(wrap, top, quote)] = add(style) if style else None
        self.top = self.text[(False, True, False)]
        self.date = {
            False: add({"num_format": DATE_FORMAT}),
            True: add({"num_format": DATE_FORMAT, "valign": "top"}),
        }
        self.percent = {
            False: add({"num_format": PERCENT_FORMAT}),
            True: add({"num_format": PERCENT_FORMAT, "valign": "top"}),
        }
        # Style indexes in this fixed order whichever cell is written first (xlsxwriter numbers a format when
        # it is first used), so the fast rows (RawRows) and xlsxwriter's own writers give the same file.
        for fmt in [self.header, *self.text.values(), *self.date.values(), *self.percent.values()]:
            if fmt is not None and hasattr(fmt, "_get_xf_index"):
                fmt._get_xf_index()

    def sheet(self, title: str, columns: list[data.LedgerColumn]) -> Sheet:
        return Sheet(self, title, columns)

    def close(self) -> None:
        self.workbook.close()


class Sheet:
    """A constant-memory sheet with a styled header, set up to print; columns are (title, width, kind)."""

    def __init__(self, book: Book, title: str, columns: list[data.LedgerColumn]):
        self.book = book
        self.ws = ws = book.workbook.add_worksheet(title)
        self.columns = columns
        self.widths = []
        for index, column in enumerate(columns):
            width = min(max(column.width, data.text_width(column.title) + 4), 70)
            ws.set_column(index, index, width)
            self.widths.append(width)
        ws.freeze_panes(1, 0)
        print_setup_xlsxwriter(ws)
        self._long = [
            (i, self.widths[i])
            for i, c in enumerate(columns)
            if c.kind == "text" and self.widths[i] >= LONG_TEXT_WIDTH
        ]
        long = {i for i, _ in self._long}
        # Per column: what it holds, WRAPS for a sentence column.
        self._kinds = [WRAPS if i in long else c.kind for i, c in enumerate(columns)]
        header_lines = max(wrapped_lines(str(c.title), w) for c, w in zip(columns, self.widths, strict=True))
        if header_lines > 1:
            ws.set_row(0, row_height(header_lines))
        for index, column in enumerate(columns):
            ws.write_string(0, index, workbook_text(str(column.title))[0], book.header)
        self.rows = 1
        self._raw = RawRows(ws, book, self._kinds) if RawRows.RAW and RawRows.supported(ws) else None

    def append(self, values: list) -> None:
        ws, book, row = self.ws, self.book, self.rows
        lines = 1
        for i, width in self._long:
            text = values[i]
            if text and isinstance(text, str) and 2 * len(text) > width - 1:
                lines = max(lines, wrapped_lines(text, width))
        if self._raw is not None:
            self._raw.write(row, values, lines)
            self.rows = row + 1
            return
        tall = lines > 1
        if tall:
            # Every cell of a row taller than a line reads from the top; the row's format gives that to the
            # cells written without one (numbers), and the others carry it in their own.
            ws.set_row(row, row_height(lines), book.top)
        write_string, write_number = ws.write_string, ws.write_number
        text_formats = book.text
        for col, kind in enumerate(self._kinds):
            value = values[col]
            if value is None:
                continue
            if isinstance(value, str):
                if not value:
                    continue
                text, quote = workbook_text(value)
                if not text:
                    continue
                wraps = kind is WRAPS
                # A sentence column wraps and reads from the top in any row.
                write_string(row, col, text, text_formats[(wraps, wraps or tall, quote)])
            elif isinstance(value, dt.date):  # datetimes too
                ws.write_datetime(row, col, value, book.date[tall])
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value)
            elif kind == "percent":
                write_number(row, col, value, book.percent[tall])
            else:
                write_number(row, col, value, None)
        self.rows = row + 1

    def close(self) -> None:
        self.ws.autofilter(0, 0, max(self.rows, 2) - 1, len(self.columns) - 1)


class RawRows:
    """The rows of a constant-memory sheet written as the XML xlsxwriter itself would write for them, straight
    into the sheet's row file. xlsxwriter spends most of a big sheet's time in its general cell path (a tuple
    per cell, the row's table, attribute lists, an escaping regex per attribute and per string); a ledger row
    is a known shape, so it is written in one string. The cells, styles, heights and escapes are xlsxwriter's
    (tests/reports/compilations/test_scale_documents.py reads both paths back and compares them); the
    workbook, the header row, the formats, the sheet's dimensions and everything after the rows stay
    xlsxwriter's own. Used only where the sheet has the constant-memory internals this relies on
    (``supported``), otherwise the sheet goes through xlsxwriter's public writers."""

    RAW = True  # tests switch it off to compare with the public path

    @staticmethod
    def supported(ws) -> bool:
        return bool(getattr(ws, "constant_memory", False)) and all(
            hasattr(ws, name)
            for name in (
                "fh", "previous_row", "_write_single_row", "_check_dimensions", "_convert_date_time",
                "_escape_control_characters",
            )
        ) and hasattr(xlsxwriter.format.Format, "_get_xf_index")  # fmt: skip

    def __init__(self, ws, book: Book, kinds: list[str]):
        self.ws = ws
        self.kinds = kinds
        self.letters = [xl_col_to_name(i) for i in range(len(kinds))]
        self.started = False

        def s(fmt) -> str:
            return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

        self.text = {key: s(fmt) for key, fmt in book.text.items()}
        self.date = {tall: s(fmt) for tall, fmt in book.date.items()}
        self.percent = {tall: s(fmt) for tall, fmt in book.percent.items()}
        self.top = book.top._get_xf_index()

    def write(self, row: int, values: list, lines: int) -> None:
        ws = self.ws
        if not self.started:
            # Out goes what xlsxwriter still holds (the header row); from here on the rows are written here.
            ws._write_single_row(row)
            self.started = True
        number = row + 1
        tall = lines > 1
        if tall:
            # set_row() stores whole pixels, and writes them back as points: the same height here.
            height = int(row_height(lines) * 4.0 / 3.0 + 0.5) * 0.75
            out = [f'<row r="{number}" s="{self.top}" customFormat="1" ht="{height:.16g}" customHeight="1">']
            row_style = f' s="{self.top}"'  # a cell without a format of its own takes the row's
        else:
            out = [f'<row r="{number}">']
            row_style = ""
        first = last = None
        for col, kind in enumerate(self.kinds):
            value = values[col]
            if value is None:
                continue
            ref = f"{self.letters[col]}{number}"
            if isinstance(value, str):
                if not value:
                    continue
                text, quote = workbook_text(value)
                if not text:
                    continue
                wraps = kind is WRAPS
                style = self.text[(wraps, wraps or tall, quote)]
                if "_x" in text or "\r" in text or "\ufffe" in text or "\uffff" in text:
                    text = ws._escape_control_characters(text)
                if "&" in text or "<" in text or ">" in text:
                    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
                out.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif isinstance(value, dt.date):  # datetimes too
                out.append(f'<c r="{ref}"{self.date[tall]}><v>{ws._convert_date_time(value):.16G}</v></c>')
            elif isinstance(value, bool):
                out.append(f'<c r="{ref}"{row_style} t="b"><v>{int(value)}</v></c>')
            else:
                style = self.percent[tall] if kind == "percent" else row_style
                out.append(f'<c r="{ref}"{style}><v>{value:.16G}</v></c>')
            if first is None:
                first = col
            last = col
        out.append("</row>")
        ws.fh.write("".join(out))
        if first is not None:
            ws._check_dimensions(row, first)
            ws._check_dimensions(row, last)


def col(title: str, width: float, kind: str = "text") -> data.LedgerColumn:
    return data.LedgerColumn(title, width, kind)


def render_xlsx(scope: data.Scope, path: Path, progress) -> None:
    progress(5, "统计汇总数据")
    workbook = Book(path)
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
    workbook.close()
