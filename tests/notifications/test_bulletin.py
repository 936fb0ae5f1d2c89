"""The 通报: the office's page of overdue units and tasks, and the same as Word and PDF (read back)."""

from __future__ import annotations

import io
import subprocess

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader

from campaign.models import ReportingPeriod
from tasks.models import Task
from tests.factories import make_report, many_reports

from .conftest import at, days_before_due

pytestmark = pytest.mark.django_db


def urls(period) -> list[str]:
    return [
        f"/notifications/bulletin/?period={period.pk}",
        f"/notifications/bulletin/{period.pk}.docx",
        f"/notifications/bulletin/{period.pk}.pdf",
    ]


@pytest.mark.parametrize("role", ["leadership", "liaison_a", "liaison_b", "leader_a"])
def test_only_the_office_may_see_or_download_the_bulletin(client, people, unit_a_mostly_done, role):
    client.force_login(people[role])

    for url in urls(unit_a_mostly_done):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, unit_a_mostly_done):
    for url in urls(unit_a_mostly_done):
        assert client.get(url)["Location"].startswith("/login/?next="), url


def test_office_page_lists_overdue_units_with_their_tasks_and_liaisons(as_office, people, unit_a_mostly_done):
    with at(days_before_due(-1)):
        body = as_office.get("/notifications/bulletin/").content.decode()

    assert 'data-testid="bulletin-title">关于2025年第四季度工作进展逾期未报送情况的通报<' in body
    assert "截至2026年1月11日，全市应报送进展报告363份，已报送6份，报送率1.7%" in body
    assert "现将逾期未报送的55个单位（共357项任务）通报如下" in body
    assert body.count('data-testid="bulletin-row"') == 55
    task8 = Task.objects.get(number=8)
    row = body.split("市委宣传部</td>")[1].split("</tr>")[0]
    assert f"8. {task8.title}" in row and "10. " in row and "2. " not in row
    assert "王宣 · 13800000001" in row
    assert (
        'href="/notifications/bulletin/10.docx"' in body and 'href="/notifications/bulletin/10.pdf"' in body
    )


def test_before_the_due_date_the_page_says_it_is_not_yet_overdue(as_office, unit_a_mostly_done):
    with at(days_before_due(3)):
        body = as_office.get("/notifications/bulletin/").content.decode()

    assert "关于2025年第四季度工作进展报送情况的通报" in body
    assert "尚未逾期" in body and "目前尚有55个单位" in body


def test_a_period_where_everyone_reported_says_so(as_office, open_period):
    # Fill every expected report of the period.
    from tasks.models import Responsibility

    with many_reports():
        for resp in Responsibility.objects.select_related("unit", "task"):
            make_report(period=open_period, unit=resp.unit, task=resp.task, state="approved")

    with at(days_before_due(-1)):
        body = as_office.get("/notifications/bulletin/").content.decode()

    assert "各责任单位均已按要求报送" in body and 'data-testid="bulletin-row"' not in body


def test_upcoming_or_unknown_periods_are_404(as_office, plan):
    upcoming = ReportingPeriod.objects.get(year=2025, quarter=4)  # not opened in this test

    assert as_office.get(f"/notifications/bulletin/{upcoming.pk}.pdf").status_code == 404
    assert as_office.get("/notifications/bulletin/?period=999").status_code == 404
    assert as_office.get("/notifications/bulletin/?period=abc").status_code == 404
    assert "还没有开始报送的报告期" in as_office.get("/notifications/bulletin/").content.decode()


MM = 72 / 25.4
ISSUER = "平凉市创建全国民族团结进步示范市工作领导小组办公室"  # Campaign.issuer_name's default for 平凉市


def _issued(campaign, **names):
    for name, value in names.items():
        setattr(campaign, name, value)
    campaign.save()


