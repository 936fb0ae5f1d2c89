"""Reads an implementation plan (实施方案) from a .docx or .txt file into plain dataclasses.

Pure functions, no database: ``parse_plan_file(name, data)`` or ``parse_plan_text(text)`` return a
``ParsedPlan``. Matching the names in it to ``Unit`` rows and writing the campaign is ``tasks.plan_import``.

What real plans look like, and so what this tolerates:
- the task part is a top heading such as 三、主要任务, or the whole body when the plan has no such heading;
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
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from campaign.errors import DomainError

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
                    ParsedTask(**{**t, "targets": [target(x) for x in t["targets"]]}) for t in data["tasks"]
                ],
                "skipped": [Skipped(**s) for s in data["skipped"]],
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
    """The document's text, one paragraph a line. Raises PlanParseError with a message for the office."""
    lower = (name or "").lower()
    if not data or not data.strip():
        raise PlanParseError("上传的文件是空的，请选择实施方案的 Word(.docx) 或文本(.txt) 文件。")
    if len(data) > MAX_FILE_BYTES:
        raise PlanParseError("文件超过 10MB，实施方案文件不应这么大，请确认选择的文件是否正确。")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise PlanParseError(
            "这是旧版 Word(.doc) 文件，暂不支持。请在 Word 或 WPS 中“另存为”.docx 格式后再上传。"
        )
    if _looks_like_image(data):
        raise PlanParseError("上传的文件是图片，不是实施方案文档。请上传 Word(.docx) 或文本(.txt) 文件。")
    if lower.endswith(".docx"):
        return _docx_text(data)
    if lower.endswith(".txt"):
        return _plain_text(data)
    if data[:4] == b"PK\x03\x04":
        return _docx_text(data)
    raise PlanParseError("只支持 Word(.docx) 或文本(.txt) 格式的实施方案。")


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(
        (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
    ) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    bad = PlanParseError("文件不是有效的 Word(.docx) 文档，无法读取（可能已损坏，或是其他格式改了扩展名）。")
    if data[:4] != b"PK\x03\x04":
        raise bad
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a zip that is not a Word document
        raise bad from exc
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines += Paragraph(child, document).text.split("\n")
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = list(dict.fromkeys(cell.text.strip() for cell in row.cells))
                lines.append(" | ".join(c for c in cells if c))
    return "\n".join(lines)


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
    ("demo_sites", "示范点", "个", "by_date", r"示范(?:点|单位|村|社区|街区|学校|企业|景区)"),
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
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<uom>" + MEASURE + r")"
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


def _scope(subject: str, task_title: str) -> dict:
    norm = subject.replace("（", "(").replace("）", ")")
    if not norm:
        if task_title.startswith("进") and len(task_title) > 1:
            return {"scope": "each_responsible", "scope_label": "各" + task_title[1:]}
        return {"scope": "city", "scope_label": "全市"}
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
    text: str, *, task_title: str, plan_end: dt.date | None
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
        scope = _scope(subject, task_title)
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
CITY = re.compile(r"^(?:中共)?(.{2,8}?(?:自治州|地区|市|州|盟|县|区|旗))")
SHORT_TITLE = re.compile(r"“[^”]+”(?:工程|活动|行动|计划)")

TASK_HEADINGS = re.compile(
    r"任务|活动内容|工作内容|创建内容|主要内容|重点工作|主要措施|具体措施|工作措施|创建措施|举措"
)
STEP_HEADINGS = re.compile(r"步骤|阶段|时间安排|进度安排")
GOAL_HEADINGS = re.compile(r"总体要求|指导思想|总体目标")
NOT_TASKS = re.compile(r"总体要求|指导思想|基本原则|目标|步骤|阶段|时间安排|保障|要求|组织领导")


def parse_plan_file(name: str, data: bytes) -> ParsedPlan:
    plan = parse_plan_text(read_plan_file(name, data))
    plan.source_name = name
    return plan


