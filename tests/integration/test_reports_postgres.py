"""The reporting loop through the API against PostgreSQL: committed rows, real row locks, real constraints."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from PIL import Image
from rest_framework.test import APIClient

from reports.models import MetricValue, ProgressReport, ReportEvent
from tasks.models import Metric, Task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/reports/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_whole_loop_through_the_api_on_postgresql(
    open_period, unit_a, liaison_a, office_user, leadership_user
):
    assert connection.vendor == "postgresql"
    liaison, office, leader = client_for(liaison_a), client_for(office_user), client_for(leadership_user)
    lectures = Metric.objects.get(code="lectures")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(photo, format="PNG")
    photo.name = "现场.png"
    photo.seek(0)

    created = liaison.post(
        URL,
        {
            "period": open_period.pk,
            "unit": unit_a.pk,
            "task": Task.objects.get(number=3).pk,
            "progress": "开展宣讲5场。",
            "metrics": [{"metric": lectures.pk, "value": 5}],
        },
        format="json",
    )
    report_id = created.json()["id"]
    evidence = liaison.post(
        f"{URL}{report_id}/evidence/", {"file": photo, "caption": "现场"}, format="multipart"
    )
    submitted = liaison.post(f"{URL}{report_id}/submit/", {"version": 1}, format="json")
    leader_try = leader.post(f"{URL}{report_id}/approve/")
    returned = office.post(f"{URL}{report_id}/return/", {"reason": "请补充时间地点。"}, format="json")
    fixed = liaison.patch(
        f"{URL}{report_id}/", {"progress": "11月5日在市民讲堂宣讲5场。", "version": 3}, format="json"
    )
    resubmitted = liaison.post(f"{URL}{report_id}/submit/")
    approved = office.post(f"{URL}{report_id}/approve/")
    locked = liaison.patch(f"{URL}{report_id}/", {"progress": "改", "version": 6}, format="json")
    events = office.get(f"{URL}{report_id}/events/").json()["results"]

    assert created.status_code == 201
    assert evidence.status_code == 201
    assert submitted.json()["state"] == "submitted"
    assert leader_try.status_code == 403
    assert returned.json()["state"] == "returned"
    assert fixed.json()["version"] == 4
    assert resubmitted.json()["state"] == "submitted"
    assert approved.json()["state"] == "approved"
    assert (locked.status_code, locked.json()["code"]) == (400, "locked")
    assert [e["action"] for e in events] == [
        "created",
        "evidence_added",
        "submitted",
        "returned",
        "saved",
        "submitted",
        "approved",
    ]


def test_two_simultaneous_saves_of_the_same_version_one_wins_one_gets_409(open_period, unit_a, liaison_a):
    from reports import services

    report = services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=3), by=liaison_a, progress="v1"
    )
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def save(text: str) -> None:
        try:
            barrier.wait()
            response = client_for(liaison_a).patch(
                f"{URL}{report.pk}/", {"progress": text, "version": 1}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("甲的内容", "乙的内容")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 409]
    report.refresh_from_db()
    assert report.version == 2
    assert report.progress in ("甲的内容", "乙的内容")
    assert ReportEvent.objects.filter(report=report, action="saved").count() == 1


def test_database_refuses_a_duplicate_report_and_a_negative_value(open_period, unit_a):
    task = Task.objects.get(number=3)
    report = ProgressReport.objects.create(period=open_period, unit=unit_a, task=task)

    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReport.objects.create(period=open_period, unit=unit_a, task=task)
    with pytest.raises(IntegrityError), transaction.atomic():
        MetricValue.objects.create(report=report, metric=Metric.objects.get(code="boards"), value=-1)
