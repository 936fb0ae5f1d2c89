"""Reads an indicator table (测评指标体系) from a .docx, .xlsx or .txt file into plain rows; writes nothing.

Accepted shapes:

- a table (the first Word table or the first worksheet that has one; a .txt separated by tabs or commas) with
  the columns 序号 / 指标 / 分值 / 评分标准 / 佐证材料 — header names matched loosely (指标名称, 测评内容, 分数,
  评分细则, 佐证资料 …), in any order, after any title rows;
- a table with one column per level (一级指标 / 二级指标 / 三级指标, merged cells repeated) instead of 序号;
- a .txt numbered outline: one indicator per numbered line, its points as "（2分）", and lines beginning
  评分标准： / 佐证材料： under it.

The 序号 gives the level and the parent: dotted numbers (1 / 1.1 / 1.1.1) by their parts; a Chinese outline
(一、 / （一） / 1. / （1）) by the rank of its numeral style among the styles the file uses. Every indicator gets a
dotted code (一、→ 1, its （二）→ 1.2). ``ParsedSystem.errors`` block the import; ``warnings`` do not.
No Django models, no database: ``services.import_system`` writes what the office confirms.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from campaign.errors import DomainError
from tasks.importer import zip_names
from tasks.importer_tables import match_columns

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 2000
MAX_LEVEL = 3
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级"}
CODE_MAX_LENGTH = 20
TITLE_MAX_LENGTH = 300


class IndicatorParseError(DomainError):
    """The file cannot be read as an indicator table at all (wrong type, no table found)."""


# ------------------------------------------------------------------------------------------- results


@dataclass
class Row:
    line: int  # where the person finds it: the worksheet's row, the Word table's row, the text file's line
    number: str  # the 序号 as printed
    code: str  # the dotted code given to the indicator ("" when the number could not be read)
    title: str
    points: str | None  # as a decimal string; None when the cell is empty
    scoring_rule: str = ""
    evidence_expected: str = ""
    level: int = 0
    parent: str = ""  # the parent's code, "" for a 一级指标

    @property
    def points_decimal(self) -> Decimal | None:
        return None if self.points is None else Decimal(self.points)


@dataclass
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


@dataclass
class ParsedSystem:
    rows: list[Row] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    line_label: str = "行"  # "行" (worksheet, text) or "表格行" (Word)
    full_score: str = "100"

    @property
    def total(self) -> Decimal:
        return sum((row.points_decimal or Decimal(0) for row in self.leaves()), Decimal(0))

    def children_of(self, code: str) -> list[Row]:
        return [row for row in self.rows if row.parent == code and row.code]

    def leaves(self) -> list[Row]:
        parents = {row.parent for row in self.rows}
        return [row for row in self.rows if row.code and row.code not in parents]

    def branch_points(self, row: Row) -> Decimal:
        children = self.children_of(row.code)
        if not children:
            return row.points_decimal or Decimal(0)
        return sum((self.branch_points(child) for child in children), Decimal(0))

    def to_dict(self) -> dict:
        return {
            "rows": [asdict(row) for row in self.rows],
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
            "line_label": self.line_label,
            "full_score": self.full_score,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ParsedSystem:
        return cls(
            rows=[Row(**row) for row in data["rows"]],
            errors=[Problem(**p) for p in data["errors"]],
            warnings=[Problem(**p) for p in data["warnings"]],
            line_label=data.get("line_label", "行"),
            full_score=data.get("full_score", "100"),
        )


# ------------------------------------------------------------------------------------------- headers

COLUMN_PATTERNS: list[tuple[str, re.Pattern]] = [
    (
        "rule",
        re.compile(
            r"评分(?:标准|细则|办法|方法|要点|说明|依据)|计分(?:方法|办法|标准)|考核标准|测评(?:标准|方法)"
        ),
    ),
    ("evidence", re.compile(r"佐证|备查|证明材料|印证材料|支撑材料|材料清单|测评材料|^材料$")),
    ("points", re.compile(r"^(?:分值|分数|标准分|满分|权重|赋分|指标分值|基本分)$")),
    ("number", re.compile(r"^(?:序号|编号|代码|指标编号|指标序号|序)$")),
    ("level1", re.compile(r"^一级(?:指标)?(?:名称)?$")),
    ("level2", re.compile(r"^二级(?:指标)?(?:名称)?$")),
    ("level3", re.compile(r"^三级(?:指标)?(?:名称)?$")),
    ("title", re.compile(r"指标|测评内容|考核内容|评价内容|测评项目|考核项目|^项目$|^内容$|^名称$")),
]


def _norm(text: str) -> str:
    """A header as compared: no spaces or line breaks, no bracketed note such as （分） or (100分)."""
    text = re.sub(r"\s+", "", text or "")
    return re.sub(r"[(（][^)）]*[)）]", "", text)


def header_columns(cells: list[str]) -> dict[str, int]:
    """Which column holds what, from a header row; {} when the row is not an indicator table's header."""
    columns = match_columns(cells, COLUMN_PATTERNS, norm=_norm)
    has_levels = "level1" in columns and "level2" in columns
    has_title = "title" in columns or has_levels
    if has_title and ({"points", "number", "rule"} & columns.keys() or has_levels):
        return columns
    return {}


