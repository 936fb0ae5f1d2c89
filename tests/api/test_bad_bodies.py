"""A JSON body that is not an object (null, false, "", 0, a list) is a 400 with a Chinese message, on every
action that reads a body — but only after the API has said who may act: anonymous is 401, another unit's
report 404 and a role that may not take the step 403, whatever the body."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import override_settings

from campaign.models import ReportingPeriod
from campaign.parsers import NOT_AN_OBJECT
from reports import services
from reports.models import ProgressReport
from tasks.models import Task
from tests.conftest import make_user
from units.models import CampaignRole, Membership, Unit

WHO = ["office", "leader", "liaison_a", "liaison_b", "anonymous"]
BODIES = ["null", "false", '""', "0", "[]", '[{"reason": "x"}]', '"text"']

# action: (method, url, status per role in WHO order for a non-object body; 400 = refused for its body)
ACTIONS = {
    "create": ("post", "/api/v1/reports/", [403, 403, 400, 400, 401]),
    "patch": ("patch", "/api/v1/reports/{draft}/", [403, 403, 400, 404, 401]),
    "submit": ("post", "/api/v1/reports/{draft}/submit/", [403, 403, 400, 404, 401]),
    "return": ("post", "/api/v1/reports/{submitted}/return/", [400, 403, 403, 404, 401]),
    "approve": ("post", "/api/v1/reports/{submitted}/approve/", [400, 403, 403, 404, 401]),
    "evidence": ("post", "/api/v1/reports/{draft}/evidence/", [403, 403, 400, 404, 401]),
    "reopen": ("post", "/api/v1/reopenings/", [400, 403, 403, 403, 401]),
    "compile": ("post", "/api/v1/compilations/", [400, 400, 400, 400, 401]),
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The people and the two reports every test here acts on, made once for the module (the ~280 tests only
    read them or are refused; a test that changes something does so in its own transaction, rolled back) and
    rolled back after the module. The same people as tests/conftest.py's role fixtures."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        unit_a, unit_b = Unit.objects.get(code="xuanchuanbu"), Unit.objects.get(code="kongtong")
        period = ReportingPeriod.objects.get(year=2025, quarter=4)
        period.state = ReportingPeriod.State.OPEN
        period.save()
        people = {
            "office": make_user("office_t", surname="张", given="主任"),
            "leader": make_user("leader_t", surname="李", given="领导"),
            "liaison_a": make_user("liaison_a", surname="王", given="宣"),
            "liaison_b": make_user("liaison_b", surname="赵", given="崆"),
        }
        CampaignRole.objects.create(user=people["office"], role=CampaignRole.Role.OFFICE)
        CampaignRole.objects.create(user=people["leader"], role=CampaignRole.Role.LEADERSHIP)
        Membership.objects.create(user=people["liaison_a"], unit=unit_a, role=Membership.Role.LIAISON)
        Membership.objects.create(user=people["liaison_b"], unit=unit_b, role=Membership.Role.LIAISON)
        draft = services.report_create(
            period=period,
            unit=unit_a,
            task=Task.objects.get(number=3),
            by=people["liaison_a"],
            progress="草稿",
        )
        submitted = services.report_create(
            period=period,
            unit=unit_a,
            task=Task.objects.get(number=4),
            by=people["liaison_a"],
            progress="已报",
        )
        services.report_submit(report=submitted, by=people["liaison_a"])
        yield {"draft": draft.pk, "submitted": submitted.pk, "people": people}
        transaction.set_rollback(True)


@pytest.fixture
def world_db(world, db):
    """``world`` inside the test's own transaction."""
    return world


def client_as(world, api_client, who):
    if who != "anonymous":
        api_client.force_authenticate(world["people"][who])
    return api_client


def state_of_reports() -> dict:
    return {
        pk: (version, state)
        for pk, version, state in ProgressReport.objects.values_list("pk", "version", "state")
    }


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", WHO)
def test_a_body_that_is_not_an_object_is_refused_after_the_permission_check(
    api_client, world_db, who, action, body
):
    method, url, expected = ACTIONS[action]
    client = client_as(world_db, api_client, who)
    before = state_of_reports()

    response = getattr(client, method)(url.format(**world_db), data=body, content_type="application/json")

    assert response.status_code == expected[WHO.index(who)]
    assert state_of_reports() == before
    if response.status_code == 400:
        assert response.json()["detail"] == NOT_AN_OBJECT


def test_leader_patch_without_version_is_403_not_400(api_client, world_db):
    client = client_as(world_db, api_client, "leader")

    response = client.patch(f"/api/v1/reports/{world_db['draft']}/", {"progress": "改"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "领导账号只能查看报告，不能填写或修改。"


def test_liaison_patch_without_version_is_still_told_to_send_it(api_client, world_db):
    client = client_as(world_db, api_client, "liaison_a")

    response = client.patch(f"/api/v1/reports/{world_db['draft']}/", {"progress": "改"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "version_required"


def test_an_object_body_still_works_after_the_checks(api_client, world_db):
    office = client_as(world_db, api_client, "office")

    returned = office.post(
        f"/api/v1/reports/{world_db['submitted']}/return/", {"reason": "请补充数据"}, format="json"
    )

    assert returned.status_code == 200
    assert returned.json()["return_reason"] == "请补充数据"


def test_submit_with_a_non_integer_version_is_a_400(api_client, world_db):
    client = client_as(world_db, api_client, "liaison_a")

    response = client.post(f"/api/v1/reports/{world_db['draft']}/submit/", {"version": "abc"}, format="json")

    assert response.status_code == 400
    assert json.dumps(response.json(), ensure_ascii=False).count("version 应为整数。") == 1


def test_empty_body_on_submit_is_no_parameters(api_client, world_db):
    client = client_as(world_db, api_client, "liaison_a")

    response = client.post(f"/api/v1/reports/{world_db['draft']}/submit/", content_type="application/json")

    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
