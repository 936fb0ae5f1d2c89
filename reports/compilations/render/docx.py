"""Word documents with python-docx: editable drafts for people who finish them in Word or WPS.

Laid out after GB/T 9704-2012 (党政机关公文格式): A4; margins top 37, bottom 35, left 28, right 26 mm (a
156 × 225 mm type area); body 3号 (16 pt) 仿宋 on a 28 characters × 22 lines grid; the title 2号 (22 pt)
小标宋; 一、 headings 黑体, (一) headings 楷体, 1. and (1) in the body face; page numbers 4号 (14 pt) 宋体
"— N —", odd pages right and even pages left, one character in from the edge of the type area.

Faces. A .docx names one East Asian face per run; it cannot carry a fall-back list. The people who receive
these files open them in Word or WPS on Windows, so the names are Windows' own faces — 仿宋, 黑体, 楷体
and 宋体, installed with every Chinese Windows since Vista — and 方正小标宋简体 for the title, which WPS
installs and every office that writes 公文 has; Word substitutes a 宋 face where it is missing. The
GB2312-era names (仿宋_GB2312, 楷体_GB2312) are not installed on current Windows, and Word would quietly
fall back to 宋体 for the whole body.

Headings use Word's built-in heading styles, so the navigation pane and a generated table of contents work.
"""

from __future__ import annotations

import math
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from ..models import Compilation
from . import data
from .annual import NO_PLANS, NO_PROBLEMS, AnnualSummary, annual_summary

TITLE_FACE = "方正小标宋简体"
HEI = "黑体"
KAI = "楷体"
FANG = "仿宋"
SONG = "宋体"
LATIN = "Times New Roman"

BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
PAGE_NUMBER_PT = 14  # 4号
CHARS_PER_LINE = 28
LINES_PER_PAGE = 22
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TYPE_AREA_MM = (
    210 - MARGINS_MM["left"] - MARGINS_MM["right"],
    297 - MARGINS_MM["top"] - MARGINS_MM["bottom"],
)
# 225 mm ÷ 22 lines = 28.95 pt a line (Word's line grid). 156 mm holds 28 characters at 15.79 pt, so 16 pt
# characters are set 0.25 pt tighter (w:spacing −5 twentieths of a point: 28 × 15.75 pt ≤ 442.2 pt). A
# character grid (docGrid linesAndChars + charSpace) would say the same to Word, but LibreOffice and WPS
# spread the characters over it instead, so the pitch is carried by the spacing, which every reader honours.
# Floored to whole twentieths of a point (how Word stores it): 580 would make 22 × 29 pt > 225 mm, 21 lines.
LINE_PITCH_PT = math.floor(TYPE_AREA_MM[1] / 25.4 * 72 / LINES_PER_PAGE * 20) / 20  # 28.95
CHAR_PITCH_PT = TYPE_AREA_MM[0] / 25.4 * 72 / CHARS_PER_LINE
CONDENSE_TWIPS = -5

RPR_AFTER_SPACING = (
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
    "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish",
    "w:oMath",
)  # fmt: skip

# style name → (East Asian face, size, bold); 1. and (1) are written in the body face.
HEADING_FACES = {
    "Heading 1": (HEI, BODY_PT, False),  # 一、
    "Heading 2": (KAI, BODY_PT, False),  # （一）
    "Heading 3": (FANG, BODY_PT, True),  # 1.
    "Heading 4": (FANG, BODY_PT, False),  # （1）
}


def _set_rfonts(rpr, east_asian: str) -> None:
    """One East Asian face and Times New Roman for Latin text, replacing any theme fonts (a theme font
    wins over a named one in the same element, and the default template's headings use them)."""
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    rfonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN)
    rfonts.set(qn("w:eastAsia"), east_asian)
    rfonts.set(qn("w:hint"), "eastAsia")
    rpr.insert(0, rfonts)


def _set_faces(style, east_asian: str, size: float, bold: bool = False) -> None:
    font = style.font
    font.size = Pt(size)
    font.bold = bold
    font.italic = False
    rpr = style.element.get_or_add_rPr()
    for color in rpr.findall(qn("w:color")):  # theme colours (blue headings) out
        rpr.remove(color)
    font.color.rgb = RGBColor(0, 0, 0)
    _set_rfonts(rpr, east_asian)


def _style_run(run, east_asian: str, size: float = BODY_PT, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    _set_rfonts(run._element.get_or_add_rPr(), east_asian)


def _exact(fmt, points: float = LINE_PITCH_PT) -> None:
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _doc_grid(section) -> None:
    """22 lines a page: Word's line grid at the GB/T 9704 line pitch."""
    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH_PT * 20)))
    sect_pr.append(grid)


def _condense(style) -> None:
    """28 characters a line: the body face set 0.25 pt tighter (see CONDENSE_TWIPS)."""
    rpr = style.element.get_or_add_rPr()
    for old in rpr.findall(qn("w:spacing")):
        rpr.remove(old)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CONDENSE_TWIPS))
    # in the schema's order (after w:color, before w:sz), or Word reports the file as damaged
    rpr.insert_element_before(spacing, *RPR_AFTER_SPACING)


def new_document(*, landscape: bool = False) -> Document:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    # The page number's top sits 7 mm below the type area (GB/T 9704 7.5): 35 − 7 − one 14 pt line.
    section.footer_distance = Mm(MARGINS_MM["bottom"] - 7 - 5)
    styles = document.styles
    doc_defaults = styles.element.find(qn("w:docDefaults"))
    if doc_defaults is not None:
        rpr = doc_defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if rpr is not None:
            _set_rfonts(rpr, FANG)
            for old in rpr.findall(qn("w:sz")) + rpr.findall(qn("w:szCs")):
                rpr.remove(old)
    normal = styles["Normal"]
    _set_faces(normal, FANG, BODY_PT)
    _exact(normal.paragraph_format)
    normal.paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    normal.paragraph_format.widow_control = False
    _condense(normal)
    for name, (face, size, bold) in HEADING_FACES.items():
        style = styles[name]
        _set_faces(style, face, size, bold)
        fmt = style.paragraph_format
        _exact(fmt)
        fmt.first_line_indent = Pt(2 * BODY_PT)
        fmt.keep_with_next = True
    title_style = styles["Title"]
    ppr = title_style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    _set_faces(title_style, TITLE_FACE, TITLE_PT)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.first_line_indent = Pt(0)
    _exact(title_style.paragraph_format, 2 * LINE_PITCH_PT * 0.6)  # 34.7 pt: a 22 pt title, two-line safe
    _doc_grid(section)
    _page_numbers(document, section)
    return document


def _page_numbers(document, section) -> None:
    """ "— N —" in 4号 宋体: odd pages right, even pages left, one character in (GB/T 9704 7.5)."""
    document.settings.odd_and_even_pages_header_footer = True
    for footer, alignment in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        fmt = paragraph.paragraph_format
        paragraph.alignment = alignment
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if alignment == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent, fmt.left_indent = Pt(PAGE_NUMBER_PT), Pt(0)
        else:
            fmt.left_indent, fmt.right_indent = Pt(PAGE_NUMBER_PT), Pt(0)
        _style_run(paragraph.add_run("— "), SONG, PAGE_NUMBER_PT)
        _page_field(paragraph)
        _style_run(paragraph.add_run(" —"), SONG, PAGE_NUMBER_PT)


def _page_field(paragraph) -> None:
    """A PAGE field as Word writes one: begin, instruction, separate, a shown value, end."""
    for kind, text in (
        ("begin", None),
        ("instr", " PAGE "),
        ("separate", None),
        ("text", "1"),
        ("end", None),
    ):
        run = paragraph.add_run()
        _style_run(run, SONG, PAGE_NUMBER_PT)
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._element.append(element)


