"""Who may do what, for every reports endpoint and page: office, leadership, liaison of the report's unit (A),
liaison of another unit (B), anonymous. Another unit's report is 404, never 403, so ids leak nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaign.models import ReportingPeriod
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


@pytest.fixture
def world(open_period, unit_a, liaison_a, liaison_b, office_user, leadership_user):
    """A draft and a submitted report of unit A, and a closed period."""
    draft = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=3), by=liaison_a, progress="草稿"
    )
    submitted = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=4), by=liaison_a, progress="已报"
    )
    services.report_submit(report=submitted, by=liaison_a)
    closed = ReportingPeriod.objects.get(year=2025, quarter=3)
    closed.state = ReportingPeriod.State.CLOSED
    closed.save()
    return {"draft": draft, "submitted": submitted, "closed": closed, "unit_a": unit_a, "period": open_period}


def png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue())


def api_as(request, api_client, who):
    if who != "anonymous":
        api_client.force_authenticate(request.getfixturevalue(USERS[who]))
    return api_client


def page_as(request, client, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(USERS[who]))
    return client


# ---------------------------------------------------------------- API

API_CASES = {
    # name: (method, url template, payload, expected status per role in WHO order)
    "list": ("get", "/api/v1/reports/", None, [200, 200, 200, 200, 401]),
    "retrieve": ("get", "/api/v1/reports/{draft}/", None, [200, 200, 200, 404, 401]),
    "create": (
        "post",
        "/api/v1/reports/",
        {"period": "{period}", "unit": "{unit_a}", "task": "{task5}", "progress": "新"},
        [403, 403, 201, 403, 401],
    ),
    "patch": (
        "patch",
        "/api/v1/reports/{draft}/",
        {"progress": "改", "version": 1},
        [403, 403, 200, 404, 401],
    ),
    "submit": ("post", "/api/v1/reports/{draft}/submit/", {}, [403, 403, 200, 404, 401]),
    "return": ("post", "/api/v1/reports/{submitted}/return/", {"reason": "补充"}, [200, 403, 403, 404, 401]),
    "approve": ("post", "/api/v1/reports/{submitted}/approve/", {}, [200, 403, 403, 404, 401]),
    "evidence_list": ("get", "/api/v1/reports/{draft}/evidence/", None, [200, 200, 200, 404, 401]),
    "evidence_add": ("post", "/api/v1/reports/{draft}/evidence/", "file", [403, 403, 201, 404, 401]),
    "events": ("get", "/api/v1/reports/{draft}/events/", None, [200, 200, 200, 404, 401]),
    "reopen": (
        "post",
        "/api/v1/reopenings/",
        {"period": "{closed}", "unit": "{unit_a}", "reason": "补报"},
        [201, 403, 403, 403, 401],
    ),
}


def fill(template, world):
    values = {
        "draft": world["draft"].pk,
        "submitted": world["submitted"].pk,
        "period": world["period"].pk,
        "closed": world["closed"].pk,
        "unit_a": world["unit_a"].pk,
        "task5": Task.objects.get(number=5).pk,
    }
    if isinstance(template, str):
        out = template.format(**values)
        return int(out) if out.isdigit() and template.startswith("{") else out
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    return template


@pytest.mark.parametrize("case", list(API_CASES))
@pytest.mark.parametrize("who", WHO)
def test_api_permission_matrix(request, api_client, world, case, who):
    method, url, payload, expected = API_CASES[case]
    client = api_as(request, api_client, who)
    before = dict(ProgressReport.objects.values_list("pk", "version"))

    if payload == "file":
        response = client.post(fill(url, world), {"file": png()}, format="multipart")
    elif payload is None:
        response = getattr(client, method)(fill(url, world))
    else:
        response = getattr(client, method)(fill(url, world), fill(payload, world), format="json")

    assert response.status_code == expected[WHO.index(who)]
    if response.status_code >= 400 and response.status_code != 401:
        assert response.json()["detail"]  # always a message a person can read
        assert dict(ProgressReport.objects.values_list("pk", "version")) == before


def test_liaison_list_holds_only_the_units_own_reports(request, api_client, world):
    client = api_as(request, api_client, "liaison_b")

    body = client.get("/api/v1/reports/").json()

    assert body["count"] == 0


def test_someone_elses_report_id_is_a_404_with_a_chinese_message(request, api_client, world):
    client = api_as(request, api_client, "liaison_b")

    response = client.get(f"/api/v1/reports/{world['draft'].pk}/")

    assert response.json() == {"detail": "报告不存在，或您无权查看。", "code": "not_found"}


# ---------------------------------------------------------------- pages

PAGE_CASES = {
    "period": ("get", "/reports/", [403, 403, 200, 200, 302]),
    "history": ("get", "/reports/history/", [403, 403, 200, 200, 302]),
    "fill_new": ("get", "/reports/fill/{period}/{unit_a}/{task5}/", [403, 403, 200, 404, 302]),
    "detail": ("get", "/reports/{draft}/", [200, 200, 200, 404, 302]),
    "submit": ("post", "/reports/{draft}/submit/", [403, 403, 302, 404, 302]),
    "approve": ("post", "/reports/{submitted}/approve/", [302, 403, 403, 404, 302]),
    "return": ("post", "/reports/{submitted}/return/", [302, 403, 403, 404, 302]),
    "evidence_add": ("post", "/reports/{draft}/evidence/", [403, 403, 302, 404, 302]),
    "review_queue": ("get", "/reports/review/", [200, 403, 403, 403, 302]),
    "approve_many": ("post", "/reports/review/approve/", [302, 403, 403, 403, 302]),
    "reopen": ("get", "/reports/reopen/", [200, 403, 403, 403, 302]),
}


@pytest.mark.parametrize("case", list(PAGE_CASES))
@pytest.mark.parametrize("who", WHO)
def test_page_permission_matrix(request, client, world, case, who):
    method, url, expected = PAGE_CASES[case]
    browser = page_as(request, client, who)
    data = {"reason": "补充", "report": [world["submitted"].pk], "url": "https://example.cn/a"}

    response = (
        getattr(browser, method)(fill(url, world), data)
        if method == "post"
        else browser.get(fill(url, world))
    )

    assert response.status_code == expected[WHO.index(who)]
    body = response.content.decode()
    if who == "anonymous":
        assert response["Location"].startswith("/login/")
    elif response.status_code == 403:
        assert "无权访问" in body
    elif response.status_code == 404:
        assert "不存在，或您无权查看" in body
