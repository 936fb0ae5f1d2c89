"""The quarterly PDF: a real 总体情况 whose figures are the dashboards', a condensed account per task, and the
units' full texts only in an appendix that the request form can leave out."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from reports.compilations.models import Compilation
from reports.compilations.render import data
from reports.compilations.render.wording import official_number
from reports.compilations.services import compilation_request
from reports.dashboards import selectors as dashboard_selectors
from tests.reports.compilations.test_outputs import (  # noqa: F401
    PROGRESS_A,
    PROGRESS_B,
    SCREENSHOTS,
    compile_now,
    flat,
    year_2024,
)

pytestmark = pytest.mark.django_db


def text_of(compilation: Compilation, keep_as: str = "") -> str:
    if keep_as:  # kept to be looked at: var/screenshots/compilations/<name>.pdf and its PNG pages
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(compilation.file.path, SCREENSHOTS / f"{keep_as}.pdf")
    return flat(
        subprocess.run(["pdftotext", compilation.file.path, "-"], capture_output=True, text=True).stdout
    )


def test_overview_figures_equal_the_dashboards(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="quarterly", format="pdf", period=q3)
    text = text_of(compilation)
    tally = dashboard_selectors.completeness(q3).overall
    assert f"应报送进展报告{tally.expected}份，已报送{tally.reported}份" in text
    assert f"报送率{tally.rate * 100:.1f}%" in text
    assert f"按时报送{tally.on_time}份，按时报送率{tally.on_time_rate * 100:.1f}%" in text
    previous = dashboard_selectors.completeness(type(q3).objects.get(year=2024, quarter=2)).overall
    points = round((tally.rate - previous.rate) * 100, 1)
    assert ("较上季度提高" if points > 0 else "较上季度下降") + f"{abs(points):g}个百分点" in text
    red = [
        r.unit.name
        for r in dashboard_selectors.overdue_units(dashboard_selectors.completeness(q3))
        if r.light == "red"
    ]
    assert f"共{len(red)}个单位亮红灯" in text
    # Headline figures: the trends selector's quarter totals, worded as officials write them.
    point = next(p for p in dashboard_selectors.trends(q3.campaign, as_of=q3.as_of).points if p.period == q3)
    materials = point.metrics["materials"]
    assert f"印发宣传资料{official_number(materials, '份')}" in text
    targets = dashboard_selectors.target_progress(q3.campaign, as_of=q3.as_of)
    assert f"全市{len(targets)}项量化目标" in text


def test_quarterly_summary_is_condensed_and_appendix_is_optional(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    short = compile_now(office_user, kind="quarterly", format="pdf", period=q3)
    full = compile_now(office_user, kind="quarterly", format="pdf", period=q3, with_appendix=True)
    assert short.pk != full.pk and not short.with_appendix and full.with_appendix
    short_text, full_text = text_of(short, "quarterly-short"), text_of(full, "quarterly-appendix")
    for text in (short_text, full_text):
        assert "一、总体情况" in text and "二、各项任务推进情况" in text
        assert "（二）“共有精神家园建设”工程" in text
        assert "报告推进滞后" in text  # the task digest names the unit behind
        # No coloured tags in the text (the charts keep their legend symbols).
        assert not re.search(r"[▲■●](已报送|未报|滞后|逾期|退回|正常)", text)
        assert text.count("滞后·已报送·滞后") == 0
        assert q3.campaign.printed_by_name in text and "印发" in text  # 版记
    assert "附件：各单位报告全文" not in short_text and "工作进展：" not in short_text
    assert (
        "附件：各单位报告全文" in full_text
        and flat(PROGRESS_A) in full_text
        and flat(PROGRESS_B) in full_text
    )
    assert "草稿不进入汇总正文" not in full_text
    assert len(PdfReader(short.file.path).pages) < len(PdfReader(full.file.path).pages)


def test_identical_requests_with_a_different_appendix_choice_are_different_documents(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    first, created_1 = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)
    again, created_2 = compilation_request(kind="quarterly", format="pdf", period=q3, by=office_user)
    other, created_3 = compilation_request(
        kind="quarterly", format="pdf", period=q3, with_appendix=True, by=office_user
    )
    assert created_1 and not created_2 and again.pk == first.pk
    assert created_3 and other.pk != first.pk and other.with_appendix


def test_request_form_carries_the_appendix_checkbox(client, office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    client.force_login(office_user)
    page = client.get("/compilations/new/").content.decode()
    assert 'name="with_appendix"' in page and "附录：各单位报告全文" in page
    client.post(
        "/compilations/new/", {"kind": "quarterly", "format": "pdf", "period": q3.pk, "with_appendix": "1"}
    )
    assert Compilation.objects.filter(kind="quarterly", with_appendix=True).exists()


def test_name_list_summarises_long_lists():
    names = [f"单位{i}" for i in range(20)]
    assert data.name_list(names[:3]) == "单位0、单位1、单位2"
    assert data.name_list(names).endswith("等20个单位")
    assert re.fullmatch(r"(单位\d+、){7}单位7等20个单位", data.name_list(names))


def test_the_api_asks_for_the_appendix_and_reports_the_choice(api_client, office_user, open_period):
    api_client.force_authenticate(office_user)
    body = {"kind": "quarterly", "format": "pdf", "period": open_period.pk}

    short = api_client.post("/api/v1/compilations/", body, format="json")
    full = api_client.post("/api/v1/compilations/", body | {"with_appendix": True}, format="json")

    assert short.status_code == 201 and full.status_code == 201
    assert short.json()["with_appendix"] is False and full.json()["with_appendix"] is True
    assert short.json()["id"] != full.json()["id"]