# ------------------------------------------------------------------------------------------- numbers

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
FULL_WIDTH = str.maketrans("０１２３４５６７８９．，（）", "0123456789.,()")

# A numeral at the start of a cell or line, by style. Ranks: the usual order of a Chinese outline.
NUMBER_STYLES: list[tuple[str, int, re.Pattern]] = [
    ("dotted", 0, re.compile(r"^(\d{1,3}(?:[.．]\d{1,3})+)[.．、]?(?=\s|[^\d.．]|$)")),
    ("cn", 1, re.compile(r"^([一二三四五六七八九十百]{1,4})\s*(?:[、.．]|$)")),
    ("paren_cn", 2, re.compile(r"^[(（]\s*([一二三四五六七八九十百]{1,4})\s*[)）]")),
    ("arabic", 3, re.compile(r"^(\d{1,3})(?:\s*[.．、](?!\d)|\s+|$)")),
    ("paren_arabic", 4, re.compile(r"^[(（]\s*(\d{1,3})\s*[)）]")),
    ("circled", 5, re.compile(f"^([{CIRCLED}])")),
]


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105."""
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS.get(ch, 0)
    return total + current


def read_number(text: str) -> tuple[str, int, list[int], str] | None:
    """(style, rank, the numbers, the rest of the text) for a numbered text; None when it has no number."""
    text = (text or "").strip().translate(FULL_WIDTH)
    for style, rank, pattern in NUMBER_STYLES:
        m = pattern.match(text)
        if not m:
            continue
        value = m.group(1)
        if style == "dotted":
            numbers = [int(part) for part in re.split(r"[.．]", value)]
        elif style in ("cn", "paren_cn"):
            numbers = [cn_number(value)]
        elif style == "circled":
            numbers = [CIRCLED.index(value) + 1]
        else:
            numbers = [int(value)]
        return style, rank, numbers, text[m.end() :].strip(" \t、.．:：")
    return None


POINTS = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:分)?$")
POINTS_IN_TEXT = re.compile(r"[(（]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]\s*$")


def read_points(text: str) -> tuple[str | None, str | None]:
    """(the points as a decimal string or None when empty, an error message or None)."""
    raw = (text or "").strip().translate(FULL_WIDTH).replace(" ", "")
    if not raw:
        return None, None
    m = POINTS.match(raw)
    if not m:
        return None, f"分值“{text.strip()}”不是数字（应填如 2 或 2.5）"
    value = Decimal(m.group(1))
    if value < 0:
        return None, f"分值“{text.strip()}”不能为负数"
    if value >= Decimal("10000") or value != value.quantize(Decimal("0.01")):
        return None, f"分值“{text.strip()}”超出范围（最多两位小数，小于 10000）"
    return f"{value.normalize():f}", None


# ------------------------------------------------------------------------------------------- reading files


def read_file(name: str, data: bytes) -> tuple[list[tuple[int, list[str]]], str] | list[str]:
    """The file's grid of cells as (row number, cells) with a label for its rows, or — for a .txt that is
    an outline, not a table — its lines."""
    if not data:
        raise IndicatorParseError(
            "上传的文件是空的，请选择指标体系的 Word(.docx)、Excel(.xlsx) 或文本(.txt) 文件。"
        )
    if len(data) > MAX_FILE_BYTES:
        raise IndicatorParseError("文件超过 10MB，请确认选择的文件是否正确。")
    lower = (name or "").lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IndicatorParseError(
            "这是旧版 Word(.doc) 或 Excel(.xls) 文件，暂不支持。请在 Word、Excel 或 WPS 中“另存为”.docx 或 .xlsx 后再上传。"
        )
    if data[:4] == b"%PDF":
        raise IndicatorParseError(
            "暂不支持 PDF 文件。请上传指标体系的 Word(.docx)、Excel(.xlsx) 或文本(.txt) 文件。"
        )
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n":
        raise IndicatorParseError(
            "上传的文件是图片，不是指标表。请上传 Word(.docx)、Excel(.xlsx) 或文本(.txt) 文件。"
        )
    if data[:2] == b"PK":
        names = zip_names(data)
        if any(n.startswith("word/") for n in names):
            return _docx_grid(data)
        if any(n.startswith("xl/") for n in names):
            return _xlsx_grid(data)
        raise IndicatorParseError("文件不是有效的 Word(.docx) 或 Excel(.xlsx) 文档，无法读取（可能已损坏）。")
    if lower.endswith((".docx", ".xlsx")):
        raise IndicatorParseError(
            "文件不是有效的 Word(.docx) 或 Excel(.xlsx) 文档，无法读取（可能已损坏，或是其他格式改了扩展名）。"
        )
    return _text_grid(data)


def _docx_grid(data: bytes):
    from docx import Document

    from tasks.importer_tables import docx_blocks

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a zip that is not a Word document
        raise IndicatorParseError("文件不是有效的 Word(.docx) 文档，无法读取（可能已损坏）。") from exc
    tables = [content for kind, content in docx_blocks(document) if kind == "tbl"]
    for rows in tables:
        if _find_header(list(enumerate(rows, start=1))) is not None:
            return list(enumerate(rows, start=1)), "表格第"
    if tables:
        raise IndicatorParseError(
            "Word 文档中的表格没有找到指标表的表头。表头应包含“序号”“指标”“分值”“评分标准”“佐证材料”等列。"
        )
    raise IndicatorParseError(
        "Word 文档中没有表格。请把指标体系做成一张表（序号 / 指标 / 分值 / 评分标准 / 佐证材料）。"
    )


def _xlsx_grid(data: bytes):
    from tasks.importer_tables import xlsx_sheets

    try:
        sheets = xlsx_sheets(data)
    except Exception as exc:  # openpyxl raises several types for a zip that is not a workbook
        raise IndicatorParseError("文件不是有效的 Excel(.xlsx) 工作簿，无法读取（可能已损坏）。") from exc
    if not sheets or not any(any(cells) for cells in sheets[0]):
        raise IndicatorParseError("Excel 工作簿的第一个工作表是空的。请把指标表放在第一个工作表中。")
    return list(enumerate(sheets[0], start=1)), "第"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise IndicatorParseError(
        "无法识别文本文件的编码，或文件不是文本。请另存为 UTF-8 编码的 .txt，或上传 .docx / .xlsx。"
    )


def _text_grid(data: bytes):
    text = _decode(data)
    lines = text.splitlines()
    for delimiter in ("\t", ","):
        grid = list(enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1))
        if _find_header(grid) is not None:
            return grid, "第"
    return lines


# ------------------------------------------------------------------------------------------- parsing


def parse_file(name: str, data: bytes, *, full_score: Decimal | str = "100") -> ParsedSystem:
    read = read_file(name, data)
    if isinstance(read, list):
        parsed = _parse_outline(read)
    else:
        grid, label = read
        parsed = _parse_table(grid)
        parsed.line_label = label
    parsed.full_score = f"{Decimal(str(full_score)).normalize():f}"
    _check(parsed)
    return parsed


def parse_text(text: str, *, full_score: Decimal | str = "100") -> ParsedSystem:
    return parse_file("indicators.txt", text.encode("utf-8"), full_score=full_score)


def _find_header(grid: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]] | None:
    for position, (_, cells) in enumerate(grid[:10]):
        columns = header_columns(cells)
        if columns:
            return position, columns
    return None


def _cell(cells: list[str], columns: dict[str, int], kind: str) -> str:
    index = columns.get(kind)
    if index is None or index >= len(cells):
        return ""
    return str(cells[index] or "").strip()


@dataclass
class _Raw:
    line: int
    number: str
    title: str
    points: str
    rule: str = ""
    evidence: str = ""
    path: tuple[str, ...] | None = None  # level columns: the titles from 一级 down to this row's own


def _parse_table(grid: list[tuple[int, list[str]]]) -> ParsedSystem:
    found = _find_header(grid)
    if found is None:
        raise IndicatorParseError(
            "没有找到指标表的表头。表头应包含“序号”“指标”“分值”“评分标准”“佐证材料”等列（名称相近即可）。"
        )
    start, columns = found
    header = [_norm(c) for c in grid[start][1]]
    raws: list[_Raw] = []
    seen_paths: set[tuple[str, ...]] = set()
    for line, cells in grid[start + 1 :]:
        cells = [str(c or "").strip() for c in cells]
        if not any(cells) or [_norm(c) for c in cells] == header:
            continue  # an empty row, or the header repeated on the next page
        if len(raws) >= MAX_ROWS:
            raise IndicatorParseError(f"指标表超过 {MAX_ROWS} 行，请确认选择的文件是否正确。")
        raw = _Raw(
            line=line,
            number=_cell(cells, columns, "number"),
            title=_cell(cells, columns, "title"),
            points=_cell(cells, columns, "points"),
            rule=_cell(cells, columns, "rule"),
            evidence=_cell(cells, columns, "evidence"),
        )
        if "level1" in columns:
            path = tuple(t for t in (_cell(cells, columns, k) for k in ("level1", "level2", "level3")) if t)
            if "title" in columns and raw.title and (not path or raw.title != path[-1]):
                path += (raw.title,)  # a 测评内容 column under the level columns is one level deeper
            # Each new title along the path is a new indicator; the deepest carries the row's points.
            for depth in range(1, len(path)):
                if path[:depth] not in seen_paths:
                    seen_paths.add(path[:depth])
                    raws.append(
                        _Raw(line=line, number="", title=path[depth - 1], points="", path=path[:depth])
                    )
            if not path:
                raws.append(raw)
                continue
            if path in seen_paths:
                continue  # the same indicator again (a merged cell over several rows)
            seen_paths.add(path)
            raw.path = path
            raw.title = path[-1]
        filled = [c for c in cells if c]
        if raw.path is None and len(filled) > 1 and len(set(filled)) == 1:
            # A merged row across the table ("一、组织领导（20分）"): an indicator with its number in the text.
            raw.number, raw.title, raw.points, raw.rule, raw.evidence = "", filled[0], "", "", ""
        raws.append(raw)
    parsed = ParsedSystem()
    _number_rows(raws, parsed)
    return parsed


def _parse_outline(lines: list[str]) -> ParsedSystem:
    raws: list[_Raw] = []
    target = "title"
    for line, text in enumerate(lines, start=1):
        text = text.strip().replace("\u3000", " ")
        if not text:
            continue
        label = re.match(
            r"^(评分标准|评分细则|评分办法|计分方法|考核标准|佐证材料|佐证资料|备查材料)\s*[:：]\s*", text
        )
        if label and raws:
            target = "evidence" if label.group(1)[:2] in ("佐证", "备查") else "rule"
            _append(raws[-1], target, text[label.end() :])
            continue
        if read_number(text) is not None:
            if len(raws) >= MAX_ROWS:
                raise IndicatorParseError(f"指标超过 {MAX_ROWS} 条，请确认选择的文件是否正确。")
            body, rule, evidence = _split_inline(text)
            raws.append(_Raw(line=line, number="", title=body, points="", rule=rule, evidence=evidence))
            target = "title"
            continue
        if raws:
            _append(raws[-1], target, text)
        # Text before the first numbered line is the document's title and introduction.
    if not raws:
        raise IndicatorParseError(
            "没有找到指标。文本文件应是一张表（用制表符或逗号分隔，首行为“序号、指标、分值、评分标准、佐证材料”），"
            "或每行一个带序号的指标（如“一、”“（一）”“1.”或“1.1.1”），分值写作“（2分）”。"
        )
    parsed = ParsedSystem()
    _number_rows(raws, parsed)
    return parsed


def _split_inline(text: str) -> tuple[str, str, str]:
    """'1. 成立领导小组（2分）。评分标准：…。佐证材料：…' → the title part, the rule, the evidence."""
    rule = evidence = ""
    m = re.search(r"(佐证材料|佐证资料|备查材料)\s*[:：]", text)
    if m:
        text, evidence = text[: m.start()], text[m.end() :].strip()
    text = text.strip().rstrip("；;。 ")
    m = re.search(r"(评分标准|评分细则|评分办法|计分方法|考核标准)\s*[:：]", text)
    if m:
        text, rule = text[: m.start()], text[m.end() :].strip()
    return text.strip().rstrip("；;。"), rule, evidence


def _append(raw: _Raw, target: str, text: str) -> None:
    if target == "rule":
        raw.rule = f"{raw.rule}\n{text}".strip() if raw.rule else text
    elif target == "evidence":
        raw.evidence = f"{raw.evidence}\n{text}".strip() if raw.evidence else text
    else:
        raw.title = f"{raw.title}{text}"


def _number_rows(raws: list[_Raw], parsed: ParsedSystem) -> None:
    """Level, code and parent for every row, from its 序号 (or the number at the start of its title, or its
    place in the level columns); the row's points out of its cell or its title's "（2分）"."""
    read: list[tuple[_Raw, tuple[str, int, list[int], str] | None]] = []
    for raw in raws:
        number = read_number(raw.number) if raw.number else None
        if number is None and not raw.number and raw.path is None:
            number = read_number(raw.title)
            if number is not None:
                raw.number = raw.title[: len(raw.title) - len(number[3])].strip() if number[3] else raw.title
                raw.title = number[3]
        elif number is not None and not raw.title:
            raw.title = number[3]
        read.append((raw, number))
    dotted = any(n is not None and n[0] == "dotted" for _, n in read)
    outline_ranks = sorted(
        {n[1] for _, n in read if n is not None and not (dotted and n[0] in ("dotted", "arabic"))}
    )
    stack: list[tuple[int, str]] = []  # (level, code) of the open rows
    counters: dict[str, int] = {}
    by_path: dict[tuple[str, ...], str] = {}
    for raw, number in read:
        title = raw.title.strip()
        points_text = raw.points
        m = POINTS_IN_TEXT.search(title)
        if m:
            title = title[: m.start()].strip()
            if not points_text:
                points_text = m.group(1)
        points, points_error = read_points(points_text)
        row = Row(
            line=raw.line,
            number=raw.number,
            code="",
            title=title,
            points=points,
            scoring_rule=raw.rule.strip(),
            evidence_expected=raw.evidence.strip(),
        )
        parsed.rows.append(row)
        if points_error:
            parsed.errors.append(Problem(raw.line, points_error))
        if not title:
            parsed.errors.append(Problem(raw.line, "没有指标名称"))
        elif len(title) > TITLE_MAX_LENGTH:
            parsed.errors.append(Problem(raw.line, f"指标名称超过 {TITLE_MAX_LENGTH} 字"))

        if raw.path is not None:  # level columns
            row.level = len(raw.path)
            parent = by_path.get(raw.path[:-1], "") if row.level > 1 else ""
            if number is not None and number[0] == "dotted":
                row.code = ".".join(str(n) for n in number[2])
            else:
                counters[parent] = counters.get(parent, 0) + 1
                row.code = f"{parent}.{counters[parent]}" if parent else str(counters[parent])
            row.parent = parent
            by_path[raw.path] = row.code
            continue
        if number is None:
            if raw.number:
                parsed.errors.append(
                    Problem(raw.line, f"无法识别序号“{raw.number}”（应为 1、1.1、1.1.1 或 一、（一）、1.）")
                )
            else:
                parsed.errors.append(
                    Problem(raw.line, f"“{_short(title)}”没有序号，无法确定它的层级和上级指标")
                )
            continue
        style, rank, numbers, _ = number
        if dotted and style in ("dotted", "arabic"):
            row.level = len(numbers)
            row.code = ".".join(str(n) for n in numbers)
            row.parent = ".".join(str(n) for n in numbers[:-1])
        else:
            row.level = outline_ranks.index(rank) + 1
            while stack and stack[-1][0] >= row.level:
                stack.pop()
            if 1 < row.level <= MAX_LEVEL and (not stack or stack[-1][0] != row.level - 1):
                above = LEVEL_NAMES.get(row.level - 1, f"{row.level - 1}级")
                parsed.errors.append(
                    Problem(raw.line, f"序号“{raw.number}”前面缺少{above}指标，无法确定它的上级")
                )
                row.parent = stack[-1][1] if stack else ""
            else:
                row.parent = stack[-1][1] if stack else ""
            row.code = f"{row.parent}.{numbers[0]}" if row.parent else str(numbers[0])
            stack.append((row.level, row.code))


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _check(parsed: ParsedSystem) -> None:
    """Errors and warnings on the whole tree: duplicate codes, depth, missing parents, leaves without points,
    branch points that disagree with their leaves, the total against the full score."""
    if not parsed.rows:
        raise IndicatorParseError("指标表中没有指标行。")
    seen: dict[str, int] = {}
    codes = {row.code for row in parsed.rows}
    for row in parsed.rows:
        if not row.code:
            continue
        if row.code in seen:
            parsed.errors.append(
                Problem(row.line, f"序号“{row.number or row.code}”与第 {seen[row.code]} 行重复")
            )
        else:
            seen[row.code] = row.line
        if len(row.code) > CODE_MAX_LENGTH:
            parsed.errors.append(Problem(row.line, f"序号“{row.code}”过长（最多 {CODE_MAX_LENGTH} 个字符）"))
        if row.level > MAX_LEVEL:
            parsed.errors.append(
                Problem(
                    row.line,
                    f"“{_short(row.title)}”是第 {row.level} 级指标；指标体系最多三级（一级、二级、三级）",
                )
            )
        if row.parent and row.parent not in codes:
            parsed.errors.append(
                Problem(row.line, f"序号“{row.number or row.code}”的上级指标“{row.parent}”不存在")
            )
    for row in parsed.rows:
        if not row.code:
            continue
        children = parsed.children_of(row.code)
        if not children and row.points is None:
            parsed.errors.append(Problem(row.line, f"末级指标“{_short(row.title)}”没有分值"))
        elif children and row.points is not None:
            total = parsed.branch_points(row)
            given = row.points_decimal
            if given != total:
                parsed.warnings.append(
                    Problem(
                        row.line,
                        f"“{_short(row.title)}”标注 {_fmt(given)} 分，其下末级指标合计 {_fmt(total)} 分；"
                        "上级指标的分值按末级指标合计计算",
                    )
                )
    without_rule = [row for row in parsed.leaves() if not row.scoring_rule]
    if without_rule:
        lines = "、".join(str(row.line) for row in without_rule[:10]) + (
            "等" if len(without_rule) > 10 else ""
        )
        parsed.warnings.append(Problem(None, f"{len(without_rule)} 个末级指标没有评分标准（第 {lines} 行）"))
    full = Decimal(parsed.full_score)
    if parsed.total != full:
        parsed.warnings.append(
            Problem(None, f"末级指标合计 {_fmt(parsed.total)} 分，与满分 {_fmt(full)} 分不一致")
        )


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def parsed_points(value: str | None) -> Decimal:
    try:
        return Decimal(value) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
