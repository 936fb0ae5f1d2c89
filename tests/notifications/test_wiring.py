"""The workflow steps in reports.services raise these notifications after they commit."""

from __future__ import annotations

import pytest
from django.core import mail

from campaign.models import ReportingPeriod
from notifications.models import Notification
from reports import services as reports
from tests.factories import make_report

pytestmark = pytest.mark.django_db


def test_submit_return_and_reopen_notify_the_right_people(
    people, open_period, unit_a, django_capture_on_commit_callbacks
):
    report = make_report(period=open_period, unit=unit_a, task=3, state="draft")

    with django_capture_on_commit_callbacks(execute=True):
        report = reports.report_submit(report=report, by=people["liaison_a"])
    queue = Notification.objects.get(kind="review_queue")
    assert queue.recipient == people["office"] and queue.url == "/reports/review/"

    with django_capture_on_commit_callbacks(execute=True):
        reports.report_return(report=report, by=people["office"], reason="请补充活动照片。")
    returned = Notification.objects.get(kind="returned")
    assert returned.recipient == people["liaison_a"]
    assert "退回原因：请补充活动照片。" in returned.text
    assert returned.url == f"/reports/{report.pk}/"

    open_period.state = ReportingPeriod.State.CLOSED
    open_period.save()
    with django_capture_on_commit_callbacks(execute=True):
        reports.period_reopen_for_unit(
            period=open_period, unit=unit_a, by=people["office"], reason="补报材料"
        )
    assert Notification.objects.get(kind="reopened").recipient == people["liaison_a"]

    assert sorted(m.to[0] for m in mail.outbox) == ["liaison_a@example.gov.cn", "liaison_a@example.gov.cn"]
    assert not Notification.objects.filter(recipient=people["liaison_b"]).exists()