def title(document, text: str, subtitle: str = "", *, lines: list[str] | None = None) -> None:
    """The title in 2号 小标宋 (style "Title"), broken only between ``lines`` when given (GB/T 9704: 回行时词意
    完整, as the PDF breaks it), an optional 楷体 subtitle, then one empty line."""
    heading = document.add_paragraph(style="Title")
    for index, line in enumerate(lines or [text]):
        run = heading.add_run(line)
        if index < len(lines or [text]) - 1:
            run.add_break()
    if subtitle:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.first_line_indent = Pt(0)
        _style_run(paragraph.add_run(subtitle), KAI, BODY_PT)
    document.add_paragraph()


def para(document, text: str, *, label: str = "", size: float = BODY_PT, style: str | None = None):
    """A body paragraph; ``label`` is a run-in lead (a 1. or （1） item's heading) in the same face."""
    paragraph = document.add_paragraph(style=style)
    if label:
        _style_run(paragraph.add_run(label), FANG, size)
    _style_run(paragraph.add_run(text), FANG, size)
    return paragraph


def _width_in_chars(text: str) -> float:
    """A line's width in body characters: a Chinese character is one, a digit or Latin letter half."""
    return sum(0.5 if ch.isascii() else 1 for ch in text)


def signature(document, issuer: str, date_label: str) -> None:
    """发文机关署名 and 成文日期 of a document without a seal (GB/T 9704 7.3.5.3), as gongwen.css sets them in
    the PDF: one empty line after the body; the signature two characters in from the right; the date under
    it, its first character two characters right of the signature's first (a long date pushes the signature
    left instead)."""
    document.add_paragraph()
    block = max(_width_in_chars(issuer), 2 + _width_in_chars(date_label))
    indents = {
        issuer: min(2 + block - _width_in_chars(issuer), CHARS_PER_LINE - _width_in_chars(issuer)),
        date_label: block - _width_in_chars(date_label),
    }
    for text in (issuer, date_label):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.first_line_indent = Pt(0)
        paragraph.paragraph_format.right_indent = Pt(max(0.0, indents[text]) * CHAR_PITCH_PT)
        _style_run(paragraph.add_run(text), FANG, BODY_PT)


def table(document, headers: list[str], rows, *, size: float = 10.5, widths: list[float] | None = None):
    tbl = document.add_table(rows=1, cols=len(headers))
    tbl.style = "Table Grid"
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(tbl.rows[0].cells, headers, strict=True):
        _cell_text(cell, text, size, bold=True)
    for values in rows:
        for cell, value in zip(tbl.add_row().cells, values, strict=True):
            _cell_text(cell, "" if value is None else str(value), size)
    if widths:
        # Word reads the cells' widths, LibreOffice and WPS the columns': set both.
        for column, width in zip(tbl.columns, widths, strict=True):
            column.width = Mm(width)
        for row in tbl.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Mm(width)
    return tbl


