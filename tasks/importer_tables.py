"""Task tables (任务分工表) in a .docx or .xlsx plan: rows of cells in, sections and task rows out.

A table is a task table when one of its first rows names a task column (任务 / 工作任务 / 重点任务 …) and at
least one other known column (序号, 牵头单位, 责任单位, 配合单位, 完成时限 …), in any order. Section rows are
either a row whose cells all say the same thing (a merged row "一、…") or a 类别 column whose value changes.
No Django, no database: ``tasks.importer`` turns the rows into ParsedSection / ParsedTask.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

# Column kinds and the header words that name them (spaces and line breaks inside a header are ignored).
HEADERS: list[tuple[str, re.Pattern]] = [
    ("number", re.compile(r"^(?:序号|编号|序)$")),
    ("lead", re.compile(r"牵头(?:单位|部门)")),
    ("co", re.compile(r"(?:配合|协办|参与|协同)(?:单位|部门)")),
    ("responsible", re.compile(r"责任(?:单位|部门)|承办(?:单位|部门)|责任主体")),
    ("deadline", re.compile(r"^(?:完成)?(?:时限|时间|期限)(?:要求|节点)?$|^时间安排$|^进度安排$")),
    ("category", re.compile(r"^(?:类别|类型|领域|板块|重点工程|工程|项目|活动)$")),
    ("task", re.compile(r"^(?:重点|主要|工作|具体|创建)?(?:任务|工作)(?:名称|事项)?$|^工作事项$|^任务清单$")),
    (
        "content",
        re.compile(r"(?:具体|工作|主要|任务)(?:内容|措施|举措)|^(?:措施|举措|目标要求|工作要求)$|^任务内容$"),
    ),
]
SECTION_NUMBER = re.compile(
    r"^\s*(?:([一二三四五六七八九十]{1,3})\s*[、.．]|[(（]\s*([一二三四五六七八九十]{1,3})\s*[)）])\s*"
)


@dataclass
class TableRow:
    number: str  # 序号 as printed ("" when the column is missing or empty)
    section: str  # the section heading this row belongs to, as printed ("" before any)
    task: str  # the task column (a title or the whole task)
    content: str  # a separate 具体内容 column, "" when none
    lead: str
    responsible: str
    co: str
    deadline: str
    deadline_date: dt.date | None = None


@dataclass
class TaskTable:
    columns: dict[str, int]
    rows: list[TableRow] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # in order of appearance
    header_text: str = ""


def _norm(cell: str) -> str:
    return re.sub(r"\s+", "", cell or "")


def match_columns(cells: list[str], patterns: list[tuple[str, re.Pattern]], *, norm=None) -> dict[str, int]:
    """A header row's columns by what they hold: each cell (normalised by ``norm``, default no white space;
    at most 12 characters, as a header cell is) takes the first kind of ``patterns`` it matches that no earlier
    cell took. Shared by the plan's tables and the indicator tables (``assessment.importer``)."""
    norm = norm or _norm
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = norm(cell)
        if not text or len(text) > 12:
            continue
        for kind, pattern in patterns:
            if kind not in columns and pattern.search(text):
                columns[kind] = index
                break
    return columns


def header_columns(cells: list[str]) -> dict[str, int]:
    """Which column holds what, from a header row; {} when the row is not a task table's header."""
    columns = match_columns(cells, HEADERS)
    if "task" not in columns and "content" in columns:
        columns["task"] = columns.pop("content")
    others = {"number", "lead", "responsible", "co", "deadline"} & columns.keys()
    return columns if "task" in columns and others else {}


def _sub_header_name(top: str, below: str) -> str | None:
    """What a second header row's cell names under the cell above it: "牵头" under a merged "责任单位" is
    牵头单位, "配合" is 配合单位; None when the cell names no column (it is data)."""
    for candidate in (below, below + "单位", top + below):
        if len(candidate) <= 12 and any(pattern.search(candidate) for _, pattern in HEADERS):
            return candidate
    return None


