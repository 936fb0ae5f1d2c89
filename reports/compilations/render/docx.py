"""Word documents with python-docx: editable drafts for people who finish them in Word or WPS.

Faces are the ones GB/T 9704 names and Chinese offices have installed (方正小标宋简体, 黑体, 楷体_GB2312,
仿宋_GB2312); Word substitutes its own where one is missing. Headings use Word's built-in heading styles,
so the navigation pane and a generated table of contents work.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from campaign.lights import LIGHTS

from ..models import Compilation
from . import data

TITLE_FACE = "方正小标宋简体"
HEI = "黑体"
KAI = "楷体_GB2312"
FANG = "仿宋_GB2312"
LATIN = "Times New Roman"


def _set_faces(font, east_asian: str, size: float, bold: bool = False) -> None:
    font.name = LATIN
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    rpr = font.element.get_or_add_rPr() if hasattr(font.element, "get_or_add_rPr") else None
    if rpr is not None:
        rfonts = rpr.get_or_add_rFonts()
        rfonts.set(qn("w:eastAsia"), east_asian)


def _style_run(run, east_asian: str, size: float = 16, bold: bool = False) -> None:
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def new_document(*, landscape: bool = False) -> Document:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = document.styles
    normal = styles["Normal"]
    _set_faces(normal.font, FANG, 16)
    normal.paragraph_format.line_spacing = Pt(28.9)
    normal.paragraph_format.first_line_indent = Pt(32)
    normal.paragraph_format.space_after = Pt(0)
    for name, face, bold in (
        ("Heading 1", HEI, False),
        ("Heading 2", KAI, False),
        ("Heading 3", FANG, True),
        ("Heading 4", FANG, False),
    ):
        style = styles[name]
        _set_faces(style.font, face, 16, bold)
        style.font.italic = False
        fmt = style.paragraph_format
        fmt.first_line_indent = Pt(32)
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(28.9)
        fmt.keep_with_next = True
    _page_numbers(section)
    return document


def _page_numbers(section) -> None:
    """ "— 1 —" in the footer, centred (Word cannot alternate sides without odd/even footers)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.first_line_indent = Pt(0)
    _style_run(paragraph.add_run("— "), FANG, 14)
    run = paragraph.add_run()
    _style_run(run, FANG, 14)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            element = run._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): tag})
        else:
            element = run._element.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            element.text = text
        run._element.append(element)
    _style_run(paragraph.add_run(" —"), FANG, 14)


def title(document, text: str, subtitle: str = "") -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.first_line_indent = Pt(0)
    paragraph.paragraph_format.line_spacing = Pt(36)
    _style_run(paragraph.add_run(text), TITLE_FACE, 22)
    if subtitle:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.first_line_indent = Pt(0)
        _style_run(paragraph.add_run(subtitle), KAI, 16)
    document.add_paragraph()


def para(document, text: str, *, label: str = "", size: float = 16, style: str | None = None):
    paragraph = document.add_paragraph(style=style)
    if label:
        _style_run(paragraph.add_run(label), HEI, size)
    _style_run(paragraph.add_run(text), FANG, size)
    return paragraph


def signature(document, issuer: str, date_label: str) -> None:
    document.add_paragraph()
    for text in (issuer, date_label):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.first_line_indent = Pt(0)
        _style_run(paragraph.add_run(text), FANG, 16)


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


