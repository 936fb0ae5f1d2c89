"""The read-only plan API: authentication, the 29 tasks with their units and leads, clear 4xx on bad input."""

import pytest

from tests.conftest import PASSWORD
from tests.tasks.test_fixture import COUNTY_LEVEL, NAMED

LIST_ENDPOINTS = ["units", "phases", "sections", "tasks", "periods", "metrics"]


@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_anonymous_gets_401(api_client, plan, name):
    response = api_client.get(f"/api/v1/{name}/")

    assert response.status_code == 401


@pytest.mark.parametrize("name", LIST_ENDPOINTS)
@pytest.mark.parametrize("who", ["office_user", "leadership_user", "liaison_a", "liaison_b"])
def test_every_role_reads_the_plan(request, api_client, name, who):
    api_client.force_authenticate(request.getfixturevalue(who))

    response = api_client.get(f"/api/v1/{name}/")

    assert response.status_code == 200
    assert response.json()["count"] > 0


def test_token_login_and_use(api_client, liaison_a):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "liaison_a", "password": PASSWORD}, format="json"
    )
    token = response.json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    tasks = api_client.get("/api/v1/tasks/?page_size=100")

    assert response.status_code == 200
    assert tasks.status_code == 200
    assert tasks.json()["count"] == 29


def test_token_with_wrong_password_is_refused_with_a_message(api_client, liaison_a):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "liaison_a", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "无法使用提供的认证信息登录" in str(response.json())


def test_unknown_token_is_401(api_client, plan):
    api_client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = api_client.get("/api/v1/tasks/")

    assert response.status_code == 401
    assert response.json()["detail"] == "认证令牌无效。"


def test_unknown_task_is_404(api_client, liaison_a):
    api_client.force_authenticate(liaison_a)

    response = api_client.get("/api/v1/tasks/999999/")

    assert response.status_code == 404


def test_tasks_endpoint_matches_the_plan(api_client, liaison_b):
    api_client.force_authenticate(liaison_b)

    tasks = api_client.get("/api/v1/tasks/", {"page_size": 1000}).json()["results"]

    assert [t["number"] for t in tasks] == list(range(1, 30))
    for task in tasks:
        named = [n for n in NAMED[task["number"]].split("、") if n]
        units = {r["unit_name"] for r in task["responsibilities"]}
        leads = [r["unit_name"] for r in task["responsibilities"] if r["role"] == "lead"]
        assert units == set(named) | COUNTY_LEVEL, task["number"]
        assert leads == named[:1], task["number"]
        assert {r["role"] for r in task["responsibilities"]} <= {"lead", "co"}


def test_task_carries_targets_and_unit_codes(api_client, liaison_b):
    api_client.force_authenticate(liaison_b)

    task = api_client.get("/api/v1/tasks/", {"number": 22}).json()["results"][0]

    assert task["title"] == "进乡镇(街道)"
    assert {r["unit_code"] for r in task["responsibilities"]} >= {"kongtong", "huating", "gaoxinqu"}
    assert [(t["scope_label"], t["value"]) for t in task["targets"]] == [
        ("崆峒区、华亭市", "3.00"),
        ("其他县", "2.00"),
    ]


def test_periods_have_labels_due_dates_and_states(api_client, liaison_a, open_period):
    api_client.force_authenticate(liaison_a)

    periods = api_client.get("/api/v1/periods/").json()["results"]

    assert periods[0]["label"] == "2023年第三季度"
    assert periods[0]["due_on"] == "2023-10-10"
    assert {p["state"] for p in periods} == {"upcoming", "open"}
    assert [p["label"] for p in periods if p["state"] == "open"] == ["2025年第四季度"]


def test_page_size_is_capped_at_1000(api_client, liaison_a):
    api_client.force_authenticate(liaison_a)

    response = api_client.get("/api/v1/units/", {"page_size": 5000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 56


def test_units_fields(api_client, liaison_a):
    api_client.force_authenticate(liaison_a)

    unit = api_client.get("/api/v1/units/", {"code": "chuangjianban"}).json()["results"][0]

    assert set(unit) == {"id", "code", "name", "kind", "parent"}
    assert unit["name"] == "创建工作办公室"


def test_plan_api_is_read_only(api_client, office_user):
    api_client.force_authenticate(office_user)

    response = api_client.post("/api/v1/tasks/", {"number": 30, "title": "x"}, format="json")

    assert response.status_code == 405


def test_schema_and_docs_are_served_without_a_cdn(as_office):
    schema = as_office.get("/api/schema/")
    docs = as_office.get("/api/docs/").content.decode()

    assert schema.status_code == 200
    assert "/api/v1/tasks/" in schema.content.decode()
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs
