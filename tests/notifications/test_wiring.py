"""The workflow steps in reports.services raise these notifications after they commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

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


def test_notifications_plugs_its_functions_into_the_reports_hooks_by_reference():
    from notifications import services as notifications

    assert notifications.notify_report_submitted in reports.on_report_submitted
    assert notifications.notify_report_returned in reports.on_report_returned
    assert notifications.notify_period_reopened in reports.on_period_reopened


def test_a_failing_hook_is_logged_and_neither_undoes_the_step_nor_stops_the_others(
    people, open_period, unit_a, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    report = make_report(period=open_period, unit=unit_a, task=3, state="draft")
    heard = []

    def broken(*, report):
        raise RuntimeError("邮件服务器不可用")

    monkeypatch.setattr(reports, "on_report_submitted", [broken, lambda *, report: heard.append(report.pk)])

    with django_capture_on_commit_callbacks(execute=True):
        reports.report_submit(report=report, by=people["liaison_a"])

    report.refresh_from_db()
    assert report.state == "submitted"
    assert heard == [report.pk]
    assert [r.getMessage() for r in caplog.records if r.name == "reports.services"] == [
        "通知发送失败：test_a_failing_hook_is_logged_and_neither_undoes_the_step_nor_stops_the_others.<locals>.broken"
    ]


def test_a_step_that_rolls_back_calls_no_hook(
    people, open_period, unit_a, monkeypatch, django_capture_on_commit_callbacks
):
    report = make_report(period=open_period, unit=unit_a, task=3, state="draft")
    heard = []
    monkeypatch.setattr(reports, "on_report_submitted", [lambda *, report: heard.append(report.pk)])

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        reports.report_submit(report=report, by=people["liaison_a"])
        raise RuntimeError("a later write in the same transaction failed")

    report.refresh_from_db()
    assert (report.state, heard) == ("draft", [])
