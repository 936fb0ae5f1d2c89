"""Notifications raised at once by workflow steps (reports.services calls these hooks), the returned-report
reminder, and the unique rows that stop a second send."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaign.models import ReportingPeriod
from notifications import services
from notifications.models import Delivery, Notification
from reports.models import PeriodReopening
from tests.conftest import make_user
from tests.factories import make_report
from units.models import CampaignRole

from .conftest import at

pytestmark = pytest.mark.django_db


def test_returned_report_tells_the_units_liaisons_with_the_reason(
    people, open_period, unit_a, django_capture_on_commit_callbacks
):
    report = make_report(period=open_period, unit=unit_a, task=3, state="returned")

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_report_returned(report=report, reason="缺少活动照片，请补充。")

    note = Notification.objects.get()
    assert note.recipient == people["liaison_a"]
    assert note.kind == "returned"
    assert note.title == "【报告退回】市委宣传部“任务3”进展报告被退回，请修改后重新报送"
    assert "退回原因：缺少活动照片，请补充。" in note.text
    assert note.url == f"/reports/{report.pk}/"
    assert [m.to for m in mail.outbox] == [["liaison_a@example.gov.cn"]]
    assert "缺少活动照片，请补充。" in mail.outbox[0].alternatives[0][0]


def test_returned_mail_waits_for_the_commit(people, open_period, unit_a, django_capture_on_commit_callbacks):
    report = make_report(period=open_period, unit=unit_a, task=3, state="returned")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify_report_returned(report=report, reason="请补充。")

    assert mail.outbox == []  # a return that rolls back must not have e-mailed anyone
    assert len(callbacks) == 1


def test_submitted_reports_keep_one_unread_review_queue_message_per_office_person(
    people, open_period, unit_a
):
    second_office = make_user("office_2", surname="钱", given="审核")
    CampaignRole.objects.create(user=second_office, role=CampaignRole.Role.OFFICE)
    first = make_report(period=open_period, unit=unit_a, task=2, state="submitted")
    services.notify_report_submitted(report=first)
    second = make_report(period=open_period, unit=unit_a, task=3, state="submitted")
    services.notify_report_submitted(report=second)

    queue = Notification.objects.filter(kind="review_queue")
    assert sorted(queue.values_list("recipient__username", flat=True)) == ["office_2", "office_t"]
    note = queue.get(recipient=people["office"])
    assert note.title == "【待审核】共有2份进展报告等待审核"
    assert "最新报送：市委宣传部2025年第四季度“3. " in note.text
    assert not Notification.objects.exclude(kind="review_queue").exists()
    assert mail.outbox == []  # the daily digest carries the queue by e-mail

    services.notification_mark_read(user=people["office"], notification_id=note.pk)
    third = make_report(period=open_period, unit=unit_a, task=4, state="submitted")
    services.notify_report_submitted(report=third)

    assert queue.filter(recipient=people["office"]).count() == 2  # the read one stays; a new one is unread
    assert (
        queue.get(recipient=people["office"], read_at__isnull=True).title
        == "【待审核】共有3份进展报告等待审核"
    )


def test_reopening_a_period_tells_the_units_liaisons(
    people, plan, unit_a, django_capture_on_commit_callbacks
):
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    reopening = PeriodReopening.objects.create(
        period=period,
        unit=unit_a,
        reason="补报第三季度材料",
        until=dt.date(2025, 11, 15),
        opened_by=people["office"],
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_period_reopened(reopening=reopening)

    note = Notification.objects.get()
    assert note.recipient == people["liaison_a"]
    assert note.title == "【补报开放】2025年第三季度已为市委宣传部开放补报"
    assert "开放至2025年11月15日" in note.text and "原因：补报第三季度材料" in note.text
    assert [m.to for m in mail.outbox] == [["liaison_a@example.gov.cn"]]


def test_hooks_with_a_unit_without_liaisons_do_nothing(people, open_period, plan):
    from units.models import Unit

    lonely = Unit.objects.get(code="jiaoyuju")
    report = make_report(period=open_period, unit=lonely, task=26, state="returned")

    services.notify_report_returned(report=report, reason="请补充。")

    assert not Notification.objects.exists()


def test_returned_report_is_reminded_three_days_later_once(people, open_period, unit_a):
    # Returned on 2025-11-02 (reviewed the day after submission).
    report = make_report(
        period=open_period, unit=unit_a, task=3, state="returned", submitted_on=dt.date(2025, 11, 1)
    )

    with at(dt.date(2025, 11, 4)):
        services.reminders_send_daily()
    assert not Notification.objects.exists()

    with at(dt.date(2025, 11, 5)):
        services.reminders_send_daily()
        services.reminders_send_daily()
    note = Notification.objects.get()
    assert (note.recipient, note.kind) == (people["liaison_a"], "returned_reminder")
    assert note.title == "【重报提醒】市委宣传部“任务3”进展报告退回已3天，尚未重新报送"
    assert note.url == f"/reports/{report.pk}/"
    assert len(mail.outbox) == 1

    # Returned a second time later: one more reminder for that return.
    report.reviewed_at = report.reviewed_at + dt.timedelta(days=10)
    report.save()
    with at(dt.date(2025, 11, 15)):
        services.reminders_send_daily()
    assert Notification.objects.filter(kind="returned_reminder").count() == 2


def test_resubmitted_report_is_not_reminded(people, open_period, unit_a):
    make_report(period=open_period, unit=unit_a, task=3, state="submitted", submitted_on=dt.date(2025, 11, 1))

    with at(dt.date(2025, 11, 10)):
        services.reminders_send_daily()

    assert not Notification.objects.exists()


def test_returned_report_in_a_closed_period_is_chased_only_if_reopened(people, plan, unit_a):
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    make_report(period=period, unit=unit_a, task=3, state="returned", submitted_on=dt.date(2025, 10, 8))

    with at(dt.date(2025, 11, 1)):
        services.reminders_send_daily()
    assert not Notification.objects.exists()

    PeriodReopening.objects.create(period=period, unit=unit_a, reason="补报", until=dt.date(2025, 11, 30))
    with at(dt.date(2025, 11, 2)):
        services.reminders_send_daily()
    assert Notification.objects.get().kind == "returned_reminder"


def test_the_unique_rows_refuse_a_second_send(people, open_period, unit_a):
    user = people["liaison_a"]
    report = make_report(period=open_period, unit=unit_a, task=3, state="returned")
    Delivery.objects.create(user=user, period=open_period, kind="due_reminder", key="u1:7")
    Delivery.objects.create(user=user, period=open_period, kind="returned_reminder", key="k", report=report)

    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(user=user, period=open_period, kind="due_reminder", key="u1:7")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            user=user, period=open_period, kind="returned_reminder", key="k", report=report
        )
    # Another stage, another person: allowed.
    Delivery.objects.create(user=user, period=open_period, kind="due_reminder", key="u1:3")
    Delivery.objects.create(user=people["liaison_b"], period=open_period, kind="due_reminder", key="u1:7")


def test_a_claim_already_taken_by_another_process_sends_nothing(people, unit_a_mostly_done, unit_a):
    # As if a second beat process had claimed liaison A's 7-day reminder a moment earlier.
    Delivery.objects.create(
        user=people["liaison_a"], period=unit_a_mostly_done, kind="due_reminder", key=f"u{unit_a.pk}:7"
    )

    counts = services.reminders_send_daily(today=dt.date(2026, 1, 3))

    assert counts["due_reminder"] == 1  # liaison B only
    assert not Notification.objects.filter(recipient=people["liaison_a"]).exists()
    assert "liaison_a@example.gov.cn" not in [m.to[0] for m in mail.outbox]


def test_the_insert_is_the_guard_when_another_process_claims_during_the_run(people, open_period):
    # The run's list of earlier deliveries is empty, but another process has claimed the slot since.
    Delivery.objects.create(user=people["liaison_a"], period=open_period, kind="due_reminder", key="u4:7")

    sent = services._send_once(
        recipient=people["liaison_a"],
        period=open_period,
        kind="due_reminder",
        key="u4:7",
        context={},
        url="/",
        done=set(),
    )

    assert sent is None and not Notification.objects.exists()


def test_a_failing_mail_relay_keeps_the_inbox_message_and_a_later_run_retries_the_mail(
    people, unit_a_mostly_done, settings
):
    settings.EMAIL_BACKEND = "tests.notifications.test_events.BrokenBackend"

    counts = services.reminders_send_daily(today=dt.date(2026, 1, 3))
    again = services.reminders_send_daily(today=dt.date(2026, 1, 3))

    assert counts["due_reminder"] == 2 and counts["emails"] == 0
    assert again["due_reminder"] == 0 and again["emails"] == 0
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 3
    assert mail.outbox == []

    # An hour later the relay is back: the next run mails what is pending, once, raising nothing new.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        later = services.reminders_send_daily(today=dt.date(2026, 1, 3))
        services.reminders_send_daily(today=dt.date(2026, 1, 3))

    assert later == {
        "due_reminder": 0,
        "overdue": 0,
        "returned_reminder": 0,
        "signoff_reminder": 0,
        "office_digest": 0,
        "emails": 3,
    }
    assert len(mail.outbox) == 3 and Notification.objects.count() == 3
    retried = next(m for m in mail.outbox if m.to == ["liaison_a@example.gov.cn"])
    note = Notification.objects.get(recipient=people["liaison_a"])
    assert retried.subject == note.title
    assert retried.body.startswith("王宣同志：\n\n" + note.text)
    assert "10. 开展社会教育" in retried.alternatives[0][0]


def test_a_mail_misconfiguration_does_not_break_the_job(people, unit_a_mostly_done, settings):
    settings.EMAIL_BACKEND = "no.such.Backend"

    counts = services.reminders_send_daily(today=dt.date(2026, 1, 3))

    assert counts["due_reminder"] == 2 and counts["emails"] == 0
    assert Notification.objects.count() == 3


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise OSError("relay down")
