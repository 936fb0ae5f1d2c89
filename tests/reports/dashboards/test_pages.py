"""Dashboard pages and API on the shipped plan: who may see them, what they show, URL filters, query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaign.decorators import READERS_ONLY
from reports.compilations.models import Compilation
from reports.models import ProgressReport
from tasks.models import Responsibility, Task
from tests.campaign.test_decorators import assert_error_page
from tests.reports.dashboards.world import make_report, site
from units.models import Unit

State = ProgressReport.State
PAGES = [
    "/dashboard/",
    "/dashboard/targets/",
    "/dashboard/trends/",
    "/dashboard/leadership/",
    "/dashboard/units/kongtong/",
]
API = ["/api/v1/dashboard/completeness/", "/api/v1/dashboard/targets/"]
RAW_CODES = ["department", "county", "each_unit", "each_responsible", "city_district", "by_date", "per_year",
             "submitted", "approved", "returned", "demo_sites", "None"]  # fmt: skip


def frozen(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 4, tzinfo=dt.UTC), tick=False)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_anonymous_visitors_are_sent_to_login_and_refused_by_the_api(client, api_client, plan):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    for url in API:
        assert api_client.get(url).status_code == 401, url


@pytest.mark.parametrize("who", ["as_liaison_a", "as_liaison_b"])
def test_a_liaison_gets_403_on_every_dashboard_page_and_endpoint(request, who):
    client = request.getfixturevalue(who)

    for url in PAGES + API:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/targets/", "/dashboard/leadership/"])
def test_a_liaison_gets_the_chinese_403_page_with_the_site_navigation(as_liaison_a, url):
    response = as_liaison_a.get(url)

    assert_error_page(response, 403, message=READERS_ONLY, nav="本季度报送")


@pytest.mark.parametrize("who", ["as_office", "as_leader"])
def test_office_and_leadership_open_every_dashboard_in_chinese_without_raw_codes(request, who, open_period):
    client = request.getfixturevalue(who)
    make_report(
        period=open_period, unit=Unit.objects.get(code="kongtong"), task=22, metrics={"demo_sites": 2}
    )

    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        assert "看板" in text or "总览" in text, url
        for code in RAW_CODES:
            assert not re.search(rf"\b{code}\b", text), (url, code)
    for url in API:
        assert client.get(url).status_code == 200, url


def test_period_dashboard_shows_rates_matrix_links_and_overdue_liaisons(
    as_office, open_period, unit_a, liaison_a
):
    # given: 市委宣传部 carries 8 tasks; two reported (one late), one returned, one draft
    on_time = make_report(period=open_period, unit=unit_a, task=3, state=State.APPROVED)
    make_report(period=open_period, unit=unit_a, task=4, submitted_on=dt.date(2026, 1, 11))
    make_report(period=open_period, unit=unit_a, task=5, state=State.RETURNED)
    make_report(period=open_period, unit=unit_a, task=6, state=State.DRAFT)

    with frozen(dt.date(2026, 1, 12)):
        body = as_office.get("/dashboard/", {"period": open_period.pk}).content.decode()

    row = re.search(r'<tr data-unit="xuanchuanbu">(.*?)</tr>', body, re.S).group(1)
    assert '<td class="num" data-testid="rate">25.0%</td>' in row  # 2 of 8
    assert '<td class="num" data-testid="on-time-rate">12.5%</td>' in row  # 1 of 8
    assert f'href="/reports/{on_time.pk}/"' in row
    assert row.count('class="c c-returned"') == 1 and row.count('class="c c-draft"') == 1
    assert row.count('class="c c-submitted late"') == 1
    overdue = re.search(r'data-testid="overdue-list">(.*?)</ul>', body, re.S).group(1)
    assert "市委宣传部" in overdue and "退回未重报1项" in overdue
    assert "王宣" in overdue and 'href="tel:13800000001"' in overdue
    assert f'href="/compilations/new/?kind=quarterly&amp;period={open_period.pk}"' in body


def test_period_dashboard_filters_by_kind_and_section_from_the_url(as_office, open_period):
    body = as_office.get(
        "/dashboard/", {"period": open_period.pk, "kind": "county", "section": 8}
    ).content.decode()

    assert 'data-unit="kongtong"' in body and 'data-unit="xuanchuanbu"' not in body
    headers = re.findall(r'<th scope="col" class="tcol" title="任务(\d+)', body)
    assert headers == [str(n) for n in range(22, 30)]
    assert '<option value="county" selected>' in body and '<option value="8" selected>' in body


def test_without_a_current_campaign_the_dashboards_say_so_and_still_refuse_liaisons(
    client, office_user, liaison_a, plan
):
    plan.is_active = False
    plan.save()

    client.force_login(office_user)
    assert "系统中还没有创建活动" in client.get("/dashboard/targets/").content.decode()
    client.force_login(liaison_a)
    assert client.get("/dashboard/targets/").status_code == 403


def test_an_unknown_period_or_unit_is_the_chinese_404_page(as_office, plan):
    assert_error_page(
        as_office.get("/dashboard/", {"period": 999}), 404, message="没有这个报告期。", nav="看板"
    )
    assert_error_page(as_office.get("/dashboard/units/nowhere/"), 404, message="没有这个单位。", nav="看板")
    assert as_office.get("/api/v1/dashboard/completeness/", {"period": 999}).status_code == 404


def test_completeness_api_returns_per_unit_counts_rates_and_the_matrix(as_office, open_period, unit_a):
    approved = make_report(period=open_period, unit=unit_a, task=3, state=State.APPROVED)
    make_report(period=open_period, unit=unit_a, task=4, submitted_on=dt.date(2026, 1, 11))

    data = as_office.get("/api/v1/dashboard/completeness/", {"period": open_period.pk}).json()

    assert data["period"]["id"] == open_period.pk and data["period"]["due_on"] == "2026-01-10"
    unit = next(u for u in data["units"] if u["unit"] == unit_a.pk)
    assert {
        k: unit[k]
        for k in ("unit_name", "kind", "expected", "reported", "approved", "on_time", "rate", "on_time_rate")
    } == {
        "unit_name": "市委宣传部",
        "kind": "department",
        "expected": 8,
        "reported": 2,
        "approved": 1,
        "on_time": 1,
        "rate": 0.25,
        "on_time_rate": 0.125,
    }
    assert data["overall"]["expected"] == Responsibility.objects.count() == 363
    assert data["overall"]["reported"] == 2
    cells = next(m["cells"] for m in data["matrix"] if m["unit"] == unit_a.pk)
    assert [c["task"] for c in cells] == [2, 3, 4, 5, 6, 7, 8, 10]
    assert cells[1] == {"task": 3, "state": "approved", "report": approved.pk, "on_time": True}
    assert cells[0]["state"] == "none"


def test_completeness_api_validates_filters(as_office, open_period):
    assert as_office.get("/api/v1/dashboard/completeness/", {"kind": "province"}).status_code == 400
    assert as_office.get("/api/v1/dashboard/completeness/", {"period": "x"}).status_code == 400
    county = as_office.get("/api/v1/dashboard/completeness/", {"kind": "county"}).json()
    assert {u["kind"] for u in county["units"]} == {"county"} and len(county["units"]) == 7


def test_targets_api_and_page_give_reported_against_promised_with_lights(as_office, plan, unit_b):
    # given: 崆峒区 (task 22: ≥3 demonstration sites by the end of 2025) has 3 named in the register and 4
    # more still 培育; a report's typed "示范点" number counts for nothing
    task22 = Task.objects.get(campaign=plan, number=22)
    for _ in range(3):
        site(unit_b, task22)
    for _ in range(4):
        site(unit_b, task22, named_on=None)
    make_report(
        period=plan.periods.get(year=2024, quarter=1),
        unit=unit_b,
        task=22,
        state=State.APPROVED,
        metrics={"demo_sites": 9},
    )

    with frozen(dt.date(2026, 1, 5)):
        data = as_office.get("/api/v1/dashboard/targets/").json()
        page = as_office.get("/dashboard/targets/", {"kind": "county", "light": "green"}).content.decode()

    task22 = [t for t in data["targets"] if t["task"] == 22 and t["scope"] == "each_unit"]
    kongtong = next(t for t in task22 if t["unit"] == unit_b.pk)
    assert (kongtong["reported"], kongtong["promised"], kongtong["light"]) == ("3.00", "3.00", "green")
    huating = next(t for t in task22 if t["unit_name"] == "华亭市")
    assert (huating["reported"], huating["light"]) == ("0.00", "red")
    city = next(t for t in data["targets"] if t["task"] == 23 and t["scope"] == "city")
    assert (city["unit"], city["scope_label"], city["window"]) == (None, "市上", "到2025年底")
    assert "崆峒区" in page and 'data-light="red"' not in page
    assert "“八进”示范点" in page and "3 / 3" in page


def test_leadership_overview_shows_phase_rates_red_items_and_compilations(as_leader, plan):
    period = plan.periods.get(year=2024, quarter=1)
    make_report(period=period, unit=Unit.objects.get(code="kongtong"), task=1, state=State.APPROVED)
    done = Compilation.objects.create(
        kind=Compilation.Kind.QUARTERLY, format=Compilation.Format.PDF, period=period,
        state=Compilation.State.DONE, finished_at=timezone.now(),
    )  # fmt: skip
    Compilation.objects.create(kind=Compilation.Kind.LEDGER, format=Compilation.Format.XLSX, state="running")
    period.state = "open"
    period.save()

    with frozen(dt.date(2024, 5, 1)):
        body = as_leader.get("/dashboard/leadership/").content.decode()

    assert 'data-testid="current-phase">组织实施阶段<' in body
    assert "距申报验收阶段（2025年3月1日）还有 304 天" in body
    assert 'data-testid="overall-rate">0.3%<' in body  # 1 of 363
    assert 'data-testid="red-units"' in body and "逾期未报" in body
    assert re.findall(r'href="/compilations/(\d+)/"', body) == [str(done.pk)]  # done ones only
    assert 'href="/compilations/new/?kind=quarterly&amp;period=' in body


def test_unit_page_shows_the_units_record_and_returned_reports(as_office, plan, unit_b):
    period = plan.periods.get(year=2024, quarter=2)
    returned = make_report(period=period, unit=unit_b, task=5, state=State.RETURNED)

    with frozen(dt.date(2024, 8, 1)):
        body = as_office.get("/dashboard/units/kongtong/").content.decode()

    assert "崆峒区" in body and "承担任务 29 项" in body
    assert f'href="/reports/{returned.pk}/"' in body and "请补充佐证材料。" in body
    assert "任务22：示范点不少于3个" in body


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_query_counts_do_not_grow_with_the_number_of_units(as_office, open_period):
    urls = [*PAGES, "/dashboard/?page=2", *API]
    before = {url: page_queries(as_office, url) for url in urls}
    tasks = list(Task.objects.filter(campaign=open_period.campaign))
    for i in range(60):
        unit = Unit.objects.create(
            code=f"extra-{i}", name=f"追加单位{i}", kind="county" if i % 2 else "department", order=900 + i
        )
        Responsibility.objects.bulk_create(Responsibility(task=t, unit=unit, order=99) for t in tasks[:5])
        make_report(
            period=open_period, unit=unit, task=tasks[0], state=State.APPROVED, metrics={"demo_sites": 1}
        )

    after = {url: page_queries(as_office, url) for url in urls}

    assert after == before


def test_overdue_list_shows_thirty_units_and_links_to_all(as_office, open_period):
    with frozen(dt.date(2026, 1, 12)):  # two days after the due date, nobody has reported
        body = as_office.get("/dashboard/", {"period": open_period.pk}).content.decode()
        everything = as_office.get(
            "/dashboard/", {"period": open_period.pk, "overdue": "all"}
        ).content.decode()

    units = Responsibility.objects.values("unit").distinct().count()
    assert f'data-testid="overdue-count">{units} 个<' in body
    overdue = re.search(r'data-testid="overdue-list">(.*?)</ul>', body, re.S).group(1)
    assert overdue.count('class="list-group-item') == 30
    assert f"另有 {units - 30} 个单位未列出" in body and "overdue=all" in body
    listed = re.search(r'data-testid="overdue-list">(.*?)</ul>', everything, re.S).group(1)
    assert listed.count('class="list-group-item') == units


def test_targets_and_trends_pages_show_figures_as_of_a_chosen_quarter_and_nothing_after(as_office, plan):
    from campaign.models import ReportingPeriod

    q3 = ReportingPeriod.objects.get(year=2025, quarter=3)

    targets = as_office.get(f"/dashboard/targets/?period={q3.pk}")
    trends = as_office.get(f"/dashboard/trends/?period={q3.pk}")

    assert targets.status_code == trends.status_code == 200
    assert "截至 2025年9月30日" in targets.content.decode()
    assert f'<option value="{q3.pk}" selected>2025年第三季度末</option>' in targets.content.decode()
    assert [(p.period.year, p.period.quarter) for p in trends.context["data"].points][-1] == (2025, 3)
    assert "数据截至 2025年9月30日，不含此后的报告期。" in trends.content.decode()


def test_the_apis_page_their_long_lists_and_keep_the_totals_whole(as_office, open_period, unit_a):
    make_report(period=open_period, unit=unit_a, task=3, state=State.APPROVED)
    url = "/api/v1/dashboard/completeness/"
    whole = as_office.get(url, {"period": open_period.pk}).json()
    first = as_office.get(url, {"period": open_period.pk, "page_size": 20}).json()
    third = as_office.get(url, {"period": open_period.pk, "page_size": 20, "page": 3}).json()

    assert (whole["count"], whole["pages"], whole["next"]) == (55, 1, None)  # the city fits one page
    assert (first["count"], first["page"], first["pages"], len(first["units"])) == (55, 1, 3, 20)
    assert "page=2" in first["next"] and first["previous"] is None
    assert len(third["units"]) == 15 and third["next"] is None
    # the page's units and their matrix rows, in the whole list's order; the totals cover every unit
    assert [u["unit"] for u in first["units"] + third["units"]] == [
        u["unit"] for u in whole["units"][:20] + whole["units"][40:]
    ]
    assert [m["unit"] for m in third["matrix"]] == [u["unit"] for u in third["units"]]
    assert first["overall"] == third["overall"] == whole["overall"]
    assert first["groups"] == whole["groups"]
    assert as_office.get(url, {"period": open_period.pk, "page_size": 20, "page": 4}).status_code == 404

    targets = as_office.get("/api/v1/dashboard/targets/", {"page_size": 1000}).json()
    paged = as_office.get("/api/v1/dashboard/targets/", {"page_size": 10, "page": 2}).json()
    assert paged["count"] == targets["count"] == len(targets["targets"]) > 100
    assert paged["targets"] == targets["targets"][10:20]
    assert paged["totals"] == targets["totals"]
    assert sum(targets["totals"].values()) == targets["count"]
    default = as_office.get("/api/v1/dashboard/targets/").json()
    assert len(default["targets"]) == 100 and "page=2" in default["next"]


def test_a_page_of_the_period_dashboard_shows_its_units_cells_and_every_units_totals(
    as_office, as_leader, open_period, unit_b, monkeypatch
):
    monkeypatch.setattr("reports.dashboards.views.UNITS_PER_PAGE", 20)
    made = make_report(period=open_period, unit=unit_b, task=5, state=State.SUBMITTED)
    whole = as_office.get(f"/dashboard/?period={open_period.pk}").context["comp"]
    pages = [as_office.get(f"/dashboard/?period={open_period.pk}&page={n}") for n in (1, 2, 3)]

    shown = [re.findall(r'<tr data-unit="([^"]+)">', p.content.decode()) for p in pages]
    assert [len(codes) for codes in shown] == [20, 20, 15]
    assert sum(shown, []) == [row.unit.code for row in whole.units]
    page_of_kongtong = next(p for p, codes in zip(pages, shown, strict=True) if "kongtong" in codes)
    body = page_of_kongtong.content.decode()
    row = re.search(r'<tr data-unit="kongtong">(.*?)</tr>', body, re.S).group(1)
    assert f'href="/reports/{made.pk}/"' in row and "c-submitted" in row
    for page in pages:  # totals of every unit on each page, and the pager in Chinese
        assert page.context["comp"].overall.reported == whole.overall.reported == 1
        assert f"第 {page.context['page'].number} / 3 页，共 55 条" in page.content.decode()
    assert "下一页" in pages[0].content.decode() and "上一页" in pages[2].content.decode()
    assert as_leader.get(f"/dashboard/?period={open_period.pk}&page=3").status_code == 200