def test_word_bulletin_is_a_gongwen_with_recipients_signature_and_banji(as_office, unit_a_mostly_done):
    _issued(unit_a_mostly_done.campaign, copy_to="市委办公室，市政府办公室", printed_by="平凉市创建办")
    with at(days_before_due(-1)):
        response = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.docx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''2025" in response["Content-Disposition"]
    doc = Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in doc.paragraphs]
    # Title in 2号 (the Title style), broken between words; then the 主送机关 line, unindented.
    assert paragraphs[0] == "关于2025年第四季度工作进展\n逾期未报送情况的通报"
    assert doc.paragraphs[0].style.name == "Title" and doc.styles["Title"].font.size.pt == 22
    recipients = next(p for p in doc.paragraphs if p.text.endswith("：") and "创建办" in p.text)
    assert recipients.text == "各县（市、区）创建办，市直各有关单位："
    assert recipients.paragraph_format.first_line_indent == 0
    assert paragraphs.index(recipients.text) < next(i for i, t in enumerate(paragraphs) if "截至" in t)
    # Body: 3号 仿宋.
    assert doc.styles["Normal"].font.size.pt == 16
    body = next(p for p in doc.paragraphs if "截至2026年1月11日" in p.text)
    assert body.style.name == "Normal"
    assert {r.font.size.pt for r in body.runs} == {16}
    assert {r._element.rPr.rFonts.get(qn("w:eastAsia")) for r in body.runs} == {"仿宋"}
    # Units that reported nothing are named together; the one with tasks missing is in the table.
    text = "\n".join(paragraphs)
    assert "一、未报送任何进展报告的单位" in text and "共54个单位" in text and "崆峒区" in text
    assert "二、部分任务未报送的单位" in text and "三、有关要求" in text
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "单位", "未报数", "未报送的任务"]
    assert [c.text for c in table.rows[1].cells][:3] == ["1", "市委宣传部", "2项"]
    assert table.rows[1].cells[3].text.startswith("8. 开展党员干部教育")
    # Signed with the issuer and the date; 版记 with 抄送 and 印发机关 / 印发日期.
    at_sign = paragraphs.index(ISSUER)
    assert paragraphs[at_sign + 1] == "2026年1月11日"
    assert paragraphs[-2:] == ["抄送：市委办公室，市政府办公室。", "平凉市创建办\t2026年1月11日印发"]
    assert {r.font.size.pt for p in doc.paragraphs[-2:] for r in p.runs} == {14}  # 4号
    # Page: A4, margins 37/28/35/26 mm; page numbers "— PAGE —" in 4号, odd right, even left.
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.left_margin, section.bottom_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 28, 35, 26]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, side in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        number = footer.paragraphs[0]
        assert number.alignment == side
        assert "PAGE" in "".join(number._p.xpath(".//w:instrText/text()"))
        assert number.text.startswith("— ") and number.text.endswith(" —")
        assert {r.font.size.pt for r in number.runs} == {14}


