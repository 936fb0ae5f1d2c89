"""A report's evidence and events are lists in pages, as the schema says and as every other list of the API:
``{"count", "next", "previous", "results"}`` with ``?page_size=``; the report list's filters do not apply."""

from __future__ import annotations

import pytest
import schemathesis
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import response_schema_conformance

from reports import services
from tasks.models import Task
from tests.api.conftest import wsgi_app


@pytest.fixture
def report(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=3), by=liaison_a, progress="开展宣讲"
    )
    for n in range(3):
        services.evidence_add_link(
            report=report, by=liaison_a, url=f"https://example.cn/news/{n}", caption=f"新闻{n}"
        )
    return report


@pytest.fixture
def api_a(api_client, liaison_a):
    api_client.force_authenticate(liaison_a)
    return api_client


def test_evidence_list_is_paged(api_a, report):
    first = api_a.get(f"/api/v1/reports/{report.pk}/evidence/", {"page_size": 2}).json()
    second = api_a.get(f"/api/v1/reports/{report.pk}/evidence/", {"page_size": 2, "page": 2}).json()

    assert first["count"] == 3
    assert [e["caption"] for e in first["results"]] == ["新闻0", "新闻1"]
    assert [e["caption"] for e in second["results"]] == ["新闻2"]
    assert first["next"].endswith(f"/api/v1/reports/{report.pk}/evidence/?page=2&page_size=2")


def test_events_list_is_paged_oldest_first(api_a, report):
    body = api_a.get(f"/api/v1/reports/{report.pk}/events/").json()

    assert body["count"] == 4
    assert [e["action"] for e in body["results"]] == [
        "created",
        "evidence_added",
        "evidence_added",
        "evidence_added",
    ]
    assert body["previous"] is None and body["next"] is None


def test_report_filters_do_not_hide_a_reports_events(api_a, report):
    response = api_a.get(f"/api/v1/reports/{report.pk}/events/", {"state": "approved"})

    assert response.status_code == 200
    assert response.json()["count"] == 4


@pytest.mark.parametrize("path", ["evidence", "events"])
def test_evidence_and_events_match_the_schema(client, report, liaison_a, office_user, path):
    client.force_login(office_user)
    schema = schemathesis.openapi.from_dict(client.get("/api/schema/", {"format": "json"}).json())
    operation = schema[f"/api/v1/reports/{{id}}/{path}/"]["GET"]
    case = operation.Case(path_parameters={"id": report.pk})
    token = Token.objects.create(user=liaison_a)

    response = case.call(app=wsgi_app(), headers={"Authorization": f"Token {token.key}"})

    assert response.status_code == 200
    case.validate_response(response, checks=[response_schema_conformance])  # raises on a violation
    names = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    assert names == {"id", "page", "page_size"}
