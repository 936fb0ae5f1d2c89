"""API /api/v1/indicator-systems/ and /api/v1/indicators/: fields, branch points, roles."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.demo import load_example
from assessment.models import IndicatorAccount, IndicatorLink
from tasks.models import Task
from tests.assessment.conftest import build_small_system, node

pytestmark = pytest.mark.django_db


def test_indicators_of_a_system_with_points_tasks_and_scores(
    api_client, leadership_user, small_system, office_user
):
    IndicatorAccount.objects.create(indicator=node(small_system, "1.1.1"), score=Decimal("12.5"))
    IndicatorAccount.objects.create(indicator=node(small_system, "1.1.2"), score=Decimal(15))
    IndicatorAccount.objects.create(indicator=node(small_system, "2.1.2"), account="草稿，未评分")
    api_client.force_login(leadership_user)
    response = api_client.get("/api/v1/indicators/", {"system": small_system.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 9
    rows = {row["code"]: row for row in body["results"]}
    assert list(rows) == ["1", "1.1", "1.1.1", "1.1.2", "2", "2.1", "2.1.1", "2.1.2", "3"]
    leaf = rows["1.1.1"]
    assert set(leaf) >= {"id", "parent", "code", "title", "points", "level", "tasks", "score"}
    assert leaf["parent"] == rows["1.1"]["id"] and rows["1"]["parent"] is None
    assert (leaf["level"], leaf["points"], leaf["score"]) == (3, "15.00", "12.50")
    assert leaf["tasks"] == [Task.objects.get(number=1).pk]
    assert rows["2.1.1"]["tasks"] == [Task.objects.get(number=3).pk]  # the suggested task 9 is not listed
    assert rows["2.1.2"]["tasks"] == [] and rows["2.1.2"]["score"] is None
    assert (rows["1"]["points"], rows["1"]["score"], rows["1"]["is_leaf"]) == ("30.00", "27.50", False)
    assert (rows["2"]["points"], rows["2"]["score"]) == ("40.00", None)
    assert rows["3"]["level"] == 1 and rows["3"]["is_leaf"]


def test_indicator_detail(api_client, as_office, office_user, small_system):
    api_client.force_login(office_user)
    branch = node(small_system, "2.1")
    body = api_client.get(f"/api/v1/indicators/{branch.pk}/").json()
    assert (body["code"], body["points"], body["level"], body["tasks"]) == ("2.1", "40.00", 2, [])


def test_systems_list_with_totals(api_client, office_user, small_system, plan):
    other = build_small_system(plan, name="另一个体系")
    IndicatorAccount.objects.create(indicator=node(small_system, "3"), score=Decimal(28))
    api_client.force_login(office_user)
    body = api_client.get("/api/v1/indicator-systems/").json()
    assert body["count"] == 2
    rows = {row["id"]: row for row in body["results"]}
    mine = rows[small_system.pk]
    assert mine["points"] == "100.00" and mine["score"] == "28.00"
    assert (mine["indicator_count"], mine["leaf_count"]) == (9, 5)
    assert mine["full_score"] == "100.00" and mine["pass_score"] == "90.00"
    assert rows[other.pk]["score"] is None
    filtered = api_client.get("/api/v1/indicators/", {"system": other.pk}).json()
    assert {row["system"] for row in filtered["results"]} == {other.pk}


def test_paged_like_the_other_lists(api_client, office_user, small_system):
    api_client.force_login(office_user)
    body = api_client.get("/api/v1/indicators/", {"system": small_system.pk, "page_size": 4}).json()
    assert body["count"] == 9 and len(body["results"]) == 4 and body["next"]
    page3 = api_client.get(
        "/api/v1/indicators/", {"system": small_system.pk, "page_size": 4, "page": 3}
    ).json()
    assert [row["code"] for row in page3["results"]] == ["3"]
    assert page3["results"][0]["points"] == "30.00"


def test_a_bad_system_parameter_is_a_400(api_client, office_user, small_system):
    api_client.force_login(office_user)
    response = api_client.get("/api/v1/indicators/", {"system": "abc"})
    assert response.status_code == 400 and "正整数" in str(response.json()["system"])


def test_queries_do_not_grow_with_the_tree(api_client, office_user, small_system, plan):
    big, _ = load_example(plan)
    api_client.force_login(office_user)
    counts = []
    for system in (small_system, big):
        with CaptureQueriesContext(connection) as queries:
            body = api_client.get("/api/v1/indicators/", {"system": system.pk, "page_size": 1000}).json()
        counts.append((body["count"], len(queries)))
    assert counts[0][0] == 9 and counts[1][0] == 83
    assert counts[0][1] == counts[1][1]


def test_unit_people_are_refused_and_anonymous_is_401(api_client, liaison_a, unit_leader, small_system):
    for url in (
        "/api/v1/indicator-systems/",
        "/api/v1/indicators/",
        f"/api/v1/indicator-systems/{small_system.pk}/",
    ):
        assert api_client.get(url).status_code == 401, url
        for user in (liaison_a, unit_leader):
            api_client.force_login(user)
            response = api_client.get(url)
            assert response.status_code == 403, url
            assert response.json()["detail"] == "测评与申报材料仅供创建办和领导查看。"
            api_client.logout()


def test_read_only(api_client, office_user, small_system):
    api_client.force_login(office_user)
    leaf = node(small_system, "1.1.1")
    assert (
        api_client.patch(f"/api/v1/indicators/{leaf.pk}/", {"title": "改"}, format="json").status_code == 405
    )
    assert api_client.post("/api/v1/indicator-systems/", {"name": "新"}, format="json").status_code == 405
    assert IndicatorLink.objects.filter(indicator=leaf).count() == 1