def test_word_bulletin_without_copy_to_has_no_copy_line(as_office, unit_a_mostly_done):
    with at(days_before_due(-1)):
        doc = Document(
            io.BytesIO(as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.docx").content)
        )

    texts = [p.text for p in doc.paragraphs]
    assert not any(t.startswith("抄送") for t in texts)
    assert texts[-1] == f"{ISSUER}\t2026年1月11日印发"  # 印发机关 defaults to the 发文机关


def fragments(page) -> list[tuple[str, float, float, float]]:
    """(text, size pt, x pt from the left, baseline pt from the top) of each text run (pypdf)."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = cm[0]  # WeasyPrint draws in CSS px under a 0.75 pt/px matrix
            out.append((text.strip(), round(size * scale, 1), tm[4] * scale, tm[5] * scale))

    page.extract_text(visitor_text=visit)
    return out


def test_pdf_bulletin_is_a_gongwen_measured(as_office, unit_a_mostly_done, tmp_path):
    _issued(unit_a_mostly_done.campaign, copy_to="市委办公室，市政府办公室", printed_by="平凉市创建办")
    with at(days_before_due(-1)):
        response = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert all(
        (round(float(p.mediabox.width)), round(float(p.mediabox.height))) == (595, 842) for p in reader.pages
    )
    first = fragments(reader.pages[0])
    # Title: 2号, two lines broken between words.
    title = [f for f in first if f[1] == 22.0]
    assert [t for t, *_ in title] == ["关于2025年第四季度工作进展", "逾期未报送情况的通报"]
    # 主送机关 line in 3号, flush with the left margin (28 mm), after the title and before the body.
    recipients = next(f for f in first if f[0] == "各县（市、区）创建办，市直各有关单位：")
    assert recipients[1] == 16.0 and abs(recipients[2] - 28 * MM) < 1 * MM
    body = next(f for f in first if f[0].startswith("2025年第四季度工作进展报送截止日期"))
    assert body[1] == 16.0 and title[-1][3] < recipients[3] < body[3]
    assert abs(body[2] - (28 * MM + 2 * 15.78)) < 1 * MM  # two characters in
    # Margins: every run inside the 156 × 225 mm type area, except the page numbers below it.
    for number, page in enumerate(reader.pages, start=1):
        for text, size, x, y in fragments(page):
            if text.replace(" ", "") == f"—{number}—":
                assert size == 14.0 and y > (297 - 35) * MM
                assert (x > 105 * MM) if number % 2 else (x < 105 * MM), f"page {number}: outside"
                continue
            assert 28 * MM - 1 <= x < (210 - 26) * MM, (number, text, x)
            assert 37 * MM < y <= (297 - 35) * MM + 1, (number, text, y)
    # Signature with the issuer and the date; 版记 with 抄送 and 印发机关 / 印发日期 in 4号.
    last = fragments(reader.pages[-1])  # signature and 版记 share the last page (see the test below)
    texts = [t for t, *_ in last]
    assert ISSUER in texts and "2026年1月11日" in texts
    assert texts.index(ISSUER) + 1 == texts.index("2026年1月11日")
    banji = {t: size for t, size, *_ in last if size == 14.0}
    assert "抄送：市委办公室，市政府办公室。" in banji
    assert "平凉市创建办 2026年1月11日印发" in banji  # 印发机关 left, 印发日期 right, on one line
    # Chinese as characters, in CJK faces.
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    assert "市委宣传部" in text and "崆峒区" in text and "开展党员干部教育" in text
    fonts = {
        str(font.get("/BaseFont"))
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        for font in [font.get_object()]
    }
    assert any("CJK" in name for name in fonts), fonts


def test_bulletin_documents_use_the_campaigns_issuer_never_a_literal_name(
    as_office, unit_a_mostly_done, tmp_path
):
    _issued(
        unit_a_mostly_done.campaign, issuer="某市民族团结进步创建工作办公室", main_recipients="各成员单位"
    )
    with at(days_before_due(-1)):
        pdf = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.pdf").content
        word = Document(
            io.BytesIO(as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.docx").content)
        )

    texts = [t for page in PdfReader(io.BytesIO(pdf)).pages for t, *_ in fragments(page)]
    assert texts[0] == "某市民族团结进步创建工作办公室"  # the 发文机关标志
    assert "各成员单位：" in texts and "平凉市创建全国" not in "".join(texts)
    words = [p.text for p in word.paragraphs]
    assert "各成员单位：" in words and "某市民族团结进步创建工作办公室" in words
    assert "平凉市创建全国" not in "\n".join(words)


def test_bulletin_documents_figures_equal_the_dashboards_completeness(
    as_office, unit_a_mostly_done, tmp_path
):
    """Every figure in the 通报 (totals, rate, units behind, tasks per unit) is the dashboards' count."""
    from reports.dashboards.selectors import completeness

    comp = completeness(unit_a_mostly_done)
    overall = comp.overall
    behind = {row.unit.name: row.not_reported for row in comp.units if row.not_reported}
    nothing = [
        name
        for name, missing in behind.items()
        if missing == next(r.expected for r in comp.units if r.unit.name == name)
    ]
    with at(days_before_due(-1)):
        word = Document(
            io.BytesIO(as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.docx").content)
        )
        pdf = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.pdf").content
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf)
    pdf_text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.replace(
        "\n", ""
    )

    rate = f"{overall.reported / overall.expected * 100:.1f}%"
    totals = f"全市应报送进展报告{overall.expected}份，已报送{overall.reported}份，报送率{rate}"
    opening = f"现将逾期未报送的{len(behind)}个单位（共{sum(behind.values())}项任务）通报如下"
    word_text = "\n".join(p.text for p in word.paragraphs)
    for text in (word_text, pdf_text):
        assert totals in text and opening in text
        assert f"共{len(nothing)}个单位，应报送的{sum(behind[n] for n in nothing)}份报告均未报送" in text
        assert f"共{len(behind) - len(nothing)}个单位，未报送的任务见下表" in text
    table = {row.cells[1].text: row.cells[2].text for row in word.tables[0].rows[1:]}
    assert table == {name: f"{missing}项" for name, missing in behind.items() if name not in nothing}


def test_pdf_bulletin_banji_sits_under_the_signature_when_the_page_has_room(as_office, unit_a_mostly_done):
    """The 版记 is a footnote of the last page. White space between its tags used to become empty lines
    inside the footnote (43 mm instead of 18), so it was carried over alone to a third page although the
    signature's page had room for it."""
    _issued(unit_a_mostly_done.campaign, copy_to="市委办公室，市政府办公室", printed_by="平凉市创建办")
    with at(days_before_due(-1)):
        pdf = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.pdf").content

    pages = [[t for t, *_ in fragments(page)] for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 2
    last = pages[-1]
    assert ISSUER in last and "2026年1月11日" in last  # the signature …
    assert "抄送：市委办公室，市政府办公室。" in last  # … and the whole 版记 below it, on the same page
    assert "平凉市创建办 2026年1月11日印发" in last
    assert last.index("2026年1月11日") < last.index("抄送：市委办公室，市政府办公室。")
    # At the foot of the page: the 印发 line is the last line of the type area (262 mm), above the number.
    printed = next(f for f in fragments(PdfReader(io.BytesIO(pdf)).pages[-1]) if f[0].endswith("印发"))
    assert (297 - 35 - 10) * MM < printed[3] <= (297 - 35) * MM
