"""Notifications of the unit leader's sign-off: the leader hears when a report is sent to them, the daily job
reminds leaders with reports waiting, the office hears only once a report is signed off, and the liaison hears
who returned it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from notifications import services
from notifications.models import Notification
from reports import services as reports
from reports.models import ProgressReport
from tasks.models import Task

from .conftest import DUE, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def signoff_unit(unit_a):
    unit_a.requires_signoff = True
    unit_a.save()
    return unit_a


def send(period, unit, liaison, number: int = 3) -> ProgressReport:
    report = reports.report_create(
        period=period, unit=unit, task=Task.objects.get(number=number), by=liaison, progress="开展宣讲活动。"
    )
    return reports.report_submit(report=report, by=liaison)


def test_the_leader_is_told_when_a_report_is_sent_for_signoff(
    people, open_period, signoff_unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = send(open_period, signoff_unit, people["liaison_a"])

    note = Notification.objects.get(kind="signoff")
    assert note.recipient == people["leader_a"]
    assert note.title == "【待分管领导审核】市委宣传部“任务3”进展报告请您审核签发"
    assert "王宣已将市委宣传部2025年第四季度“3." in note.text
    assert "按时以报送到创建办（分管领导审核通过）的时间计算" in note.text
    assert note.url == "/reports/signoff/"
    assert [m.to for m in mail.outbox] == [["leader_a@example.gov.cn"]]
    # Not in the office's hands yet: no review-queue message.
    assert not Notification.objects.filter(kind="review_queue").exists()
    assert report.state == ProgressReport.State.AWAITING_SIGNOFF


def test_the_office_hears_once_the_leader_signs_off(
    people, open_period, signoff_unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = send(open_period, signoff_unit, people["liaison_a"])
    with django_capture_on_commit_callbacks(execute=True):
        reports.report_signoff(report=report, by=people["leader_a"])

    note = Notification.objects.get(kind="review_queue")
    assert note.recipient == people["office"]
    assert "1" in note.title


def test_the_liaison_is_told_the_leader_returned_it(
    people, open_period, signoff_unit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = send(open_period, signoff_unit, people["liaison_a"])
    with django_capture_on_commit_callbacks(execute=True):
        reports.report_return(report=report, by=people["leader_a"], reason="请核对数字。")

    note = Notification.objects.get(kind="returned")
    assert note.recipient == people["liaison_a"]
    assert "已被本单位分管领导退回" in note.text and "请核对数字。" in note.text


def test_the_daily_job_reminds_leaders_with_reports_waiting_once_a_day(people, open_period, signoff_unit):
    sent_on = DUE - dt.timedelta(days=12)
    with at(sent_on, 15):
        send(open_period, signoff_unit, people["liaison_a"], 3)
        send(open_period, signoff_unit, people["liaison_a"], 4)
    Notification.objects.all().delete()

    with at(sent_on):
        same_day = services.reminders_send_daily(today=sent_on)
    with at(sent_on + dt.timedelta(days=1)):
        first = services.reminders_send_daily(today=sent_on + dt.timedelta(days=1))
        again = services.reminders_send_daily(today=sent_on + dt.timedelta(days=1))
    with at(sent_on + dt.timedelta(days=2)):
        next_day = services.reminders_send_daily(today=sent_on + dt.timedelta(days=2))

    assert same_day["signoff_reminder"] == 0  # told at once when it was sent
    assert first["signoff_reminder"] == 1 and again["signoff_reminder"] == 0
    assert next_day["signoff_reminder"] == 1
    note = Notification.objects.filter(kind="signoff_reminder").order_by("created_at").first()
    assert note.recipient == people["leader_a"]
    assert note.title == "【审核提醒】市委宣传部有2份进展报告等待您审核签发"
    assert "任务3." in note.text and "任务4." in note.text
    assert note.url == "/reports/signoff/"


def test_no_reminder_once_the_leader_has_signed_off(people, open_period, signoff_unit):
    sent_on = DUE - dt.timedelta(days=12)
    with at(sent_on, 15):
        report = send(open_period, signoff_unit, people["liaison_a"])
        reports.report_signoff(report=report, by=people["leader_a"])

    with at(sent_on + dt.timedelta(days=1)):
        counts = services.reminders_send_daily(today=sent_on + dt.timedelta(days=1))

    assert counts["signoff_reminder"] == 0
