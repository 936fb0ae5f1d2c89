"""The 通报 as documents to circulate: Word (python-docx; recipients edit in Word/WPS) and PDF (WeasyPrint, A4)."""

from __future__ import annotations

import io

from django.template.loader import render_to_string

from campaign.dates import cn_date

from .selectors import Bulletin

CJK_FONT = "Noto Sans CJK SC"
CJK_SERIF = "Noto Serif CJK SC"


def summary_text(bulletin: Bulletin) -> str:
    """The paragraph that opens the bulletin; the same words on the page and in both documents."""
    p = bulletin.period
    rate = f"{bulletin.rate * 100:.1f}%" if bulletin.rate is not None else "—"
    head = (
        f"{p.label}工作进展报送截止日期为{cn_date(p.due_on)}。截至{cn_date(bulletin.as_of)}，"
        f"全市应报送进展报告{bulletin.expected_total}份，已报送{bulletin.reported_total}份，报送率{rate}。"
    )
    if not bulletin.gaps:
        return head + "各责任单位均已按要求报送。"
    if bulletin.is_overdue:
        return (
            head + f"现将逾期未报送的{len(bulletin.gaps)}个单位（共{bulletin.missing_total}项任务）通报如下，"
            "请相关单位立即补报。"
        )
    return (
        head + f"目前尚有{len(bulletin.gaps)}个单位（共{bulletin.missing_total}项任务）未报齐，请抓紧报送。"
    )


def filename(bulletin: Bulletin, ext: str) -> str:
    return f"{bulletin.period.label}逾期未报送情况通报.{ext}"


def _set_cjk_font(run, name: str = CJK_FONT, size=None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn

    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold


def bulletin_docx(bulletin: Bulletin) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)

    normal = doc.styles["Normal"]
    normal.font.name = CJK_FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_cjk_font(title.add_run(bulletin.title), CJK_SERIF, Pt(18), True)

    doc.add_paragraph(summary_text(bulletin)).paragraph_format.first_line_indent = Pt(24)

    if bulletin.gaps:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, ["序号", "单位", "未报数", "未报送的任务"], strict=True):
            cell.text = ""
            _set_cjk_font(cell.paragraphs[0].add_run(label), bold=True)
        for row in bulletin.rows:
            cells = table.add_row().cells
            cells[0].text = str(row["index"])
            cells[1].text = row["unit"].name
            cells[2].text = f"{row['missing_count']}项"
            cells[3].text = "\n".join(f"{t.number}. {t.title}" for t in row["missing"])
        for row in table.rows:
            for width, cell in zip((Cm(1.3), Cm(4.2), Cm(1.8), Cm(8.5)), row.cells, strict=True):
                cell.width = width

    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sign.paragraph_format.space_before = Pt(24)
    sign.add_run(f"{bulletin.period.campaign.issuer_name}\n{cn_date(bulletin.as_of)}")

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def bulletin_pdf(bulletin: Bulletin) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "notifications/bulletin_pdf.html",
        {"bulletin": bulletin, "summary": summary_text(bulletin), "rows": bulletin.rows},
    )
    return HTML(string=html).write_pdf()
