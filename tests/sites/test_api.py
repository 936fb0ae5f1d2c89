"""API /api/v1/sites/: create and update with the same unit rules as reports — a liaison writes their own
unit's sites, another unit's is 403 (create) or 404 (read / update), the office corrects any site, leadership
reads only."""

from __future__ import annotations

import datetime as dt

import pytest

from sites import services
from sites.models import Site, SiteChange
from tasks.models import Task
from units.models import Unit

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def kongtong_site(liaison_b, unit_b):
    return services.site_create(by=liaison_b, owner=unit_b, name="崆峒区第一中学", category="school")


def test_a_liaison_creates_a_site_for_their_own_unit(plan, as_liaison_b, unit_b):
    task = Task.objects.get(campaign=plan, number=26)
    response = as_liaison_b.post(
        "/api/v1/sites/",
        {"name": "崆峒区东关社区", "category": "community", "task": task.pk, "address": "东关街1号"},
        content_type=JSON,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    site = Site.objects.get(pk=body["id"])
    # the owner defaults to the liaison's unit, and a county's site is in that county
    assert (site.owner, site.county, site.task, site.status) == (unit_b, unit_b, task, "cultivating")
    assert (body["status_on"], body["level_on"], body["owner"]) == ("cultivating", "county", unit_b.pk)
    assert SiteChange.objects.filter(site=site, after__contains="新建示范点").exists()


def test_a_liaison_cannot_create_a_site_for_another_unit(plan, as_liaison_a, unit_b):
    response = as_liaison_a.post(
        "/api/v1/sites/",
        {"name": "冒名的示范点", "category": "school", "owner": unit_b.pk, "county": unit_b.pk},
        content_type=JSON,
    )

    assert response.status_code == 403
    assert "所属单位的联络员" in response.json()["detail"]
    assert not Site.objects.filter(name="冒名的示范点").exists()


def test_a_department_liaison_must_say_which_county_the_site_is_in(plan, as_liaison_a, unit_a):
    missing = as_liaison_a.post(
        "/api/v1/sites/", {"name": "宣传部机关", "category": "organ"}, content_type=JSON
    )
    placed = as_liaison_a.post(
        "/api/v1/sites/",
        {"name": "宣传部机关", "category": "organ", "county": Unit.objects.get(code="huating").pk},
        content_type=JSON,
    )

    assert missing.status_code == 400 and "县(市、区)" in str(missing.json())
    assert placed.status_code == 201 and Site.objects.get(name="宣传部机关").owner == unit_a


def test_a_liaison_updates_their_own_site_and_the_change_is_kept(kongtong_site, as_liaison_b):
    response = as_liaison_b.patch(
        f"/api/v1/sites/{kongtong_site.pk}/", {"address": "崆峒大道1号"}, content_type=JSON
    )

    assert response.status_code == 200 and response.json()["address"] == "崆峒大道1号"
    assert kongtong_site.changes.filter(field="地址", before="", after="崆峒大道1号").exists()


def test_another_units_liaison_gets_404_on_read_and_update(kongtong_site, as_liaison_a):
    url = f"/api/v1/sites/{kongtong_site.pk}/"
    assert as_liaison_a.get(url).status_code == 404
    assert as_liaison_a.patch(url, {"name": "改名"}, content_type=JSON).status_code == 404
    put = {"name": "改名", "category": "school", "county": kongtong_site.county_id}
    assert as_liaison_a.put(url, put, content_type=JSON).status_code == 404
    assert Site.objects.get(pk=kongtong_site.pk).name == "崆峒区第一中学"


def test_the_office_corrects_any_site(kongtong_site, as_office, office_user):
    response = as_office.patch(
        f"/api/v1/sites/{kongtong_site.pk}/", {"name": "崆峒区第一中学（新校区）"}, content_type=JSON
    )

    assert response.status_code == 200
    change = kongtong_site.changes.get(field="名称", before="崆峒区第一中学")
    assert (change.before, change.after, change.by) == (
        "崆峒区第一中学",
        "崆峒区第一中学（新校区）",
        office_user,
    )


def test_leadership_reads_the_register_but_cannot_write(kongtong_site, as_leader, unit_b):
    listed = as_leader.get("/api/v1/sites/", {"county": unit_b.pk, "as_of": dt.date.today().isoformat()})
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["results"]] == [kongtong_site.pk]

    patched = as_leader.patch(f"/api/v1/sites/{kongtong_site.pk}/", {"name": "x"}, content_type=JSON)
    created = as_leader.post(
        "/api/v1/sites/", {"name": "x", "category": "school", "owner": unit_b.pk}, content_type=JSON
    )

    assert patched.status_code == 403 and created.status_code == 403
    assert Site.objects.get(pk=kongtong_site.pk).name == "崆峒区第一中学"
    assert Site.objects.count() == 1


def test_status_and_naming_date_cannot_be_written_through_the_api(kongtong_site, as_liaison_b):
    response = as_liaison_b.patch(
        f"/api/v1/sites/{kongtong_site.pk}/",
        {"status": "named", "named_on": "2025-01-01", "level": "province"},
        content_type=JSON,
    )

    assert response.status_code == 200
    site = Site.objects.get(pk=kongtong_site.pk)
    # only an approved naming makes a site 命名; the level here is the intended one while 培育
    assert (site.status, site.named_on, site.level) == ("cultivating", None, "province")
    assert response.json()["status_on"] == "cultivating"


def test_a_bad_as_of_is_a_400_in_chinese(kongtong_site, as_office):
    response = as_office.get("/api/v1/sites/", {"as_of": "2025-13-01"})
    assert response.status_code == 400 and "YYYY-MM-DD" in str(response.json())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=9999-12-31", "as_of"),
        ("as_of=0040-12-20", "as_of"),
        ("unit=FJ", "unit"),
        ("county=-5", "county"),
    ],
)
def test_out_of_range_filters_are_a_clear_400_not_a_server_error(api_client, office_user, query, field):
    api_client.force_authenticate(office_user)

    response = api_client.get(f"/api/v1/sites/?{query}")

    assert response.status_code == 400
    assert field in response.json()
