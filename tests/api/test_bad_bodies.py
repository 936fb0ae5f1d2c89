"""A JSON body that is not an object (null, false, "", 0, a list) is a 400 with a Chinese message, on every
action that reads a body — but only after the API has said who may act: anonymous is 401, another unit's
report 404 and a role that may not take the step 403, whatever the body."""

from __future__ import annotations

import json

import pytest

from campaign.parsers import NOT_AN_OBJECT
from reports import services
from reports.models import ProgressReport
from tasks.models import Task

WHO = ["office", "leader", "liaison_a", "liaison_b", "anonymous"]
USERS = {
    "office": "office_user",
    "leader": "leadership_user",
    "liaison_a": "liaison_a",
    "liaison_b": "liaison_b",
}
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


@pytest.fixture
def world(open_period, unit_a, liaison_a, liaison_b, office_user, leadership_user):
    draft = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=3), by=liaison_a, progress="草稿"
    )
    submitted = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=4), by=liaison_a, progress="已报"
    )
    services.report_submit(report=submitted, by=liaison_a)
    return {"draft": draft.pk, "submitted": submitted.pk}


def client_as(request, api_client, who):
    if who != "anonymous":
        api_client.force_authenticate(request.getfixturevalue(USERS[who]))
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
    request, api_client, world, who, action, body
):
    method, url, expected = ACTIONS[action]
    client = client_as(request, api_client, who)
    before = state_of_reports()

    response = getattr(client, method)(url.format(**world), data=body, content_type="application/json")

    assert response.status_code == expected[WHO.index(who)]
    assert state_of_reports() == before
    if response.status_code == 400:
        assert response.json()["detail"] == NOT_AN_OBJECT


def test_leader_patch_without_version_is_403_not_400(request, api_client, world):
    client = client_as(request, api_client, "leader")

    response = client.patch(f"/api/v1/reports/{world['draft']}/", {"progress": "改"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "领导账号只能查看报告，不能填写或修改。"


def test_liaison_patch_without_version_is_still_told_to_send_it(request, api_client, world):
    client = client_as(request, api_client, "liaison_a")

    response = client.patch(f"/api/v1/reports/{world['draft']}/", {"progress": "改"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "version_required"


def test_an_object_body_still_works_after_the_checks(request, api_client, world):
    office = client_as(request, api_client, "office")

    returned = office.post(
        f"/api/v1/reports/{world['submitted']}/return/", {"reason": "请补充数据"}, format="json"
    )

    assert returned.status_code == 200
    assert returned.json()["return_reason"] == "请补充数据"


def test_submit_with_a_non_integer_version_is_a_400(request, api_client, world):
    client = client_as(request, api_client, "liaison_a")

    response = client.post(f"/api/v1/reports/{world['draft']}/submit/", {"version": "abc"}, format="json")

    assert response.status_code == 400
    assert json.dumps(response.json(), ensure_ascii=False).count("version 应为整数。") == 1


def test_empty_body_on_submit_is_no_parameters(request, api_client, world):
    client = client_as(request, api_client, "liaison_a")

    response = client.post(f"/api/v1/reports/{world['draft']}/submit/", content_type="application/json")

    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