def two_row_header_columns(top: list[str], below: list[str]) -> dict[str, int]:
    """The columns of a header over two rows — a merged "责任单位" over "牵头 | 配合", 序号 and 任务 merged down —
    or {} when ``below`` is not a second header row. Merged cells read as the same text in each column they
    span (python-docx and ``xlsx_sheets`` both give it so)."""
    named = {
        kind
        for cell in top
        for kind, pattern in HEADERS
        if _norm(cell) and len(_norm(cell)) <= 12 and pattern.search(_norm(cell))
    }
    if len(named) < 2:
        return {}  # the upper row is not a header (e.g. the table's title merged across it)
    names: list[str] = []
    split = False
    for index in range(max(len(top), len(below))):
        upper = _norm(top[index]) if index < len(top) else ""
        lower = _norm(below[index]) if index < len(below) else ""
        if not lower or lower == upper:
            names.append(upper)
            continue
        name = _sub_header_name(upper, lower)
        if name is None:
            return {}
        names.append(name)
        split = True
    return header_columns(names) if split else {}


def find_task_table(rows: list[list[str]]) -> TaskTable | None:
    """The task table in a grid of cells (a Word table or a worksheet), or None."""
    for start, cells in enumerate(rows[:8]):
        below = rows[start + 1] if start + 1 < len(rows) else []
        columns = two_row_header_columns(cells, below)
        if columns:
            return _read_rows(rows, start, columns, header_rows=2)
        columns = header_columns(cells)
        if columns:
            return _read_rows(rows, start, columns)
    return None


def _cell(cells: list[str], columns: dict[str, int], kind: str) -> str:
    index = columns.get(kind)
    if index is None or index >= len(cells):
        return ""
    return (cells[index] or "").strip()


def _read_rows(rows: list[list[str]], start: int, columns: dict[str, int], header_rows: int = 1) -> TaskTable:
    table = TaskTable(columns=columns, header_text=" | ".join(c for c in rows[start] if c))
    headers = [[_norm(c) for c in row] for row in rows[start : start + header_rows]]
    section = ""
    for cells in rows[start + header_rows :]:
        cells = [(c or "").strip() for c in cells]
        filled = [c for c in cells if c]
        if not filled or header_columns(cells) == columns or [_norm(c) for c in cells] in headers:
            continue  # an empty row, or the header repeated on the next page
        task = _cell(cells, columns, "task")
        content = _cell(cells, columns, "content")
        number = _cell(cells, columns, "number")
        distinct = list(dict.fromkeys(filled))
        lone = len(distinct) == 1 and not distinct[0].isdigit()
        if lone and (len(filled) > 1 or not task or SECTION_NUMBER.match(distinct[0])):
            # A merged row across the table (or a lone heading in the first column): a section.
            section = distinct[0]
            table.sections.append(section)
            continue
        category = _cell(cells, columns, "category")
        if category and category != section:
            section = category
            table.sections.append(section)
        if not task and not content:
            continue
        table.rows.append(
            TableRow(
                number=number,
                section=section,
                task=task,
                content=content,
                lead=_cell(cells, columns, "lead"),
                responsible=_cell(cells, columns, "responsible"),
                co=_cell(cells, columns, "co"),
                deadline=_cell(cells, columns, "deadline"),
            )
        )
    return table


def split_section_heading(text: str) -> tuple[str, str]:
    """'一、政治引领工程' → ('一', '政治引领工程'); '进机关' → ('', '进机关')."""
    m = SECTION_NUMBER.match(text)
    if not m:
        return "", text.strip()
    return m.group(1) or m.group(2), text[m.end() :].strip()


# --------------------------------------------------------------------------------------------------
# Reading the grids


def docx_blocks(document) -> list[tuple[str, object]]:
    """The body in order: ("p", text) for a paragraph, ("tbl", rows of cell texts) for a table."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[tuple[str, object]] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(("p", Paragraph(child, document).text))
        elif tag == "tbl":
            rows = []
            for row in Table(child, document).rows:
                rows.append([cell.text.strip() for cell in row.cells])
            blocks.append(("tbl", rows))
    return blocks


def xlsx_sheets(data: bytes) -> list[list[list[str]]]:
    """Every worksheet as rows of cell texts, merged cells filled with their top-left value."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), data_only=True)
    sheets = []
    for sheet in workbook.worksheets:
        merged = {}
        for area in sheet.merged_cells.ranges:
            value = sheet.cell(area.min_row, area.min_col).value
            for row in range(area.min_row, area.max_row + 1):
                for col in range(area.min_col, area.max_col + 1):
                    merged[(row, col)] = value
        rows = []
        for r, row in enumerate(sheet.iter_rows(), start=1):
            rows.append([_text(merged.get((r, c), cell.value)) for c, cell in enumerate(row, start=1)])
        sheets.append(rows)
    return sheets


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
