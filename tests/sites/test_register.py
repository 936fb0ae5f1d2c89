"""The register's rules: a site counted once, status as of a date, a unit's sites are its own."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from campaign.errors import PermissionDenied
from reports.dashboards import selectors as dash
from sites import services
from sites.demo import seed_sites
from sites.models import Site
from sites.selectors import site_counts, sites_as_of
from tasks.models import Task

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="PNG")
    return SimpleUploadedFile("门口.png", out.getvalue(), content_type="image/png")


def named_site(liaison, office, unit, *, named_on=dt.date(2025, 6, 30), level=Site.Level.CITY):
    site = services.site_create(
        by=liaison,
        owner=unit,
        name="东关社区",
        category=Site.Category.COMMUNITY,
        task=Task.objects.get(number=25),
    )
    naming = services.naming_request(
        site=site,
        by=liaison,
        level=level,
        named_on=named_on,
        document=SimpleUploadedFile("命名.pdf", PDF, content_type="application/pdf"),
    )
    services.naming_approve(naming=naming, by=office)
    Site.objects.filter(pk=site.pk).update(created_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    return Site.objects.get(pk=site.pk)


def test_a_site_counts_once_whatever_the_number_of_units_reporting_it(
    plan, liaison_a, liaison_b, office_user, unit_a, unit_b
):
    site = named_site(liaison_b, office_user, unit_b)
    # the same place entered again by another unit: the office merges the duplicate, it counts once
    dup = services.site_create(
        by=liaison_a, owner=unit_a, name="东关社区（重复）", category="community", county=unit_b
    )
    assert sites_as_of(TODAY()).filter(name__startswith="东关").count() == 2
    services.site_merge(keep=site, absorb=dup, by=office_user)
    assert list(sites_as_of(TODAY()).values_list("pk", flat=True)) == [site.pk]
    assert site_counts(TODAY(), by=("category",)) == {("community",): 1}


def test_status_and_level_as_of_a_date(plan, liaison_b, office_user, unit_b):
    site = named_site(liaison_b, office_user, unit_b, named_on=dt.date(2025, 6, 30))
    Site.objects.filter(pk=site.pk).update(created_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    assert not sites_as_of(dt.date(2024, 12, 31)).exists()  # not yet created
    before = sites_as_of(dt.date(2025, 6, 29)).get(pk=site.pk)
    after = sites_as_of(dt.date(2025, 6, 30)).get(pk=site.pk)
    assert (before.status_on, after.status_on) == ("cultivating", "named")
    assert after.level_on == "city"
    assert sites_as_of(dt.date(2025, 6, 29), status="named").count() == 0
    assert sites_as_of(dt.date(2025, 7, 1), status="named", level="city").count() == 1


def test_a_liaison_cannot_touch_another_units_site(plan, liaison_a, liaison_b, unit_b):
    site = services.site_create(by=liaison_b, owner=unit_b, name="崆峒小学", category="school")
    with pytest.raises(PermissionDenied):
        services.site_update(site=site, by=liaison_a, name="改名")
    with pytest.raises(PermissionDenied):
        services.site_add_photo(site=site, by=liaison_a, upload=png())
    with pytest.raises(PermissionDenied):
        services.site_create(by=liaison_a, owner=unit_b, name="冒名", category="school")


def test_another_units_site_page_and_api_are_not_found(plan, client, liaison_a, liaison_b, unit_b):
    site = services.site_create(by=liaison_b, owner=unit_b, name="崆峒小学", category="school")
    client.force_login(liaison_a)
    assert client.get(f"/sites/{site.pk}/").status_code == 404
    assert client.post(f"/sites/{site.pk}/edit/", {"name": "x"}).status_code == 404
    assert client.get(f"/api/v1/sites/{site.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/sites/{site.pk}/", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    assert client.get("/api/v1/sites/").json()["count"] == 0
    assert Site.objects.get(pk=site.pk).name == "崆峒小学"


def test_liaison_adds_a_site_with_a_photo_and_history_is_kept(plan, client, liaison_b, unit_b):
    client.force_login(liaison_b)
    response = client.post(
        "/sites/add/",
        {
            "name": "崆峒区第一中学",
            "category": "school",
            "county": unit_b.pk,
            "level": "county",
            "photo": png(),
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(name="崆峒区第一中学")
    assert site.photos.get().thumbnail and site.photos.get().original_name == "门口.png"
    assert not site.photos.get().file.name.endswith("门口.png")  # stored under a short safe name
    page = client.get(f"/sites/{site.pk}/")
    assert "崆峒区第一中学" in page.content.decode() and "上传照片" in page.content.decode()
    assert site.changes.filter(field="照片", after="上传照片“门口.png”").exists()  # a label, not a code
    services.site_update(site=site, by=liaison_b, address="崆峒大道1号")
    assert site.changes.filter(field="地址", after="崆峒大道1号").exists()


def test_office_returns_a_naming_with_a_reason(plan, liaison_b, office_user, unit_b):
    site = services.site_create(by=liaison_b, owner=unit_b, name="崆峒小学", category="school")
    naming = services.naming_request(
        site=site,
        by=liaison_b,
        level="city",
        named_on=dt.date(2025, 5, 1),
        document=SimpleUploadedFile("命名.pdf", PDF),
    )
    with pytest.raises(PermissionDenied):
        services.naming_approve(naming=naming, by=liaison_b)
    services.naming_return(naming=naming, by=office_user, reason="命名文件不清晰，请重新扫描")
    assert Site.objects.get(pk=site.pk).status == "cultivating"


def test_eight_into_table_counts_named_sites_from_the_register(plan, liaison_b, office_user, unit_b):
    named_site(liaison_b, office_user, unit_b)
    services.site_create(
        by=liaison_b, owner=unit_b, name="培育中的", category="community", task=Task.objects.get(number=25)
    )
    table = dash.eight_into_table(plan, as_of=dt.date(2025, 12, 31))
    column = [t.number for t in table.categories].index(25)
    row = next(r for r in table.rows if r.unit and r.unit.pk == unit_b.pk)
    assert row.cells[column].reported == 1
    assert table.total.cells[column].reported == 1
    early = dash.eight_into_table(plan, as_of=dt.date(2025, 6, 1))
    assert early.total.cells[column].reported == 0


def test_demo_register_is_believable(plan):
    from collections import Counter

    from campaign.lights import GREEN, RED
    from reports.demo import weak_units
    from units.models import Unit

    day = dt.date(2026, 3, 1)
    sites = seed_sites(day)
    assert seed_sites(day) == list(Site.objects.all())  # idempotent
    counts = site_counts(day, by=("status",))
    assert counts[("named",)] > counts[("cultivating",)] > 10
    assert len({s.county_id for s in sites}) >= 7
    assert len({s.name for s in sites}) == len(sites)  # every place has its own name
    assert all(s.created_at.date() <= day and (s.named_on is None or s.named_on <= day) for s in sites)

    # the plan's numbers are mostly met, the reds in the demo's weak county; 7 省级 and 20 市级 reached
    rows = [
        r
        for r in dash.target_progress(plan, as_of=day)
        if r.target.metric.code in ("demo_sites", "sites_provincial", "sites_city")
    ]
    lights = Counter(r.light for r in rows)
    assert lights[GREEN] >= 0.8 * len(rows) and lights[RED] > 0
    [weak_county] = [u for u in Unit.objects.filter(pk__in=_weak(plan, weak_units)) if u.is_county_level]
    assert {r.unit_name for r in rows if r.light == RED} == {weak_county.name}
    tiers = [r for r in rows if r.target.metric.code != "demo_sites"]
    assert [(r.reported >= r.promised, r.light) for r in tiers] == [(True, GREEN), (True, GREEN)]
    # a quarter in the middle of the campaign: fewer named, still on the way
    assert site_counts(dt.date(2024, 6, 30), by=("status",)).get(("named",), 0) < counts[("named",)] / 2


def _weak(plan, weak_units):
    from tasks.models import Responsibility

    resp = list(Responsibility.objects.filter(task__campaign=plan).select_related("unit"))
    return weak_units(
        list({r.unit_id: r.unit for r in resp}.values()), {r.unit_id for r in resp if r.is_lead}
    )


def test_register_pages_and_documents_for_the_office(plan, client, office_user):
    from openpyxl import load_workbook

    seed_sites(TODAY())
    client.force_login(office_user)
    page = client.get("/sites/?status=named")
    assert page.status_code == 200 and "示范点台账" in page.content.decode()
    book = load_workbook(io.BytesIO(client.get("/sites/ledger.xlsx").content))
    rows = list(book.active.values)
    assert rows[0][1] == "名称" and len(rows) == Site.objects.count() + 1
    pdf = client.get("/sites/directory.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/sites/namings/").status_code == 200
    assert client.get("/sites/merge/").status_code == 200


def test_the_report_form_of_an_arena_task_links_to_the_register_instead_of_asking_for_a_number(
    client, open_period, unit_b, liaison_b
):
    from tests.factories import fill_url

    client.force_login(liaison_b)
    body = client.get(fill_url(open_period, unit_b, 24)).content.decode()

    assert 'data-testid="sites-card"' in body
    task = Task.objects.get(campaign=open_period.campaign, number=24)
    assert f'href="/sites/add/?task={task.pk}"' in body
    assert "示范点（个）" not in body
    add = client.get(f"/sites/add/?task={task.pk}").content.decode()
    assert f'<option value="{task.pk}" selected>' in add