def parse_plan_text(text: str) -> ParsedPlan:
    lines = clean_lines(text)
    if not lines:
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

    goal = ""
    for start, end in parts:
        if GOAL_HEADINGS.search(classified[start].body) and start + 1 < end:
            paragraphs = [c.body for c in classified[start + 1 : end] if c.level == "plain"]
            goal = paragraphs[0] if paragraphs else classified[start + 1].body
            break

    phases: list[ParsedPhase] = []
    for start, end in parts:
        if STEP_HEADINGS.search(classified[start].body) and not TASK_HEADINGS.search(classified[start].body):
            phases += _phases(classified[start + 1 : end], skipped)

    task_parts = [
        (s, e)
        for s, e in parts
        if "任务" in classified[s].body
        or (TASK_HEADINGS.search(classified[s].body) and not NOT_TASKS.search(classified[s].body))
    ]
    section_level_override = None
    if task_parts:
        region = [line for s, e in task_parts for line in classified[s + 1 : e]]
        for s, e in parts:
            if (
                (s, e) not in task_parts
                and not GOAL_HEADINGS.search(classified[s].body)
                and not (STEP_HEADINGS.search(classified[s].body))
            ):
                skipped.append(
                    Skipped(
                        f"{classified[s].number}、{classified[s].body}",
                        f"共{e - s - 1}段",
                        "不属于任务部分（如保障措施），未导入",
                    )
                )
    elif parts:
        # No heading names the tasks: the top headings that are not preamble are the sections.
        task_parts = [(s, e) for s, e in parts if not NOT_TASKS.search(classified[s].body)]
        region = [line for s, e in task_parts for line in classified[s:e]]
        if not any(line.level == "paren_cn" for line in region):
            section_level_override = "top"
    else:
        region = classified[body_start:]

    starts_on = min((p.starts_on for p in phases), default=None)
    ends_on = max((p.ends_on for p in phases), default=None)
    if not phases:
        warnings.append("未找到带日期的实施步骤（阶段），请在确认导入前填写创建活动的起止日期。")
        ends_on = _latest_year_end(text)

    rules: list[str] = []
    sections, tasks = _sections_and_tasks(region, skipped, warnings, rules, section_level_override, ends_on)
    if not tasks:
        raise PlanParseError(
            "未在文件中找到编号的任务（如“1.…”）。请确认上传的是实施方案全文，任务应按“（一）…”“1.…”编号。"
        )
    plan_title = (
        re.sub(r"(?:实施方案|工作方案|活动方案|行动方案|方案|实施意见)$", "", document_title)
        or document_title
    )
    city = CITY.match(plan_title)
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
    )


def _find_title(lines: list[str]) -> tuple[str, int]:
    for i, line in enumerate(lines[:60]):
        if "《" in line or _classify(line).level != "plain":
            continue
        if TITLE.match(line):
            return line, i
    for line in lines[:20]:
        m = re.search(r"《(.+?(?:方案|意见))》", line)
        if m:
            return m.group(1), -1
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

    numbers = [int(t["number"]) if t["number"].isdigit() else None for t in raw_tasks]
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
        text = "\n".join(text_lines).strip()
        if text and not text.endswith(("。", "；", ";", "！", "？")):
            text += "。"
        title = text.split("。", 1)[0].split("\n", 1)[0].strip()
        notes = []
        section = sections[raw["section"] - 1] if raw["section"] else None
        if not names and section and section.names:
            names = list(section.names)
            notes.append("责任单位取自所属工程/活动的标题")
        names = list(dict.fromkeys(names))
        if not names and not raw.get("rule_names"):
            notes.append("未列明责任单位，导入后请在后台补充")
        elif not names:
            notes.append("未单独列明责任单位，仅有统一要求的单位，无牵头单位")
        if len(title) > 200:
            notes.append("标题超过200字，已截断")
            title = title[:200]
        targets, bad = extract_targets(text, task_title=title, plan_end=plan_end)
        for clause, reason in bad:
            skipped.append(Skipped(f"任务{number}", clause, reason))
        if raw["section"] == 0:
            notes.append("不属于任何工程/活动")
        tasks.append(
            ParsedTask(
                number=number,
                label=raw["label"],
                section_order=raw["section"],
                title=title,
                text=text,
                names=names,
                rule_names=list(raw.get("rule_names", [])),
                targets=targets,
                notes=notes,
            )
        )
    if tasks and any(t.section_order == 0 for t in tasks):
        # Tasks before the first heading (or a plan without headings) go into one section of their own.
        sections.insert(0, ParsedSection(order=0, numeral="", title="主要任务", numeral_inferred=True))
        for section in sections:
            section.order += 1
        for task in tasks:
            task.section_order += 1
        warnings.append("部分任务不在任何工程/活动标题之下，已归入“主要任务”。")
    for section in sections:
        if not any(t.section_order == section.order for t in tasks):
            warnings.append(f"（{section.numeral}）{section.title[:30]} 下没有编号任务。")
    return sections, tasks


def _numeral(n: int) -> str:
    if n <= 10:
        return CN_NUMERALS[n - 1]
    if n < 20:
        return "十" + CN_NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUMERALS[tens - 1] + "十" + (CN_NUMERALS[ones - 1] if ones else "")
