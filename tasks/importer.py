"""Reads an implementation plan (实施方案) from a .docx, .xlsx or .txt file into plain dataclasses.

Pure functions, no database: ``parse_plan_file(name, data)`` or ``parse_plan_text(text)`` return a
``ParsedPlan``. Matching the names in it to ``Unit`` rows and writing the campaign is ``tasks.plan_import``.

What real plans look like, and so what this tolerates:
- text copied from a document-sharing site is hard-wrapped at a fixed width with no line breaks at headings
  ("二、主要任务（一）…工程1.坚持…" on one line): lines of the wrap width are joined again and the text is
  cut where a heading or item number follows a sentence end, a heading or a 责任单位 clause and is the
  number expected next (so "2025年1.5万人", "第1.2条", "2023.10" are never cut);
- the task part is the chapter whose content is numbered measures, whatever its heading says (三、主要任务,
  三、具体要求, 四、工作措施 …), or the whole body when the plan has no such chapter;
- numbers missing, repeated or out of order: every item is kept, renumbered in order, with a warning;
- a title ends at the first "。" or at a half-width ". " / "．" followed by more text;
- the tasks may be a table (任务分工表) in a .docx or .xlsx instead: see ``tasks.importer_tables``;
- sections are （一）…（八）, sometimes with the numeral missing ("()大力开展…"), tasks are "1." items
  (numbering may restart under each section), deeper levels ("（1）", "①") belong to the task above them;
- a task ends with its 责任单位 clause in any of the shapes typed by hand: 责任单位 / 责任单住, with a
  comma, a colon or nothing after it, inside full- or half-width parentheses, the closing one sometimes
  missing; unit names may themselves contain parentheses (市委党校(行政学院), 各县(市、区)党委和人民政府);
- a rule such as "以下任务均需各县(市、区)…落实,不再一一列出" makes those units responsible for every
  task from there on without naming them again;
- page numbers of the printed original survive inside the text ("打一12一造").

What cannot be placed is returned in ``ParsedPlan.skipped`` with the reason, for the preview to show.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from campaign.errors import DomainError

from .importer_tables import TaskTable, docx_blocks, find_task_table, split_section_heading, xlsx_sheets

MAX_FILE_BYTES = 10 * 1024 * 1024
CN_DIGITS = "零一二三四五六七八九"
CN_NUMERALS = "一二三四五六七八九十"


class PlanParseError(DomainError):
    """The file cannot be read as a plan; the message tells the office what to do."""

    code = "plan_parse_error"


# --------------------------------------------------------------------------------------------------
# Result types


@dataclass
class ParsedPhase:
    order: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    description: str = ""


@dataclass
class ParsedSection:
    order: int
    numeral: str
    title: str
    short_title: str = ""
    numeral_inferred: bool = False
    names: list[str] = field(default_factory=list)  # a 责任单位 clause on the heading, inherited by its tasks


@dataclass
class ParsedTarget:
    metric_code: str
    metric_name: str
    unit_of_measure: str
    value: Decimal
    comparison: str  # "gte" | "eq"
    scope: str  # "each_unit" | "city" | "city_district" | "each_responsible"
    scope_label: str
    period_kind: str  # "by_date" | "per_year" | "per_semester"
    due_on: dt.date | None
    source_text: str
    unit_names: list[str] = field(default_factory=list)  # named units, e.g. 崆峒区、华亭市
    unit_group: str = ""  # "" | "all_counties" | "districts" | "others"
    group_suffixes: list[str] = field(default_factory=list)  # for "others": 其他县(市) → ["县", "市"]


@dataclass
class ParsedTask:
    number: int
    label: str  # the numbering as printed, e.g. "（八）3"
    section_order: int
    title: str
    text: str
    names: list[str] = field(default_factory=list)  # named 责任单位 in order; names[0] is the lead
    rule_names: list[str] = field(default_factory=list)  # units made responsible by a rule ("以下任务均需…")
    targets: list[ParsedTarget] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deadline: dt.date | None = None  # from a 完成时限 column or "到2025年底" in the text
    deadline_text: str = ""  # as printed

    @property
    def deadline_in_text(self) -> bool:
        return not self.deadline_text or self.deadline_text in self.text

    @property
    def import_text(self) -> str:
        """The task's text as imported. A Task has no deadline of its own: a 完成时限 that only a table column
        gives is kept at the end of the text, so the office and the units still read it."""
        if self.deadline_in_text:
            return self.text
        return f"{self.text}（完成时限：{self.deadline_text}）"


@dataclass
class Skipped:
    where: str
    text: str
    reason: str


@dataclass
class ParsedPlan:
    document_title: str
    title: str
    city: str
    issued_on: dt.date | None
    goal: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    phases: list[ParsedPhase]
    sections: list[ParsedSection]
    tasks: list[ParsedTask]
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # the rules that extend responsibility, as printed
    mentions_office: bool = False  # the plan sets up a 创建工作办公室
    source_name: str = ""
    plan_targets: list[ParsedTarget] = field(
        default_factory=list
    )  # promises of the plan as a whole (总体要求)

    @property
    def plan_targets_outside_goal(self) -> list[ParsedTarget]:
        return [t for t in self.plan_targets if t.source_text not in self.goal]

    @property
    def import_goal(self) -> str:
        """The 总体要求 as imported. A target of the plan as a whole belongs to no task, and a Target belongs to
        one, so none is created for it; its sentence is kept in the goal (once), where the office reads it and
        can add it to a task in the portal."""
        extra = list(dict.fromkeys(t.source_text for t in self.plan_targets_outside_goal))
        return "\n".join([self.goal, *extra]) if self.goal else "\n".join(extra)

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> ParsedPlan:
        def date(value):
            return dt.date.fromisoformat(value) if value else None

        def target(t: dict) -> ParsedTarget:
            return ParsedTarget(**{**t, "value": Decimal(t["value"]), "due_on": date(t["due_on"])})

        return cls(
            **{
                **data,
                "issued_on": date(data["issued_on"]),
                "starts_on": date(data["starts_on"]),
                "ends_on": date(data["ends_on"]),
                "phases": [
                    ParsedPhase(**{**p, "starts_on": date(p["starts_on"]), "ends_on": date(p["ends_on"])})
                    for p in data["phases"]
                ],
                "sections": [ParsedSection(**s) for s in data["sections"]],
                "tasks": [
                    ParsedTask(
                        **{
                            **t,
                            "targets": [target(x) for x in t["targets"]],
                            "deadline": date(t.get("deadline")),
                        }
                    )
                    for t in data["tasks"]
                ],
                "skipped": [Skipped(**s) for s in data["skipped"]],
                "plan_targets": [target(x) for x in data.get("plan_targets", [])],
            }
        )

    @property
    def all_names(self) -> list[str]:
        """Every unit name the plan uses, in order of first appearance."""
        names: list[str] = []
        for task in self.tasks:
            names += task.names + task.rule_names
            for target in task.targets:
                names += target.unit_names
        for section in self.sections:
            names += section.names
        return list(dict.fromkeys(names))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


# --------------------------------------------------------------------------------------------------
# Reading the file


def read_plan_file(name: str, data: bytes) -> str:
    """The document's text, one paragraph (or table row, cells joined by " | ") a line.

    Raises PlanParseError with a message for the office.
    """
    text, _ = _read_document(name, data)
    return text


def _read_document(name: str, data: bytes) -> tuple[str, list[TaskTable]]:
    """The prose of the document, one paragraph a line, and the task tables in it (tables win for tasks)."""
    lower = (name or "").lower()
    if not data or not data.strip():
        raise PlanParseError("上传的文件是空的，请选择实施方案的 Word(.docx) 或文本(.txt) 文件。")
    if len(data) > MAX_FILE_BYTES:
        raise PlanParseError("文件超过 10MB，实施方案文件不应这么大，请确认选择的文件是否正确。")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        if lower.endswith(".xls"):
            raise PlanParseError(
                "这是旧版 Excel(.xls) 文件，暂不支持。请在 Excel 或 WPS 中“另存为”.xlsx 格式后再上传。"
            )
        raise PlanParseError(
            "这是旧版 Word(.doc) 文件，暂不支持。请在 Word 或 WPS 中“另存为”.docx 格式后再上传。"
        )
    if _looks_like_image(data):
        raise PlanParseError("上传的文件是图片，不是实施方案文档。请上传 Word(.docx) 或文本(.txt) 文件。")
    if lower.endswith(".xlsx") or (data[:4] == b"PK\x03\x04" and "xl/workbook.xml" in zip_names(data)):
        return _xlsx_document(data)
    if lower.endswith(".docx"):
        return _docx_document(data)
    if lower.endswith(".txt"):
        return _plain_text(data), []
    if data[:4] == b"PK\x03\x04":
        return _docx_document(data)
    raise PlanParseError("只支持 Word(.docx)、Excel(.xlsx) 或文本(.txt) 格式的实施方案。")


def zip_names(data: bytes) -> set[str]:
    """The member names of a zip container (.docx / .xlsx are zips); empty when it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except zipfile.BadZipFile:
        return set()


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(
        (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
    ) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _docx_document(data: bytes) -> tuple[str, list[TaskTable]]:
    from docx import Document

    bad = PlanParseError("文件不是有效的 Word(.docx) 文档，无法读取（可能已损坏，或是其他格式改了扩展名）。")
    if data[:4] != b"PK\x03\x04":
        raise bad
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a zip that is not a Word document
        raise bad from exc
    lines: list[str] = []
    tables: list[TaskTable] = []
    for kind, content in docx_blocks(document):
        if kind == "p":
            lines += content.split("\n")
            continue
        table = find_task_table(content)
        if table is not None:
            tables.append(table)
            continue
        for row in content:
            cells = list(dict.fromkeys(cell for cell in row if cell))
            lines.append(" | ".join(cells))
    return "\n".join(lines), tables


def _xlsx_document(data: bytes) -> tuple[str, list[TaskTable]]:
    bad = PlanParseError(
        "文件不是有效的 Excel(.xlsx) 工作簿，无法读取（可能已损坏，或是其他格式改了扩展名）。"
    )
    if data[:4] != b"PK\x03\x04":
        raise bad
    try:
        sheets = xlsx_sheets(data)
    except Exception as exc:  # openpyxl raises several types for a zip that is not a workbook
        raise bad from exc
    lines: list[str] = []
    tables: list[TaskTable] = []
    for rows in sheets:
        table = find_task_table(rows)
        if table is not None:
            tables.append(table)
            # What stands above the header (the title row) is the document's prose.
            for cells in rows:
                if " | ".join(c for c in cells if c) == table.header_text:
                    break
                lines.append(" | ".join(dict.fromkeys(c for c in cells if c)))
            continue
        for cells in rows:
            lines.append(" | ".join(dict.fromkeys(c for c in cells if c)))
    return "\n".join(lines), tables


def _plain_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise PlanParseError(
        "无法识别文本文件的编码，或文件不是文本。请另存为 UTF-8 编码的 .txt，或直接上传 .docx。"
    )


# --------------------------------------------------------------------------------------------------
# Lines and numbering

TOP = re.compile(r"^([一二三四五六七八九十]{1,3})\s*[、.．]\s*(.+)$")
PAREN_CN = re.compile(r"^[(（]\s*([一二三四五六七八九十]{0,3})\s*[)）]\s*(.+)$")
ARABIC = re.compile(r"^(\d{1,3})\s*[.．、](?!\d)\s*(.+)$")
PAREN_AR = re.compile(r"^(?:[(（]\s*(\d{1,3})\s*[)）]|(\d{1,3})[)）])\s*(.+)$")
CIRCLED = re.compile(r"^([①-⑳])\s*(.+)$")

LEVELS = ("top", "paren_cn", "arabic", "paren_ar", "circled")

PAGE_NUMBER_LINE = re.compile(r"^[-—–一－\s]*(?:第\s*)?\d{1,3}\s*(?:页)?[-—–一－\s]*$")
# A page number of the printed original caught inside a sentence: 打一12一造 → 打造.
PAGE_ARTEFACT = re.compile(
    r"(?<=[\u4e00-\u9fff，。、,；;：:”“])\s?[-—－一]\s?\d{1,3}\s?[-—－一]\s?(?=[\u4e00-\u9fff“”])"
)


@dataclass
class _Line:
    level: str  # one of LEVELS or "plain"
    number: str
    body: str
    raw: str


def _classify(line: str) -> _Line:
    for level, pattern in (("paren_cn", PAREN_CN), ("top", TOP), ("paren_ar", PAREN_AR), ("arabic", ARABIC)):
        m = pattern.match(line)
        if m:
            if level == "paren_ar":
                return _Line(level, m.group(1) or m.group(2), m.group(3).strip(), line)
            return _Line(level, m.group(1), m.group(2).strip(), line)
    m = CIRCLED.match(line)
    if m:
        return _Line("circled", m.group(1), m.group(2).strip(), line)
    return _Line("plain", "", line, line)


def clean_lines(text: str) -> list[str]:
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", "").strip()
        if not line or PAGE_NUMBER_LINE.match(line):
            continue
        lines.append(PAGE_ARTEFACT.sub("", line))
    return lines


# --------------------------------------------------------------------------------------------------
# Hard-wrapped and run-in text

# Where a heading or item may begin inside a line. The lookbehinds keep "2023.10", "第1.2条" and
# "1.5万人" whole: a number glued to a digit or a point before it, or followed by a digit, is no item.
RUN_IN = re.compile(
    r"(?<![一二三四五六七八九十])(?P<top>[一二三四五六七八九十]{1,3})\s*[、.．](?![\d])"
    r"|[(（]\s*(?P<pcn>[一二三四五六七八九十]{0,3})\s*[)）]"
    r"|(?<![\d.．])(?P<ar>\d{1,2})\s*(?:[.．](?![\d.．])|、)"
    r"|[(（]\s*(?P<par>\d{1,2})\s*[)）]"
)
RANK = {"top": 0, "paren_cn": 1, "arabic": 2, "paren_ar": 3, "circled": 4, "plain": 9}
SENTENCE_END = "。；;！!？?：:.．"
CLOSERS = ")）”’」』"
# A top heading run into its first paragraph ("一、总体要求以习近平新时代…"): the heading is one of these.
KNOWN_TOP_HEADING = re.compile(
    r"^(?:总体要求|指导思想|基本原则|(?:工作|主要|总体|创建|发展)目标|目标任务|实施步骤|实施范围|时间安排|进度安排"
    r"|(?:主要|重点|工作|创建|具体)任务|具体要求|(?:工作|主要|具体|保障|推进)措施|具体举措|工作要求|组织领导"
    r"|活动内容|工作内容|创建内容)"
)


def _unwrap(lines: list[str]) -> list[str]:
    """Joins text hard-wrapped at a fixed width: a line of the wrap width continues on the next one.

    Only when most long lines have (about) the same length, which a written plan never has.
    """
    long = [len(line) for line in lines if len(line) >= 40]
    if len(long) < 3:
        return lines
    width = Counter(long).most_common(1)[0][0]
    wrapped = sum(1 for n in long if width - 2 <= n <= width)
    if wrapped < 3 or wrapped * 2 < len(long):
        return lines
    out, buffer = [], ""
    for line in lines:
        buffer += line
        if not width - 2 <= len(line) <= width:
            out.append(buffer)
            buffer = ""
    if buffer:
        out.append(buffer)
    return out


class _Numbering:
    """The numbers seen so far per level, to accept only the number expected next inside a line."""

    def __init__(self) -> None:
        self.last = {"top": 0, "paren_cn": 0, "arabic": 0, "paren_ar": 0}
        self.fresh = {level: True for level in self.last}  # a higher heading came since this level's last

    def expects(self, level: str, number: int | None) -> bool:
        last = self.last[level]
        if number is None:  # "()" with the numeral lost
            return level == "paren_cn"
        if number == 0:
            return False
        if level == "top":
            return number in (last + 1, last + 2)
        if number == 1 and (self.fresh[level] or last == 0):
            return True
        return max(1, last - 1) <= number <= last + 3

    def accept(self, level: str, number: int | None) -> None:
        if level not in self.last:
            return
        self.last[level] = number if number is not None else self.last[level] + 1
        self.fresh[level] = False
        for lower in self.last:
            if RANK[lower] > RANK[level]:
                self.fresh[lower] = True
                if level == "top":
                    self.last[lower] = 0


def _marker(m: re.Match) -> tuple[str, int | None]:
    if m.group("top") is not None:
        return "top", _cn_value(m.group("top"))
    if m.group("pcn") is not None:
        return "paren_cn", _cn_value(m.group("pcn"))
    if m.group("ar") is not None:
        return "arabic", int(m.group("ar"))
    return "paren_ar", int(m.group("par"))


def _line_number(line: _Line) -> int | None:
    if line.number.isdigit():
        return int(line.number)
    return _cn_value(line.number)


def _cn_value(text: str) -> int | None:
    """'十二' → 12; None for what is not a Chinese numeral ("一一", "")."""
    try:
        return _cn_number(text) if text else None
    except ValueError:
        return None


def _may_start_here(before: str, level_before: str, level: str) -> bool:
    """May an item of ``level`` start right after ``before`` (the current piece of the line so far)?"""
    stripped = before.rstrip()
    if not stripped:
        return True
    if stripped[-1] in SENTENCE_END:
        return True
    if stripped[-1] in CLOSERS and len(stripped) > 1 and stripped[-2] in SENTENCE_END:
        return True
    tail = re.split(r"。", stripped)[-1]
    if RESP_WORD.search(tail) and (level != "top" or stripped[-1] in CLOSERS):
        return True  # a 责任单位 clause ends the paragraph, often with no full stop at all
    # A heading run into its first item: "（一）…加强和完善党对民族工作的全面领导1.坚持主线思维。"
    return (
        RANK[level_before] < RANK[level] <= RANK["paren_ar"] and "。" not in stripped and len(stripped) <= 70
    )


def _split_known_heading(piece: str) -> list[str]:
    line = _classify(piece)
    if line.level != "top":
        return [piece]
    m = KNOWN_TOP_HEADING.match(line.body)
    rest = line.body[m.end() :] if m else ""
    if not m or len(rest) < 6 or rest[0] in "，,、和及与（(：:。":
        return [piece]
    return [piece[: len(piece) - len(rest)], rest]


def segment_lines(lines: list[str]) -> list[str]:
    """Cuts each line where a heading or an item starts inside it (run-in text)."""
    numbering = _Numbering()
    out: list[str] = []
    for line in lines:
        first = _classify(line)
        if first.level in numbering.last:
            numbering.accept(first.level, _line_number(first))
        cuts, start, level_before = [0], 0, first.level
        for m in RUN_IN.finditer(line):
            if m.start() <= start:
                continue
            level, number = _marker(m)
            if not _may_start_here(line[start : m.start()], level_before, level):
                continue
            if not numbering.expects(level, number):
                continue
            numbering.accept(level, number)
            cuts.append(m.start())
            start, level_before = m.start(), level
        cuts.append(len(line))
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = line[a:b].strip()
            if piece:
                out += _split_known_heading(piece)
    return out


# --------------------------------------------------------------------------------------------------
# Dates

_DATE = r"(?:(?P<{p}y>\d{{4}})\s*年)?\s*(?P<{p}m>\d{{1,2}})\s*月(?:\s*(?P<{p}d>\d{{1,2}})\s*日)?(?:上旬|中旬|下旬|初|中|底|末)?"
DATE_RANGE = re.compile(
    _DATE.format(p="a") + r"\s*(?:至|到|—+|–|-|－|~|～)\s*" + _DATE.format(p="b") + r"(?:前)?"
)
DEADLINE = re.compile(r"(?:到|至|在|于)?(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?(?:底|末|年底)?(?:前|以前)?")


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def parse_date_range(text: str) -> tuple[dt.date, dt.date] | None:
    """'2023年6月至7月' → (2023-06-01, 2023-07-31); '2023年7月至2025年3月'; '2025年3月至12月'."""
    m = DATE_RANGE.search(text)
    if not m or not m.group("ay"):
        return None
    y1, m1 = int(m.group("ay")), int(m.group("am"))
    d1 = int(m.group("ad")) if m.group("ad") else 1
    m2 = int(m.group("bm"))
    y2 = int(m.group("by")) if m.group("by") else (y1 if m2 >= m1 else y1 + 1)
    try:
        start = dt.date(y1, m1, d1)
        end = dt.date(y2, m2, int(m.group("bd")) if m.group("bd") else _last_day(y2, m2))
    except ValueError:
        return None
    return (start, end) if start <= end else None


def _deadline(text: str) -> dt.date | None:
    m = re.search(r"(?:到|至|在|于)(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?(?:底|末)?(?:前|以前)?", text)
    if not m:
        m = re.search(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?(?:底|末)?前", text)
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else 12
    if not 1 <= month <= 12:
        return None
    return dt.date(year, month, _last_day(year, month))


# --------------------------------------------------------------------------------------------------
# Unit names and the 责任单位 clause

RESP_WORD = re.compile(r"责任单[位住]|牵头单[位住]|责任部门|牵头部门")
RULE = re.compile(
    r"以下(?:各项)?(?:任务|工作)(?:均|都)(?:需|须|要|由)(?P<who>.+?)(?:共同)?(?:负责)?(?:落实|承担|参与|负责)"
    r"[,，、]?(?:不再(?:一一|逐一|逐项)?列(?:出|举)|不再一一注明)?[。.;；]?"
)
OPEN = "(（"
CLOSE = ")）"


def split_names(clause: str) -> list[str]:
    """'市委组织部、各县(市、区)党委和人民政府)' → the names, split on 、 and commas outside parentheses.

    A closing parenthesis with no opening one is the one that closes the whole clause and is dropped;
    names are returned with half-width parentheses.
    """
    clause = clause.strip().lstrip(",，:：;； ").rstrip("。.;；,， ")
    names, depth, current = [], 0, ""
    for ch in clause:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            if depth == 0:
                continue
            depth -= 1
        if depth == 0 and ch in "、,，;；":
            names.append(current)
            current = ""
            continue
        current += ch
    names.append(current)
    out = []
    for name in names:
        name = name.strip().replace("（", "(").replace("）", ")").replace(" ", "")
        name = re.sub(r"^(?:和|及|以及)", "", name)
        name = re.sub(r"(?:等(?:单位|部门)?|牵头|配合|负责)$", "", name)
        if name.count("(") > name.count(")"):
            name += ")"
        if name:
            out.append(name)
    return out


def _split_clause(body: str) -> tuple[str, list[str]]:
    """Takes the trailing 责任单位 clause off a paragraph: (the rest, names with the lead first)."""
    matches = list(RESP_WORD.finditer(body))
    for m in reversed(matches):
        rest = body[m.end() :]
        # A clause runs to the end of the paragraph and holds only names: no full stop in the middle.
        if "。" in rest.rstrip("。. )）"):
            continue
        start = m.start()
        if start > 0 and body[start - 1] in OPEN:
            start -= 1
        elif start > 0 and body[start - 1] not in "。；;.!！?？ ":
            continue  # "明确责任单位和责任人" is a sentence, not a clause
        clause = body[m.start() : len(body)]
        names = _clause_names(clause)
        if not names:
            continue
        return body[:start].rstrip(), names
    return body, []


def _clause_names(clause: str) -> list[str]:
    """'责任单位:A、B' or '牵头单位:A;配合单位:B、C' → [A, B, C] (lead first)."""
    parts = re.split(r"(责任单[位住]|牵头单[位住]|配合单[位住]|责任部门|牵头部门|配合部门)", clause)
    leads, others = [], []
    for i in range(1, len(parts), 2):
        names = split_names(parts[i + 1])
        (leads if "牵头" in parts[i] else others).extend(names)
    if not leads and others:
        leads = others[:1]
        others = others[1:]
    return list(dict.fromkeys(leads + others))


# --------------------------------------------------------------------------------------------------
# Quantitative targets

# code, name, unit of measure, default period, keywords (first match wins)
METRICS: list[tuple[str, str, str, str, str]] = [
    ("sites_provincial", "省级示范点", "个", "by_date", r"省级.*示范点|示范点.*省级"),
    ("sites_city", "市级示范点", "个", "by_date", r"市级.*示范点|示范点.*市级"),
    (
        "demo_sites",
        "示范点",
        "个",
        "by_date",
        r"示范(?:点|单位|村|社区|街区|学校|企业|景区|机关|乡镇|街道|家庭|窗口|园区)",
    ),
    ("class_hours", "专题教育课时", "课时", "per_year", r"课时"),
    ("meetings", "研究民族工作会议", "次", "per_year", r"研究民族工作|研究部署|专题会议|常委会会议|常务会议"),
    ("lectures", "宣讲/讲座", "场次", "per_year", r"讲座|宣讲|报告会"),
    ("practice_events", "主题实践创建活动", "次", "per_year", r"实践创建|主题实践"),
    ("exchange_events", "青少年交流活动", "次", "per_year", r"交流|结对|联谊"),
    ("study_sessions", "专题学习", "次", "per_year", r"学习"),
    ("materials", "宣传资料", "份", "per_year", r"宣传资料|宣传册|资料"),
    ("boards", "展板", "块", "per_year", r"展板"),
    ("slogans", "标语", "条", "per_year", r"标语"),
    ("participants", "参与", "人次", "per_year", r"人次"),
    ("funding", "资金投入", "万元", "per_year", r"万元"),
]
METRIC_INFO = {code: (name, uom, period) for code, name, uom, period, _ in METRICS}

MEASURE = r"课时|场次|人次|万元|个|次|场|期|份|块|条|所|家|篇|处|项"
QUANTITY = re.compile(
    r"(?<![第\d.．])(?P<num>\d+(?:\.\d+)?)\s*(?P<uom>" + MEASURE + r")"
    r"|(?:(?<=不少于)|(?<=至少)|(?<=不低于)|(?<=超过))(?P<cn>[一二两三四五六七八九十]{1,3})(?P<cnuom>"
    + MEASURE
    + r")"
    r"|(?P<cn2>[一二两三四五六七八九十]{1,3})(?P<cnuom2>" + MEASURE + r")(?=以上|及以上)"
)
AT_LEAST = re.compile(r"以上|至少|不少于|不低于|超过|多于")
SUBJECT_END = re.compile(
    r"每年|每学年|每学期|每半年|每季度|每月|年均|[到至在于]\d{4}\s*年|\d{4}\s*年(?:底|末)|不少于|至少|不低于"
    r"|打造|建成|建设|创建|培育|命名|开展|(?<!党)组织|举办|安排|召开|新建|设立|开设|\d"
)
# The plan's own level as a whole: 市上 in a city's plan, 县上/全县 in a county's.
CITY_SUBJECTS = {"市上", "市级", "全市", "市本级", "县上", "全县", "县级", "区上", "全区"}
CITY_DISTRICT_SUBJECTS = {"市区联合", "市区共同", "市、区联合", "市区合力"}
ALL_COUNTIES = re.compile(r"各县\((?:市、?区|区、?市|市|区)\)|各县市区|各县区|各县市")
OTHER_COUNTIES = re.compile(r"(?:其他|其余)县(?:\((.+?)\))?")
PLACE = re.compile(r".+[区县市旗]")


def _cn_number(text: str) -> int:
    text = text.replace("两", "二")
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGITS.index(tens) if tens else 1) * 10 + (CN_DIGITS.index(ones) if ones else 0)
    return CN_DIGITS.index(text)


def _split_outside(text: str, separators: str) -> list[str]:
    parts, depth, current = [], 0, ""
    quote = False
    for ch in text:
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE and depth:
            depth -= 1
        elif ch == "“":
            quote = True
        elif ch == "”":
            quote = False
        if depth == 0 and not quote and ch in separators:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _quantities(text: str) -> list[re.Match]:
    return list(QUANTITY.finditer(text))


def _value(m: re.Match) -> tuple[Decimal, str]:
    if m.group("num"):
        return Decimal(m.group("num")), m.group("uom")
    if m.group("cn"):
        return Decimal(_cn_number(m.group("cn"))), m.group("cnuom")
    return Decimal(_cn_number(m.group("cn2"))), m.group("cnuom2")


def _metric_for(segment: str, clause_rest: str, uom: str) -> str | None:
    if uom == "课时":
        return "class_hours"
    if uom == "人次":
        return "participants"
    if uom == "万元":
        return "funding"
    for text in (segment, clause_rest):
        for code, _, _, _, keywords in METRICS:
            if re.search(keywords, text):
                if code in ("sites_provincial", "sites_city") and not re.search(r"省级|市级", segment):
                    continue
                return code
    return None


def _subject(clause: str) -> tuple[str, str]:
    """'崆峒区、华亭市打造示范点3个以上' → ('崆峒区、华亭市', '打造示范点3个以上')."""
    clause = re.sub(r"^(?:[(（]\d{1,3}[)）]|\d{1,3}[)）.．、]|[①-⑳])\s*", "", clause)  # a sub-item's number
    clause = re.sub(r"^(?:其中|同时|并且|并|力争|确保|要|积极)", "", clause)
    m = SUBJECT_END.search(clause)
    if not m:
        return "", clause
    subject = re.sub(r"(?:要|均|应|需|须|都|也|积极|每)+$", "", clause[: m.start()]).strip()
    return subject, clause[m.start() :]


def _scope(subject: str, task_title: str, whole: str = "全市") -> dict:
    norm = subject.replace("（", "(").replace("）", ")")
    if not norm:
        if task_title.startswith("进") and len(task_title) > 1:
            return {"scope": "each_responsible", "scope_label": "各" + task_title[1:]}
        return {"scope": "city", "scope_label": whole}
    if norm in CITY_SUBJECTS:
        return {"scope": "city", "scope_label": subject}
    if norm in CITY_DISTRICT_SUBJECTS:
        return {"scope": "city_district", "scope_label": subject, "unit_group": "districts"}
    if ALL_COUNTIES.fullmatch(norm):
        return {"scope": "each_unit", "scope_label": subject, "unit_group": "all_counties"}
    m = OTHER_COUNTIES.fullmatch(norm)
    if m:
        suffixes = ["县"] + [s for s in re.split(r"[、,，]", m.group(1) or "") if s in ("市", "区", "旗")]
        return {
            "scope": "each_unit",
            "scope_label": subject,
            "unit_group": "others",
            "group_suffixes": suffixes,
        }
    parts = _split_outside(norm, "、")
    if parts and all(len(p) >= 2 and PLACE.fullmatch(p) and not p.startswith("各") for p in parts):
        return {"scope": "each_unit", "scope_label": subject, "unit_names": parts}
    return {"scope": "each_responsible", "scope_label": subject}


def extract_targets(
    text: str, *, task_title: str, plan_end: dt.date | None, whole: str = "全市"
) -> tuple[list[ParsedTarget], list[tuple[str, str]]]:
    """The measurable promises in a task's text, and the quantities that could not be read (text, reason)."""
    targets: list[ParsedTarget] = []
    skipped: list[tuple[str, str]] = []
    for clause in _split_outside(text, ",，;；。"):
        found = _quantities(clause)
        if not found:
            continue
        subject, rest = _subject(clause)
        if len(found) > 1:
            between = clause[found[0].end() : found[-1].start()]
            if "或" in between:
                skipped.append((clause, "一句中有几个可选的数量（“或”），无法确定统计口径"))
                continue
            segments = re.split(r"、(?=\d|[一二两三四五六七八九十]+个)", rest)
            if len(segments) != len(found) or any(len(_quantities(s)) != 1 for s in segments):
                skipped.append((clause, "一句中有多个数量，无法逐一对应到指标"))
                continue
        else:
            segments = [rest]
        deadline = _deadline(clause)
        scope = _scope(subject, task_title, whole)
        for segment in segments:
            quantity = _quantities(segment)[0]
            value, uom = _value(quantity)
            code = _metric_for(segment, rest, uom)
            if code is None:
                skipped.append((clause, f"未能识别“{quantity.group(0)}”对应的统计指标"))
                continue
            name, metric_uom, default_period = METRIC_INFO[code]
            if re.search(r"每学期", clause):
                period, due = "per_semester", None
            elif re.search(r"每年|每学年|年均", clause):
                period, due = "per_year", None
            elif deadline:
                period, due = "by_date", deadline
            else:
                period, due = default_period, (plan_end if default_period == "by_date" else None)
            # A count promised by a deadline ("到2025年底打造7个") is a floor; a bare quota
            # ("市上打造示范点5个") is an allocation to be met as stated.
            comparison = "gte" if AT_LEAST.search(segment) or deadline else "eq"
            source = clause if len(segments) == 1 else segment
            targets.append(
                ParsedTarget(
                    metric_code=code,
                    metric_name=name,
                    unit_of_measure=metric_uom,
                    value=value,
                    comparison=comparison,
                    period_kind=period,
                    due_on=due,
                    source_text=source[:300],
                    **scope,
                )
            )
    return targets, skipped


# --------------------------------------------------------------------------------------------------
# The plan

TITLE = re.compile(r"^.{4,80}?(?:实施方案|工作方案|活动方案|行动方案|方案|实施意见)$")
ISSUED = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
CITY = re.compile(r"^(?:中共)?(.{2,8}?(?:自治州|地区|市|州|盟|县|区|旗|镇|乡))")
SHORT_TITLE = re.compile(r"“[^”]+”(?:工程|活动|行动|计划)")

TASK_HEADINGS = re.compile(
    r"任务|活动内容|工作内容|创建内容|主要内容|重点工作|主要措施|具体措施|工作措施|创建措施|举措"
)
STEP_HEADINGS = re.compile(r"步骤|阶段|时间安排|进度安排")
GOAL_HEADINGS = re.compile(r"总体要求|指导思想|(?:总体|工作|主要|创建)目标")
NOT_TASKS = re.compile(r"总体要求|指导思想|基本原则|目标|步骤|阶段|时间安排|保障|要求|组织领导")


SAFEGUARD_HEADINGS = re.compile(r"保障|组织领导|工作要求|有关要求|督[查导]|考核|注意事项")
PREAMBLE_HEADINGS = re.compile(r"总体要求|指导思想|基本原则|目标")
MEASURE_LEVELS = ("arabic", "paren_ar", "circled")


def parse_plan_file(name: str, data: bytes) -> ParsedPlan:
    text, tables = _read_document(name, data)
    plan = _parse(text, tables)
    plan.source_name = name
    return plan


def parse_plan_text(text: str) -> ParsedPlan:
    return _parse(text, [])


def _parse(text: str, tables: list[TaskTable]) -> ParsedPlan:
    tables = [t for t in tables if t.rows]
    lines = segment_lines(_unwrap(clean_lines(text)))
    if not lines and not tables:
        raise PlanParseError("文件中没有文字内容，请确认上传的是实施方案全文。")
    classified = [_classify(line) for line in lines]

    document_title, title_idx = _find_title(lines)
    issued_on = None
    for line in lines[: title_idx + 3 if title_idx >= 0 else len(lines)]:
        m = ISSUED.match(line)
        if m:
            try:
                issued_on = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                issued_on = None
    body_start = title_idx + 1 if title_idx >= 0 else 0

    # Top-level parts: 一、总体要求 / 二、实施步骤 / 三、主要任务 / 四、保障措施.
    tops = [i for i in range(body_start, len(lines)) if classified[i].level == "top"]
    parts = [(i, tops[k + 1] if k + 1 < len(tops) else len(lines)) for k, i in enumerate(tops)]

    skipped: list[Skipped] = []
    warnings: list[str] = []

    def heading(s: int) -> str:
        return classified[s].body

    goal = ""
    goal_lines: list[_Line] = []
    for start, end in parts:
        if GOAL_HEADINGS.search(heading(start)) and start + 1 < end:
            if not goal:
                paragraphs = [c.body for c in classified[start + 1 : end] if c.level == "plain"]
                goal = paragraphs[0] if paragraphs else classified[start + 1].body
            goal_lines += classified[start + 1 : end]

    def is_steps(s: int) -> bool:
        return bool(STEP_HEADINGS.search(heading(s)) and not TASK_HEADINGS.search(heading(s)))

    phases: list[ParsedPhase] = []
    for start, end in parts:
        if is_steps(start):
            phases += _phases(classified[start + 1 : end], skipped)

    def has_measures(s: int, e: int) -> bool:
        levels = [c.level for c in classified[s + 1 : e]]
        return any(lv in MEASURE_LEVELS for lv in levels) or levels.count("paren_cn") >= 2

    # The chapter that holds the tasks is named so (三、主要任务) or is known by its content: numbered
    # measures under any heading (三、具体要求, 四、工作措施 …) that is not the preamble, the steps or the
    # closing safeguards.
    named_parts = [
        (s, e)
        for s, e in parts
        if "任务" in heading(s) or (TASK_HEADINGS.search(heading(s)) and not NOT_TASKS.search(heading(s)))
    ]
    content_parts = [
        (s, e)
        for s, e in parts
        if (s, e) not in named_parts
        and has_measures(s, e)
        and not is_steps(s)
        and not GOAL_HEADINGS.search(heading(s))
        and not PREAMBLE_HEADINGS.search(heading(s))
        and not SAFEGUARD_HEADINGS.search(heading(s))
    ]
    section_level_override = None
    if named_parts or len(content_parts) == 1:
        task_parts = sorted(named_parts + content_parts)
        region = [line for s, e in task_parts for line in classified[s + 1 : e]]
        for s, e in parts:
            if (s, e) not in task_parts and not GOAL_HEADINGS.search(heading(s)) and not is_steps(s):
                skipped.append(
                    Skipped(
                        f"{classified[s].number}、{heading(s)}",
                        f"共{e - s - 1}段",
                        "不属于任务部分（如保障措施），未导入",
                    )
                )
    elif parts:
        # Several chapters of measures and none named for tasks: the chapters are groups (二、进机关 …).
        task_parts = [(s, e) for s, e in parts if not NOT_TASKS.search(heading(s))]
        region = [line for s, e in task_parts for line in classified[s:e]]
        if not any(line.level == "paren_cn" for line in region):
            section_level_override = "top"
    else:
        task_parts = []
        region = classified[body_start:]

    starts_on = min((p.starts_on for p in phases), default=None)
    ends_on = max((p.ends_on for p in phases), default=None)
    if not phases:
        warnings.append("未找到带日期的实施步骤（阶段），请在确认导入前填写创建活动的起止日期。")
        ends_on = _latest_year_end(text)

    plan_title = (
        re.sub(r"(?:实施方案|工作方案|活动方案|行动方案|方案|实施意见)$", "", document_title)
        or document_title
    )
    if tables:
        plan_title = (
            re.sub(r"(?:重点)?(?:任务分工(?:方案|表)?|任务清单|工作台账)$", "", plan_title) or plan_title
        )
    city = CITY.match(plan_title)
    # A target without a subject is the plan's own level: 全市 in a city's plan, 全县 in a county's.
    whole = "全" + city.group(1)[-1] if city and city.group(1)[-1] in "市县区镇乡旗州" else "全市"

    rules: list[str] = []
    if tables:
        sections, tasks = _table_sections_and_tasks(tables, skipped, warnings, ends_on, whole)
        prose_items = [line for line in region if line.level in MEASURE_LEVELS]
        if prose_items and task_parts:
            warnings.append(
                f"正文中另有{len(prose_items)}个编号事项，文件中有任务分工表，任务以表格为准，正文编号事项未导入。"
            )
        if ends_on is None:
            ends_on = max((t.deadline for t in tasks if t.deadline), default=None)
    else:
        loose_title = "主要任务"
        if task_parts and (named_parts or content_parts) and len(task_parts) == 1:
            loose_title = re.sub(r"^(?:主要|重点|具体|工作)?任务$", "主要任务", heading(task_parts[0][0]))[
                :200
            ]
        sections, tasks = _sections_and_tasks(
            region, skipped, warnings, rules, section_level_override, ends_on, whole, loose_title
        )
    if not tasks:
        raise PlanParseError(_nothing_found(classified, parts, body_start))
    plan_targets: list[ParsedTarget] = []
    if goal_lines:
        goal_text = "。".join(line.body.rstrip("。") for line in goal_lines)
        plan_targets, bad = extract_targets(goal_text, task_title="", plan_end=ends_on, whole=whole)
        skipped += [Skipped("总体要求", clause, reason) for clause, reason in bad]
    return ParsedPlan(
        document_title=document_title,
        title=plan_title[:200],
        city=city.group(1) if city else "",
        issued_on=issued_on,
        goal=goal,
        starts_on=starts_on,
        ends_on=ends_on,
        phases=phases,
        sections=sections,
        tasks=tasks,
        skipped=skipped,
        warnings=warnings,
        rules=rules,
        mentions_office="创建工作办公室" in text,
        plan_targets=plan_targets,
    )


def _nothing_found(classified: list[_Line], parts: list[tuple[int, int]], body_start: int) -> str:
    """Why no task was found: what the document has and what is missing. Asks for numbering only when the
    document has none."""
    body = classified[body_start:]
    tops = sum(1 for line in body if line.level == "top")
    subs = sum(1 for line in body if line.level == "paren_cn")
    items = sum(1 for line in body if line.level in MEASURE_LEVELS)
    found = (
        f"找到{tops}个一级标题（如“一、…”）、{subs}个二级标题（如“（一）…”）、{items}个编号事项（如“1.…”）"
    )
    if not items and not subs:
        return (
            f"{found}，也没有包含“任务”“牵头单位”等列的任务分工表。"
            "未在文件中找到编号的任务（如“1.…”）。请确认上传的是实施方案全文，任务应按“（一）…”“1.…”编号。"
        )
    holding = [
        f"“{classified[s].number}、{classified[s].body[:20]}”"
        for s, e in parts
        if any(line.level in MEASURE_LEVELS + ("paren_cn",) for line in classified[s + 1 : e])
    ]
    return (
        f"{found}，但编号事项都在{'、'.join(holding) or '标题'}下，这些部分是总体要求、实施步骤或保障措施，"
        "不作为任务导入；没有找到列出任务的部分，也没有任务分工表。"
        "请确认上传的是实施方案全文（含主要任务部分），或上传含“任务”“牵头单位”等列的任务分工表。"
    )


RUN_IN_TITLE = re.compile(r"^(.{4,80}?(?:实施方案|工作方案|活动方案|行动方案))(?=为|根据|按照|结合|现|\s)")


def _find_title(lines: list[str]) -> tuple[str, int]:
    if not lines:
        return "", -1
    for i, line in enumerate(lines[:60]):
        if "《" in line or _classify(line).level != "plain":
            continue
        if TITLE.match(line):
            return line, i
    for line in lines[:20]:
        m = re.search(r"《(.+?(?:方案|意见))》", line)
        if m:
            return m.group(1), -1
    m = RUN_IN_TITLE.match(lines[0])  # a title run into the preamble of hard-wrapped text
    if m:
        return m.group(1), 0
    return lines[0][:200], 0


def _latest_year_end(text: str) -> dt.date | None:
    years = [int(y) for y in re.findall(r"到\s*(\d{4})\s*年", text)]
    return dt.date(max(years), 12, 31) if years else None


def _phases(lines: list[_Line], skipped: list[Skipped]) -> list[ParsedPhase]:
    phases = []
    for line in lines:
        text = line.body
        dates = parse_date_range(text)
        if not dates:
            if line.level != "plain" and "阶段" in text:
                skipped.append(Skipped("实施步骤", line.raw, "阶段没有可识别的起止日期，未导入"))
            continue
        m = DATE_RANGE.search(text)
        head = text[: m.start()].rstrip("(（:： ")
        name = re.split(r"[(（:：，,。]", head, maxsplit=1)[0].strip() or f"第{len(phases) + 1}阶段"
        tail = text[m.end() :]
        description = re.sub(r"^[)）]?\s*[:：。.,，]?\s*", "", tail).strip()
        phases.append(ParsedPhase(len(phases) + 1, name[:50], dates[0], dates[1], description))
    return phases


def _sections_and_tasks(
    region: list[_Line],
    skipped: list[Skipped],
    warnings: list[str],
    rules: list[str],
    section_level: str | None,
    plan_end: dt.date | None,
    whole: str = "全市",
    loose_title: str = "主要任务",
) -> tuple[list[ParsedSection], list[ParsedTask]]:
    present = {line.level for line in region}
    task_level = next((lv for lv in ("arabic", "paren_ar", "circled") if lv in present), None)
    if task_level is None:
        return [], []
    if section_level is None:
        above = LEVELS[: LEVELS.index(task_level)]
        section_level = next((lv for lv in reversed(above) if lv in present), None)
    deeper = set(LEVELS[LEVELS.index(task_level) + 1 :])
    upper = set(LEVELS[: LEVELS.index(section_level)]) if section_level else set()

    # An unnumbered short line without a full stop followed directly by a task is a section heading
    # whose number was lost.
    def is_bare_heading(k: int) -> bool:
        line = region[k]
        return (
            section_level is not None
            and line.level == "plain"
            and len(line.body) <= 60
            and "。" not in line.body
            and not RESP_WORD.search(line.body)
            and not RULE.search(line.body)
            and k + 1 < len(region)
            and region[k + 1].level == task_level
        )

    sections: list[ParsedSection] = []
    raw_tasks: list[dict] = []
    group_title = ""
    current: dict | None = None
    rule_names: list[str] = []

    def where() -> str:
        if current:
            return f"任务{current['label']}"
        if sections:
            return f"（{sections[-1].numeral}）{sections[-1].title}"
        return "主要任务"

    for k, line in enumerate(region):
        if line.level in upper:
            group_title = line.body
            current = None
            warnings.append(f"发现三级以上编号：上级标题“{line.raw}”并入其下各工程/活动的标题。")
            continue
        if (section_level and line.level == section_level) or is_bare_heading(k):
            inferred = line.level == "plain" or not line.number
            numeral = line.number or _numeral(len(sections) + 1)
            title, names = _split_clause(line.body)
            title = title.rstrip("。")
            if group_title:
                title = f"{group_title}：{title}"
            short = SHORT_TITLE.search(title)
            sections.append(
                ParsedSection(
                    order=len(sections) + 1,
                    numeral=numeral,
                    title=title[:200],
                    short_title=short.group(0)[:40] if short else "",
                    numeral_inferred=inferred,
                    names=names,
                )
            )
            if inferred:
                warnings.append(
                    f"第{len(sections)}个工程/活动的标题缺少编号，已按顺序补为（{numeral}）：{title[:30]}"
                )
            current = None
            continue
        rule = RULE.search(line.body)
        if rule and line.level == "plain" and len(line.body) - len(rule.group(0)) < 5:
            # A rule on a line of its own applies to the tasks after it.
            rule_names = split_names(rule.group("who"))
            rules.append(f"{line.raw}（自其后的任务起适用）")
            continue
        if line.level == task_level:
            current = {"label": line.number, "section": len(sections), "lines": [line.body], "names": []}
            if sections:
                current["label"] = f"（{sections[-1].numeral}）{line.number}"
            raw_tasks.append(current)
            current["number"] = line.number
        elif current is not None and (line.level in deeper or line.level == "plain"):
            if line.level == "plain" and RESP_WORD.match(line.body.lstrip("(（")):
                current["names"] += _clause_names(line.body)
                continue
            current["lines"].append(line.raw if line.level in deeper else line.body)
        else:
            reason = (
                "位于第一个工程/任务之前，未归入任何任务"
                if not sections
                else "工程/活动标题下的说明文字，未作为任务导入"
            )
            skipped.append(Skipped(where(), line.raw, reason))
            continue
        # Rules inside a task apply from that task on.
        joined = "\n".join(current["lines"])
        rule = RULE.search(joined)
        if rule:
            rule_names = split_names(rule.group("who"))
            current["lines"] = [RULE.sub("", x).rstrip() for x in current["lines"]]
            rules.append(f"{rule.group(0)}（自任务{current['label']}起适用）")
        current["rule_names"] = rule_names

    _renumber_sections(sections, warnings)
    numbers = [int(t["number"]) if t["number"].isdigit() else None for t in raw_tasks]
    warnings += _numbering_problems(numbers, [t["section"] for t in raw_tasks], sections)
    renumber = numbers != list(range(1, len(raw_tasks) + 1))
    if renumber and raw_tasks:
        warnings.append(
            f"任务编号不是从1起连续编排（如各部分重新从1编号），已按出现顺序统一编为1—{len(raw_tasks)}。"
        )

    tasks: list[ParsedTask] = []
    for i, raw in enumerate(raw_tasks):
        number = i + 1 if renumber else numbers[i]
        names: list[str] = list(raw["names"])
        text_lines = []
        for body in raw["lines"]:
            body, clause_names = _split_clause(body)
            names += clause_names
            if body:
                text_lines.append(body)
        notes = []
        section = sections[raw["section"] - 1] if raw["section"] else None
        if not names and section and section.names:
            names = list(section.names)
            notes.append("责任单位取自所属工程/活动的标题")
        task = _make_task(
            number=number,
            label=raw["label"],
            section_order=raw["section"],
            text="\n".join(text_lines),
            names=names,
            rule_names=list(raw.get("rule_names", [])),
            notes=notes,
            skipped=skipped,
            plan_end=plan_end,
            whole=whole,
        )
        tasks.append(task)
    _gather_loose_tasks(sections, tasks, warnings, loose_title)
    return sections, tasks


def _gather_loose_tasks(
    sections: list[ParsedSection], tasks: list[ParsedTask], warnings: list[str], title: str = "主要任务"
) -> None:
    loose = [t for t in tasks if t.section_order == 0]
    if loose:
        # Tasks before the first heading (or a plan without headings) go into one section of their own.
        sections.insert(0, ParsedSection(order=0, numeral="", title=title, numeral_inferred=True))
        for section in sections:
            section.order += 1
        for task in tasks:
            task.section_order += 1
        if len(loose) == len(tasks):
            warnings.append(f"方案的任务没有分工程/活动，全部归入“{title}”。")
        else:
            warnings.append(f"部分任务不在任何工程/活动标题之下，已归入“{title}”。")
            for task in loose:
                task.notes.append(f"原文位于第一个工程/活动标题之前，已归入“{title}”")
    for section in sections:
        if not any(t.section_order == section.order for t in tasks):
            warnings.append(f"（{section.numeral}）{section.title[:30]} 下没有编号任务。")


# A title is the first sentence: it ends at "。" or at a half-width ". " / full-width "．" followed by text
# (mixed punctuation: "坚持主线思维. 坚持用…"), never at a decimal point ("1.5万").
TITLE_END = re.compile(r"。|(?<!\d)[.．](?=\s*[^\s\d.．。])|(?<=\d)[.．](?=\s*[^\s\d.．。%])")
TEXT_DEADLINE = re.compile(
    r"(?:到|至|于)\s*(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?\s*(?:底|末)?\s*(?:前|以前)?"
    r"|(\d{4})\s*年(?:\s*(\d{1,2})\s*月)?\s*(?:底|末)?\s*(?:前|以前)"
)


def _make_task(
    *,
    number: int,
    label: str,
    section_order: int,
    text: str,
    names: list[str],
    rule_names: list[str],
    notes: list[str],
    skipped: list[Skipped],
    plan_end: dt.date | None,
    title: str = "",
    deadline_text: str = "",
    whole: str = "全市",
) -> ParsedTask:
    """One task from its text and units: the title, the text ending in a full stop, notes and targets."""
    text = text.strip()
    if not title:
        first = text.split("\n", 1)[0]
        end = TITLE_END.search(first)
        title = (first[: end.start()] if end else first).strip()
        if end and end.group(0) != "。":
            # The title's own full stop, typed half-width: the text reads as the plan means it.
            text = title + "。" + text[end.end() :].lstrip()
    if text and not text.endswith(("。", "；", ";", "！", "？")):
        text += "。"
    names = list(dict.fromkeys(names))
    if not names and not rule_names:
        notes.append("未列明责任单位，请在导入预览中指定")
    elif not names:
        notes.append("未单独列明责任单位，仅有统一要求的单位，无牵头单位")
    if len(title) > 200:
        notes.append("标题超过200字，已截断")
        title = title[:200]
    deadline = None
    if deadline_text:
        deadline = parse_deadline(deadline_text)
    else:
        m = TEXT_DEADLINE.search(text)
        if m:
            deadline_text = m.group(0).strip()
            deadline = parse_deadline(deadline_text)
    targets, bad = extract_targets(text, task_title=title, plan_end=deadline or plan_end, whole=whole)
    for clause, reason in bad:
        skipped.append(Skipped(f"任务{number}", clause, reason))
    return ParsedTask(
        number=number,
        label=label,
        section_order=section_order,
        title=title,
        text=text,
        names=names,
        rule_names=rule_names,
        targets=targets,
        notes=notes,
        deadline=deadline,
        deadline_text=deadline_text,
    )


def parse_deadline(text: str) -> dt.date | None:
    """'2024年12月底前' / '到2025年底' / '2024.6' / '2024-06-30' → the last day it allows; None for
    '长期坚持'. Of several dates the latest counts (完成时限 is when it must all be done)."""
    found: list[dt.date] = []
    for m in re.finditer(
        r"(\d{4})\s*(?:年|[.．/-])\s*(?:(\d{1,2})\s*(?:月|[.．/-]|(?!\d))\s*(?:(\d{1,2})\s*日?)?)?", text
    ):
        year = int(m.group(1))
        month = int(m.group(2)) if m.group(2) else 12
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            continue
        day = int(m.group(3)) if m.group(3) else _last_day(year, month)
        try:
            found.append(dt.date(year, month, min(day, _last_day(year, month))))
        except ValueError:
            continue
    return max(found, default=None)


def _renumber_sections(sections: list[ParsedSection], warnings: list[str]) -> None:
    """Sections numbered （一）（二）（四）（四）: kept, all of them, numbered in order, with a warning."""
    printed = [s.numeral for s in sections]
    expected = [_numeral(i + 1) for i in range(len(sections))]
    if printed == expected:
        return
    problems = []
    values = [_cn_value(n) for n in printed]
    seen: set[int] = set()
    for i, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            problems.append(f"（{printed[i]}）重复")
        seen.add(value)
    known = [v for v in values if v is not None]
    missing = [_numeral(n) for n in range(1, max(known, default=0) + 1) if n not in seen]
    if missing:
        problems.append("缺少" + "".join(f"（{n}）" for n in missing))
    if known != sorted(known):
        problems.append("顺序颠倒")
    if not problems:
        return  # only numerals that were lost and have been filled in (already warned about)
    warnings.append(
        f"工程/活动标题编号有误（原文依次为{''.join(f'（{n}）' for n in printed)}：{'，'.join(problems)}），"
        f"全部{len(sections)}个均已保留，按出现顺序编为（一）至（{expected[-1]}）。"
    )
    for section, numeral in zip(sections, expected, strict=True):
        section.numeral = numeral


def _numbering_problems(
    numbers: list[int | None], section_of: list[int], sections: list[ParsedSection]
) -> list[str]:
    """Task numbers missing, repeated or out of order, said per section; nothing is dropped for it."""
    problems: list[str] = []
    expected, previous_section = 1, None
    for number, section in zip(numbers, section_of, strict=True):
        if number is None:
            continue
        if section != previous_section and number == 1:
            expected = 1
        previous_section = section
        where = (
            f"（{sections[section - 1].numeral}）{sections[section - 1].title[:20]}"
            if section
            else "任务部分"
        )
        if number == expected - 1:
            problems.append(f"{where}：编号{number}重复出现，两项都已导入。")
        elif number > expected:
            gap = "、".join(str(n) for n in range(expected, number))
            problems.append(f"{where}：缺少编号{gap}（原文从{expected - 1}跳到{number}），其后各项都已导入。")
        elif number < expected:
            problems.append(f"{where}：编号{number}出现在{expected - 1}之后（顺序颠倒），已按出现顺序导入。")
        expected = max(expected, number + 1)
    return problems


def _table_sections_and_tasks(
    tables: list[TaskTable],
    skipped: list[Skipped],
    warnings: list[str],
    plan_end: dt.date | None,
    whole: str = "全市",
) -> tuple[list[ParsedSection], list[ParsedTask]]:
    """Sections and tasks from task tables: 牵头单位 first, then 责任单位 and 配合单位."""
    sections: list[ParsedSection] = []
    order_of: dict[tuple[int, str], int] = {}
    rows = []
    for t, table in enumerate(tables):
        for heading in table.sections:
            if (t, heading) in order_of:
                continue
            numeral, title = split_section_heading(heading)
            short = SHORT_TITLE.search(title)
            sections.append(
                ParsedSection(
                    order=len(sections) + 1,
                    numeral=numeral or _numeral(len(sections) + 1),
                    title=title[:200],
                    short_title=short.group(0)[:40] if short else "",
                    numeral_inferred=not numeral,
                )
            )
            order_of[(t, heading)] = len(sections)
        rows += [(order_of.get((t, row.section), 0), row) for row in table.rows]
    _renumber_sections(sections, warnings)
    numbers = [int(row.number) if row.number.isdigit() else None for _, row in rows]
    warnings += _numbering_problems(numbers, [s for s, _ in rows], sections)
    renumber = numbers != list(range(1, len(rows) + 1))
    if renumber and rows:
        warnings.append(f"任务分工表的序号不是从1起连续编排，已按出现顺序统一编为1—{len(rows)}。")
    tasks = []
    for i, (section_order, row) in enumerate(rows):
        number = i + 1 if renumber else numbers[i]
        names = split_names(row.lead) + split_names(row.responsible) + split_names(row.co)
        title = ""
        text = row.task
        if row.content:
            title = row.task.rstrip("。；;. ")
            text = f"{title}。{row.content}"
        tasks.append(
            _make_task(
                number=number,
                label=row.number or str(number),
                section_order=section_order,
                text=text,
                names=names,
                rule_names=[],
                notes=[],
                skipped=skipped,
                plan_end=plan_end,
                title=title,
                deadline_text=row.deadline,
                whole=whole,
            )
        )
    _gather_loose_tasks(sections, tasks, warnings)
    return sections, tasks


def _numeral(n: int) -> str:
    if n <= 10:
        return CN_NUMERALS[n - 1]
    if n < 20:
        return "十" + CN_NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUMERALS[tens - 1] + "十" + (CN_NUMERALS[ones - 1] if ones else "")
