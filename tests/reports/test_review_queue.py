"""The office's review queue (issue 13, point 5): it opens on the current period's pending reports, newest
deadline first; it sorts by unit, task, submitted time and deadline; 通过并下一份 opens the next pending
report; the queue exports to Excel with every user string kept as text."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from campaign.models import ReportingPeriod
from reports.models import ProgressReport
from tests.factories import make_report

S = ProgressReport.State


def ids(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-report="(\d+)">', body)]


def closed(year: int, quarter: int) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=year, quarter=quarter)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


def test_queue_opens_on_the_current_periods_pending_reports(as_office, open_period, unit_a, unit_b):
    old = make_report(period=closed(2024, 1), unit=unit_a, task=3, submitted_on=dt.date(2024, 4, 2))
    current = make_report(period=open_period, unit=unit_b, task=3, submitted_on=dt.date(2026, 1, 5))

    body = as_office.get("/reports/review/").content.decode()
    everything = as_office.get("/reports/review/?period=").content.decode()

    assert ids(body) == [current.pk]
    assert f'<option value="{open_period.pk}" selected>' in body
    assert ids(everything) == [current.pk, old.pk]  # every period: the newest deadline first


def test_queue_sorts_by_unit_task_submitted_time_and_deadline(as_office, open_period, unit_a, unit_b):
    a5 = make_report(period=open_period, unit=unit_a, task=5, submitted_on=dt.date(2026, 1, 3))
    b3 = make_report(period=open_period, unit=unit_b, task=3, submitted_on=dt.date(2026, 1, 7))
    a4 = make_report(period=open_period, unit=unit_a, task=4, submitted_on=dt.date(2026, 1, 5))

    def order(sort: str) -> list[int]:
        return ids(as_office.get(f"/reports/review/?sort={sort}").content.decode())

    assert order("submitted") == [a5.pk, a4.pk, b3.pk]
    assert order("-submitted") == [b3.pk, a4.pk, a5.pk]
    assert order("task") == [b3.pk, a4.pk, a5.pk]
    assert order("unit") == [a5.pk, a4.pk, b3.pk]  # 市委宣传部 comes before 崆峒区 in the plan's order
    assert order("-unit")[0] == b3.pk
    assert order("nonsense") == order("-deadline")
    body = as_office.get("/reports/review/?sort=task").content.decode()
    assert 'aria-sort="ascending"><a class="sort-link" href="?period=' in body


def test_approve_and_next_opens_the_next_pending_report(as_office, open_period, unit_a, unit_b):
    first = make_report(period=open_period, unit=unit_a, task=3, submitted_on=dt.date(2026, 1, 3))
    second = make_report(period=open_period, unit=unit_b, task=3, submitted_on=dt.date(2026, 1, 4))

    page = as_office.get(f"/reports/{first.pk}/").content.decode()
    response = as_office.post(f"/reports/{first.pk}/approve/", {"then": "next"}, HTTP_HX_REQUEST="true")
    last = as_office.post(f"/reports/{second.pk}/approve/", {"then": "next"})

    assert 'data-testid="approve-next"' in page
    assert response.status_code == 204
    assert f'"path": "/reports/{second.pk}/"' in response["HX-Location"]
    first.refresh_from_db()
    assert first.state == S.APPROVED
    assert last.status_code == 302 and last["Location"] == "/reports/review/"


def test_queue_exports_to_excel_with_user_text_as_text(as_office, open_period, unit_a, unit_b):
    unit_a.name = '=HYPERLINK("http://x")'
    unit_a.save()
    make_report(period=open_period, unit=unit_a, task=3, submitted_on=dt.date(2026, 1, 3))
    make_report(period=open_period, unit=unit_b, task=4, submitted_on=dt.date(2026, 1, 4))

    response = as_office.get("/reports/review/export/?sort=submitted")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("报告期", "截止日期", "单位", "任务编号", "任务")
    assert [r[2] for r in rows[1:]] == ['=HYPERLINK("http://x")', "崆峒区"]
    assert sheet["C2"].data_type == "s"
    assert rows[1][1] == dt.datetime(2026, 1, 10)


def test_queue_export_is_office_only(as_liaison_a, open_period):
    assert as_liaison_a.get("/reports/review/export/").status_code == 403
