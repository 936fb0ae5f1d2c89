"""The shell every page shares: the liaison's home with each task's state this quarter, the home timeline's
labels, the charts drawn to scale, the favicon and the print stylesheet."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.utils import timezone

from campaign import lights
from campaign.models import Campaign
from campaign.selectors import campaign_timeline
from reports.dashboards import charts
from reports.models import ProgressReport
from tests.factories import make_report

State = ProgressReport.State
STATIC = Path(settings.BASE_DIR) / "static"


def status_cells(body: str) -> dict[int, str]:
    """Task number → the text of its 本季度状态 cell on the liaison's home page."""
    rows = re.findall(r'<tr data-task="(\d+)">(.*?)</tr>', body, re.S)
    out = {}
    for number, row in rows:
        cell = re.search(r'data-testid="task-status">(.*?)</td>', row, re.S)
        out[int(number)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell.group(1))).strip() if cell else ""
    return out


def test_the_liaison_home_shows_each_tasks_state_this_quarter(as_liaison_b, unit_b, open_period):
    approved = make_report(period=open_period, unit=unit_b, task=22, state=State.APPROVED)
    make_report(period=open_period, unit=unit_b, task=23, state=State.SUBMITTED)
    returned = make_report(period=open_period, unit=unit_b, task=24, state=State.RETURNED)
    make_report(period=open_period, unit=unit_b, task=25, state=State.DRAFT)

    body = as_liaison_b.get("/").content.decode()

    cells = status_cells(body)
    assert len(cells) == 29
    # The words are ProgressReport.light_for's, the links the 本季度报送 page's.
    assert cells[22] == "● 已通过 查看 任务22的报告"
    assert cells[23] == "● 已报送 查看 任务23的报告"
    assert cells[24] == "■ 退回未重报 修改 任务24的报告"
    assert cells[25].endswith("继续填写 任务25的报告")
    _colour, label = ProgressReport.light_for(None, open_period, timezone.localdate())
    assert cells[26] == f"{lights.light(_colour).symbol} {label} 填写 任务26的报告"
    assert f'href="/reports/{approved.pk}/"' in body
    assert f'href="/reports/fill/{open_period.pk}/{unit_b.pk}/{returned.task_id}/"' in body
    assert "已报送 2 项，待报送 27 项，其中退回 1 项" in body


def test_the_liaison_home_without_an_open_period_has_no_state_column(as_liaison_b, plan):
    body = as_liaison_b.get("/").content.decode()

    assert "本季度状态" not in body
    assert status_cells(body) and set(status_cells(body).values()) == {""}


def test_a_phase_too_short_for_its_name_shows_its_number_in_the_bar(as_office, plan):
    campaign = Campaign.current()
    bars = campaign_timeline(campaign).bars
    assert [b.narrow for b in bars] == [True, False, False]  # 宣传动员阶段 is two months of 31

    body = as_office.get("/").content.decode()

    labels = re.findall(r'<div class="phase p\d[^"]*"[^>]*>([^<]*)</div>', body)
    assert labels == ["1", "2. 组织实施阶段", "3. 申报验收阶段"]
    assert "1. 宣传动员阶段（" in body  # the numbered list under the line names it


def test_charts_scale_to_their_column(plan, open_period):
    svg = str(charts.period_completeness_svg(open_period))

    root = ElementTree.fromstring(svg)
    assert root.get("width") == "100%"
    assert root.get("height") is None  # follows from the viewBox's proportions
    assert re.fullmatch(r"0 0 760 \d+", root.get("viewBox"))


def test_every_page_links_the_favicon_and_the_print_stylesheet(as_liaison_a, plan):
    body = as_liaison_a.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in body
    icon = ElementTree.fromstring((STATIC / "favicon.svg").read_text(encoding="utf-8"))
    assert icon.tag == "{http://www.w3.org/2000/svg}svg" and icon.get("viewBox") == "0 0 64 64"


@pytest.mark.parametrize("rule", ["size: A4 landscape", "print-color-adjust: exact", ".matrix-wrap"])
def test_the_print_stylesheet_prints_landscape_with_colours_and_every_column(rule):
    css = (STATIC / "css" / "print.css").read_text(encoding="utf-8")

    assert rule in css
