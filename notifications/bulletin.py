"""The 通报 as documents to circulate, in 公文 form (GB/T 9704-2012): Word (python-docx; recipients edit in
Word/WPS) and PDF (WeasyPrint).

Both are laid out as the compiled documents are: the PDF with the shared page of
templates/compilations/pdf/gongwen.css (版头, title, signature and 版记 partials), the Word file with the page
and styles of ``reports.compilations.render.docx.new_document``. In order: the 发文机关标志 (PDF), the title in
2号 小标宋, the 主送机关 line, the body in 3号 仿宋 with the list of units behind, the closing request, the
发文机关署名 and 成文日期, and the 版记 (抄送 when the campaign has one, 印发机关 and 印发日期). Every name comes
from the campaign (``issuer_name``, ``main_recipients_text``, ``copy_to``, ``printed_by_name``), set on the
office's 发文设置 page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.template.loader import render_to_string

from campaign.dates import cn_date
from campaign.models import Campaign

from .selectors import Bulletin

TABLE_PT = 12  # 小四: the list of units and tasks, smaller than the 3号 body
TABLE_WIDTHS_MM = [14, 38, 18, 86]  # 序号, 单位, 未报数, 未报送的任务: the 156 mm type area


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


def closing_text(bulletin: Bulletin) -> str:
    """The request that closes the body, in the documents only (the page has its own buttons)."""
    if not bulletin.gaps:
        return "请各责任单位继续按时报送工作进展，确保各项创建任务有序推进。"
    if bulletin.is_overdue:
        return (
            "请上述单位高度重视，立即组织补报，认真分析逾期原因，明确专人负责，确保今后按时报送。"
            "补报情况将在下一期通报中一并反映。"
        )
    return f"请上述单位在{cn_date(bulletin.period.due_on)}前完成报送，逾期未报送的将予以通报。"


def filename(bulletin: Bulletin, ext: str) -> str:
    return f"{bulletin.period.label}逾期未报送情况通报.{ext}"


def title_lines(title: str) -> list[str]:
    """The title's lines, broken between words (GB/T 9704 7.3.1): "关于…工作进展" / "…情况的通报"."""
    head, sep, tail = title.partition("工作进展")
    return [head + sep, tail] if sep and tail else [title]


@dataclass
class Part:
    """A numbered part of the body: 一、… with a paragraph, or the table of units and their tasks."""

    heading: str
    text: str = ""
    rows: list[dict] = field(default_factory=list)


@dataclass
class BulletinDocument:
    """What the 公文 partials (版头, 署名, 版记) read, and the 通报's body."""

    title: str
    issuer: str
    date_label: str
    campaign: Campaign
    recipients: str
    opening: str
    parts: list[Part]

    @property
    def title_lines(self) -> list[str]:
        return title_lines(self.title)


def document(bulletin: Bulletin) -> BulletinDocument:
    """The 通报's words, the same for the PDF and the Word file. Units that reported nothing are named in one
    paragraph, units with some tasks missing are listed with those tasks, then the closing request; quotes
    nested as official texts write them."""
    from reports.compilations.render.data import cn_numeral
    from reports.compilations.render.wording import nest_quotes

    campaign = bulletin.period.campaign
    nothing = [row for row in bulletin.rows if row["reported"] == 0]
    partial = [
        {**row, "index": index, "tasks": [f"{t.number}. {nest_quotes(t.title)}" for t in row["missing"]]}
        for index, row in enumerate((row for row in bulletin.rows if row["reported"]), start=1)
    ]
    parts = []
    if nothing:
        names = "、".join(row["unit"].name for row in nothing)
        parts.append(
            Part(
                "未报送任何进展报告的单位",
                f"共{len(nothing)}个单位，应报送的{sum(r['missing_count'] for r in nothing)}份报告均未报送："
                f"{names}。",
            )
        )
    if partial:
        parts.append(
            Part(
                "部分任务未报送的单位",
                f"共{len(partial)}个单位，未报送的任务见下表。",
                rows=partial,
            )
        )
    parts.append(Part("有关要求" if bulletin.gaps else "下一步要求", nest_quotes(closing_text(bulletin))))
    for number, part in enumerate(parts, start=1):
        part.heading = f"{cn_numeral(number)}、{part.heading}"
    return BulletinDocument(
        title=bulletin.title,
        issuer=campaign.issuer_name,
        date_label=cn_date(bulletin.as_of),
        campaign=campaign,
        recipients=f"{campaign.main_recipients_text.rstrip('：:')}：",
        opening=nest_quotes(summary_text(bulletin)),
        parts=parts,
    )


# ------------------------------------------------------------------------------------------------ Word


def bulletin_docx(bulletin: Bulletin) -> bytes:
    from docx.shared import Pt

    from reports.compilations.render import docx as gongwen

    doc = document(bulletin)
    word = gongwen.new_document()
    word.core_properties.title = doc.title
    word.core_properties.author = doc.issuer
    # The Title style's 2号 小标宋, broken between words as in the PDF (gongwen.title takes one line of text).
    heading = word.add_paragraph(style="Title")
    for index, line in enumerate(doc.title_lines):
        run = heading.add_run(line)
        if index < len(doc.title_lines) - 1:
            run.add_break()
    word.add_paragraph()
    gongwen.para(word, doc.recipients).paragraph_format.first_line_indent = Pt(0)
    gongwen.para(word, doc.opening)
    for part in doc.parts:
        word.add_heading(part.heading, level=1)
        gongwen.para(word, part.text)
        if part.rows:
            gongwen.table(
                word,
                ["序号", "单位", "未报数", "未报送的任务"],
                (
                    [row["index"], row["unit"].name, f"{row['missing_count']}项", "\n".join(row["tasks"])]
                    for row in part.rows
                ),
                size=TABLE_PT,
                widths=TABLE_WIDTHS_MM,
            )
    gongwen.signature(word, doc.issuer, doc.date_label)
    gongwen.banji(word, doc.campaign, doc.date_label)  # the 版记, as every Word 公文 of the portal has it

    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------- PDF


def bulletin_html(bulletin: Bulletin) -> str:
    from reports.compilations.render.pdf import gongwen_context

    doc = document(bulletin)
    return render_to_string("notifications/bulletin_pdf.html", {"doc": doc, **gongwen_context(doc.issuer)})


def bulletin_pdf(bulletin: Bulletin) -> bytes:
    from django.conf import settings
    from weasyprint import HTML

    from reports.compilations.render.pdf import no_fetch

    return HTML(
        string=bulletin_html(bulletin), base_url=str(settings.BASE_DIR), url_fetcher=no_fetch
    ).write_pdf()
