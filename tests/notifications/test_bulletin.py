"""The 通报: the office's page of overdue units and tasks, and the same as Word and PDF (read back)."""

from __future__ import annotations

import io
import subprocess

import pytest
from docx import Document
from pypdf import PdfReader

from campaign.models import ReportingPeriod
from tasks.models import Task
from tests.factories import make_report

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


def test_word_bulletin_reads_back_with_the_units_and_tasks(as_office, unit_a_mostly_done):
    with at(days_before_due(-1)):
        response = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.docx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''2025" in response["Content-Disposition"]
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "关于2025年第四季度工作进展逾期未报送情况的通报"
    assert "现将逾期未报送的55个单位" in text
    assert "平凉市创建全国民族团结进步示范市工作领导小组办公室\n2026年1月11日" in text
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "单位", "未报数", "未报送的任务"]
    assert len(table.rows) == 56
    rows = {row.cells[1].text: row for row in table.rows[1:]}
    assert rows["市委宣传部"].cells[2].text == "2项"
    assert rows["市委宣传部"].cells[3].text.startswith("8. 开展党员干部教育")
    assert rows["崆峒区"].cells[2].text == "29项"
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_pdf_bulletin_is_a4_with_chinese_text(as_office, unit_a_mostly_done, tmp_path):
    with at(days_before_due(-1)):
        response = as_office.get(f"/notifications/bulletin/{unit_a_mostly_done.pk}.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    assert "关于2025年第四季度工作进展逾期未报送情况的通报" in text
    assert "市委宣传部" in text and "崆峒区" in text and "开展党员干部教育" in text
    assert "平凉市创建全国民族团结进步示范市工作领导小组办公室" in text.replace(" ", "").replace("\n", "")
    fonts = {
        str(font.get("/BaseFont"))
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
        for font in [font.get_object()]
    }
    assert any("CJK" in name for name in fonts), fonts