def annual_document(doc: data.AnnualDocument) -> Document:
    document = new_document()
    title(document, doc.title)
    para(document, doc.intro + (f"全年累计{doc.totals_sentence}。" if doc.totals_sentence else ""))
    document.add_heading("一、工作开展情况", level=1)
    for section in doc.sections:
        document.add_heading(f"（{section.numeral}）{section.title}", level=2)
        if not section.report_count:
            para(document, "本年度暂无已报送的进展报告。")
            continue
        sentence = f"全年各责任单位报送本工程进展报告{section.report_count}份"
        if section.figures_sentence:
            sentence += f"，共{section.figures_sentence}"
        para(document, sentence + "。")
        for unit, text in section.highlights:
            para(document, text, label=f"{unit}：")
    document.add_heading("二、存在的困难和问题", level=1)
    if not doc.problems:
        para(document, "各单位报告中未反映突出问题。")
    for index, (unit, text) in enumerate(doc.problems, start=1):
        para(document, text, label=f"（{index}）{unit}：")
    document.add_heading("三、下一步工作计划", level=1)
    if not doc.next_steps:
        para(document, "各单位报告中暂无下一步计划。")
    for index, (unit, text) in enumerate(doc.next_steps, start=1):
        para(document, text, label=f"（{index}）{unit}：")
    signature(document, doc.issuer, doc.date_label)
    return document


def narrative_document(doc: data.NarrativeDocument, progress) -> Document:
    document = new_document()
    title(document, doc.title, doc.subtitle)
    document.add_heading("一、总体情况", level=1)
    for text in doc.intro:
        para(document, text)
    if len(doc.unit_rows) > 1:
        para(document, "各单位报送情况见下表。")
        table(
            document,
            ["序号", "单位", "应报送", "已报送", "按时报送", "报送率"],
            (
                [
                    i,
                    r.unit.name,
                    r.expected,
                    r.reported,
                    r.on_time,
                    f"{r.rate * 100:.1f}%" if r.rate is not None else "—",
                ]
                for i, r in enumerate(doc.unit_rows, start=1)
            ),
            widths=[12, 60, 20, 20, 22, 20],
        )
    document.add_heading("二、各项任务推进情况", level=1)
    total = max(len(doc.groups), 1)
    for gi, group in enumerate(doc.groups):
        progress(20 + int(70 * gi / total), f"写入（{group.numeral}）{group.title}")
        document.add_heading(f"（{group.numeral}）{group.title}", level=2)
        for sub in group.subgroups:
            document.add_heading(f"{sub.number}．{sub.title}", level=3)
            meta = f"牵头单位 {'、'.join(sub.lead_names) or '—'}"
            if sub.co_names:
                meta += f"；配合单位 {'、'.join(sub.co_names)}"
            para(
                document,
                meta + f"。应报{len(sub.entries)}份，已报{sub.reported}份。",
                label="责任单位：",
                size=14,
            )
            if sub.targets:
                para(document, "；".join(sub.targets) + "。", label="量化目标：", size=14)
            for ei, entry in enumerate(sub.entries, start=1):
                heading = document.add_heading(f"（{ei}）{entry.heading}〔{entry.role}〕", level=4)
                run = heading.add_run(f" {entry.shape}{entry.light_label}")
                _style_run(run, HEI, 12)
                run.font.color.rgb = RGBColor.from_string(LIGHTS[entry.light].hex)
                state = f"状态：{entry.state_label}"
                if entry.status_label:
                    state += f"；推进情况：{entry.status_label}"
                if entry.submitted_label:
                    state += f"；报送时间：{entry.submitted_label}"
                para(document, state, size=14)
                if not entry.is_reported:
                    continue
                para(document, entry.report.progress or "（未填写）", label="工作进展：")
                if entry.report.problems:
                    para(document, entry.report.problems, label="存在问题：")
                if entry.report.next_steps:
                    para(document, entry.report.next_steps, label="下一步计划：")
                if entry.metrics:
                    para(document, "；".join(f"{n}{v}" for n, v in entry.metrics) + "。", label="主要指标：")
    signature(document, doc.issuer, doc.date_label)
    return document


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
        document = annual_document(data.annual(scope, with_charts=False))
    elif scope.kind == Compilation.Kind.LEDGER:
        document = ledger_document(scope, progress)
    else:
        document = narrative_document(data.narrative(scope, with_charts=False), progress)
    progress(93, "保存 Word 文件")
    document.save(path)