def _cell_text(cell, text: str, size: float, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.first_line_indent = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    _style_run(paragraph.add_run(text), HEI if bold else FANG, size, bold)


def page_break(document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# ------------------------------------------------------------------------------------ documents


def annual_document(doc: AnnualSummary) -> Document:
    """The annual summary (see annual.py): 一、(一) 1. throughout, signed by the campaign's issuer."""
    document = new_document()
    title(document, doc.title, lines=doc.title_lines)
    para(document, doc.intro)
    document.add_heading("一、工作开展情况", level=1)
    for section in doc.sections:
        document.add_heading(f"（{section.numeral}）{section.title}", level=2)
        para(document, section.summary)
        for number, text in enumerate(section.highlights, start=1):
            para(document, text, label=f"{number}.")
    document.add_heading("二、存在的困难和问题", level=1)
    if not doc.problems:
        para(document, NO_PROBLEMS)
    for numeral, theme in doc.numbered_problems:
        document.add_heading(f"（{numeral}）{theme.theme.problem_heading}", level=2)
        para(document, theme.paragraph)
    document.add_heading("三、下一步工作计划", level=1)
    if not doc.plans:
        para(document, NO_PLANS)
    for plan in doc.plans:
        document.add_heading(plan.title, level=2)
        para(document, plan.paragraph)
        for number, item in enumerate(plan.items, start=1):
            para(document, item, label=f"{number}.")
    signature(document, doc.issuer, doc.date_label)
    banji(document, doc.campaign, doc.date_label)
    return document


def narrative_document(doc: data.NarrativeDocument, progress) -> Document:
    """The quarterly summary, a unit's or a task's report: the same text as the PDF (templates/compilations/pdf/
    summary.html), paragraph for paragraph, from the same ``data.narrative`` fields (charts aside: Word has no
    SVG). A quarterly summary gives its 总体情况 and per-task digest, and the units' full texts only as the
    附件 when the compilation asks for it; a unit or task report is those full texts."""
    document = new_document()
    document.core_properties.title = doc.title
    document.core_properties.author = doc.issuer
    title(document, doc.title, doc.subtitle, lines=doc.title_lines)
    if doc.overview is not None:
        document.add_heading("一、总体情况", level=1)
        for text in doc.overview.paragraphs:
            para(document, text)
        if doc.overview.notable_text:
            para(document, doc.overview.notable_text)
        document.add_heading("二、各项任务推进情况", level=1)
        for section in doc.digest:
            document.add_heading(f"（{section.numeral}）{section.title}", level=2)
            for task in section.tasks:
                para(document, task.paragraph, label=task.lead_in)
        if doc.with_appendix:
            document.add_paragraph()
            para(document, f"附件：{doc.appendix_title}").paragraph_format.first_line_indent = Pt(0)
        signature(document, doc.issuer, doc.date_label)
        if doc.with_appendix:
            page_break(document)
            label = document.add_paragraph()
            label.paragraph_format.first_line_indent = Pt(0)
            _style_run(label.add_run("附件"), HEI, BODY_PT)
            title(document, doc.appendix_title)
            if doc.unit_summary:
                _unit_summary(document, doc, progress)
            else:
                _entries(document, doc, progress)
    else:
        document.add_heading("一、总体情况", level=1)
        for text in doc.intro:
            para(document, text)
        document.add_heading("二、各项任务推进情况", level=1)
        _entries(document, doc, progress)
        signature(document, doc.issuer, doc.date_label)
    banji(document, doc.campaign, doc.date_label)
    return document


def _entries(document, doc: data.NarrativeDocument, progress) -> None:
    """The units' reports in full (templates/compilations/pdf/_entries.html): section (一), task 1., unit (1)."""
    total = max(len(doc.groups), 1)
    for index, group in enumerate(doc.groups):
        progress(20 + int(70 * index / total), f"写入（{group.numeral}）{group.title}")
        document.add_heading(f"（{group.numeral}）{group.title}", level=2)
        for sub in group.subgroups:
            document.add_heading(f"{sub.number}．{sub.title}", level=3)
            para(document, sub.duty_text)
            for number, entry in enumerate(sub.entries, start=1):
                document.add_heading(f"（{number}）{entry.caption}", level=4)
                for label, text in entry.parts:
                    para(document, text, label=label)


def _unit_summary(document, doc: data.NarrativeDocument, progress) -> None:
    """The appendix at province scale (templates/compilations/pdf/_unit_summary.html): per unit kind, one line
    per unit, 小四 on an 18 pt pitch with the number hanging."""
    para(document, doc.unit_summary_note)
    for group in doc.unit_summary:
        progress(60, f"写入（{group.numeral}）{group.label}")
        document.add_heading(f"（{group.numeral}）{group.label}", level=2)
        for row in group.rows:
            fmt = para(document, row.line, size=12).paragraph_format
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(18)
            fmt.left_indent = Pt(24)
            fmt.first_line_indent = Pt(-24)


BANJI_PT = 14  # 4号
# 版记 rules (GB/T 9704 7.4.1): the first and last 0.35 mm, those between 0.25 mm; Word counts eighths of a point.
BANJI_THICK = 8
BANJI_THIN = 6


def banji(document, campaign, date_label: str) -> None:
    """版记 after the signature (and the 附件): 抄送 when the campaign has one, then 印发机关 left and 印发日期 right,
    in 4号, between a thick first and last rule with thin rules between (GB/T 9704 7.4); the same lines as the
    PDF's templates/compilations/pdf/_banji.html."""
    document.add_paragraph()
    lines = []
    if campaign.copy_to:
        lines.append(f"抄送：{campaign.copy_to.rstrip('。')}。")
    lines.append(f"{campaign.printed_by_name}\t{date_label}印发")
    for index, text in enumerate(lines):
        paragraph = para(document, text, size=BANJI_PT)
        fmt = paragraph.paragraph_format
        fmt.first_line_indent = Pt(0)
        fmt.left_indent = fmt.right_indent = Pt(BANJI_PT)
        fmt.keep_with_next = index < len(lines) - 1
        # 印发日期 flush with the right end of the rules: a right tab at the text width less the indents.
        fmt.tab_stops.add_tab_stop(Pt(CHAR_PITCH_PT * CHARS_PER_LINE - 2 * BANJI_PT), WD_TAB_ALIGNMENT.RIGHT)
        borders = OxmlElement("w:pBdr")
        edges = [("top", BANJI_THICK if index == 0 else BANJI_THIN)]
        if index == len(lines) - 1:
            edges.append(("bottom", BANJI_THICK))
        for edge, size in edges:
            rule = OxmlElement(f"w:{edge}")
            rule.set(qn("w:val"), "single")
            rule.set(qn("w:sz"), str(size))
            rule.set(qn("w:space"), "1")
            rule.set(qn("w:color"), "000000")
            borders.append(rule)
        ppr = paragraph._p.get_or_add_pPr()
        # pBdr sits before the tabs and spacing in pPr's schema order.
        anchor = ppr.find(qn("w:tabs"))
        if anchor is None:
            anchor = ppr.find(qn("w:spacing"))
        if anchor is not None:
            anchor.addprevious(borders)
        else:
            ppr.append(borders)


def ledger_document(scope: data.Scope, progress) -> Document:
    from .pdf import ledger_table_rows

    document = new_document(landscape=True)
    heading, subtitle = data.document_titles(scope)
    title(document, heading, subtitle)
    rows = list(ledger_table_rows(scope))
    progress(40, f"写入台账表格（{len(rows)}条）")
    table(
        document,
        [
            "序号",
            "报告期",
            "单位",
            "任务",
            "状态",
            "推进情况",
            "工作进展",
            "存在问题",
            "下一步计划",
            "指标",
            "报送时间",
        ],
        (
            [
                i,
                r["period"],
                r["unit"],
                r["task"],
                r["state"],
                r["status"],
                r["progress"],
                r["problems"],
                r["next_steps"],
                r["metrics"],
                r["submitted"],
            ]
            for i, r in enumerate(rows, start=1)
        ),
        size=9,
    )
    return document


def render_docx(scope: data.Scope, path: Path, progress) -> None:
    progress(5, "读取报告数据")
    if scope.kind == Compilation.Kind.ANNUAL:
        document = annual_document(annual_summary(scope))
    elif scope.kind == Compilation.Kind.LEDGER:
        document = ledger_document(scope, progress)
    else:
        document = narrative_document(
            data.narrative(scope, with_charts=False, with_entries=scope.with_entries), progress
        )
    progress(93, "保存 Word 文件")
    document.save(path)
