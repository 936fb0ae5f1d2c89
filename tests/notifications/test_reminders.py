"""The daily job with the clock frozen around the 2025 Q4 due date (2026-01-10): who gets what, and that a
second run — the same day, or a second beat process — sends nothing new."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from campaign.models import ReportingPeriod
from notifications import jobs
from notifications.models import Delivery, Notification
from notifications.services import reminder_stage, reminders_send_daily
from tasks.models import Task
from tests.factories import make_report
from units.models import Membership

from .conftest import DUE, at, days_before_due

pytestmark = pytest.mark.django_db


def received() -> set[tuple[str, str]]:
    return set(Notification.objects.values_list("recipient__username", "kind"))


def mailed() -> set[tuple[str, str]]:
    return {(m.to[0], m.subject) for m in mail.outbox}


def run_job() -> None:
    call_command("send_reminders", stdout=io.StringIO())  # no --today: the frozen clock decides the day


# What each person has after one run on each boundary day (fresh database each time). The returned
# report (unit A's task 10, returned on 2026-01-01) is reminded about from 2026-01-04 on.
EXPECTED = {
    8: set(),
    7: {("liaison_a", "due_reminder"), ("liaison_b", "due_reminder"), ("office_t", "office_digest")},
    3: {
        ("liaison_a", "due_reminder"),
        ("liaison_a", "returned_reminder"),
        ("liaison_b", "due_reminder"),
        ("office_t", "office_digest"),
    },
    1: {
        ("liaison_a", "due_reminder"),
        ("liaison_a", "returned_reminder"),
        ("liaison_b", "due_reminder"),
        ("office_t", "office_digest"),
    },
    0: {("liaison_a", "returned_reminder"), ("office_t", "office_digest")},
    -1: {
        ("liaison_a", "overdue"),
        ("leader_a", "overdue"),
        ("liaison_b", "overdue"),
        ("liaison_a", "returned_reminder"),
        ("office_t", "office_digest"),
    },
}
ADDRESS = {
    "liaison_a": "liaison_a@example.gov.cn",
    "liaison_b": "liaison_b@example.gov.cn",
    "leader_a": "leader_a@example.gov.cn",
    "office_t": "office@example.gov.cn",
}


@pytest.mark.parametrize("days_before", [8, 7, 3, 1, 0, -1], ids=lambda d: f"{d}d-before-due")
def test_who_gets_what_on_each_boundary_day_and_a_second_run_sends_nothing(
    people, unit_a_mostly_done, days_before
):
    with at(days_before_due(days_before)):
        run_job()
        after_first = Notification.objects.count()
        outbox_first = len(mail.outbox)

        run_job()

    expected = EXPECTED[days_before]
    assert received() == expected
    assert sorted(m.to[0] for m in mail.outbox) == sorted(ADDRESS[user] for user, _ in expected)
    assert ("leader_t", "due_reminder") not in received()  # leadership reads; it is never chased
    # The second run: no new rows, no new mail.
    assert Notification.objects.count() == after_first == len(expected)
    assert len(mail.outbox) == outbox_first == len(expected)
    assert Delivery.objects.count() == len(expected)


def test_walking_day_by_day_each_reminder_goes_out_once(people, unit_a_mostly_done):
    """The job runs twice every day from 2025-12-30 to 2026-01-12 (as two beat processes would)."""
    new_by_day: dict[int, set[tuple[str, str]]] = {}
    day = dt.date(2025, 12, 30)
    while day <= dt.date(2026, 1, 12):
        before = set(Notification.objects.values_list("pk", flat=True))
        with at(day):
            run_job()
            run_job()
        new = Notification.objects.exclude(pk__in=before)
        new_by_day[(DUE - day).days] = {
            (u, k) for u, k in new.values_list("recipient__username", "kind") if k != "office_digest"
        }
        day += dt.timedelta(days=1)

    assert new_by_day[11] == new_by_day[10] == new_by_day[9] == new_by_day[8] == set()
    assert new_by_day[7] == {("liaison_a", "due_reminder"), ("liaison_b", "due_reminder")}
    assert new_by_day[6] == {("liaison_a", "returned_reminder")}  # returned 2026-01-01, 3 days on: 01-04
    assert new_by_day[5] == new_by_day[4] == set()
    assert new_by_day[3] == {("liaison_a", "due_reminder"), ("liaison_b", "due_reminder")}
    assert new_by_day[2] == set()
    assert new_by_day[1] == {("liaison_a", "due_reminder"), ("liaison_b", "due_reminder")}
    assert new_by_day[0] == set()
    assert new_by_day[-1] == {("liaison_a", "overdue"), ("leader_a", "overdue"), ("liaison_b", "overdue")}
    assert new_by_day[-2] == set()
    # Each liaison: three reminders and one overdue notice; the office: one digest a day from 7 days before.
    assert Notification.objects.filter(recipient=people["liaison_a"], kind="due_reminder").count() == 3
    assert Notification.objects.filter(recipient=people["liaison_b"], kind="overdue").count() == 1
    assert Notification.objects.filter(kind="office_digest").count() == len(range(-2, 8))  # 01-03 … 01-12
    assert Notification.objects.filter(recipient=people["leadership"]).count() == 0
    assert len(mail.outbox) == Notification.objects.count()


def test_reminder_lists_the_units_unreported_tasks_in_chinese(people, unit_a_mostly_done):
    with at(days_before_due(7)):
        run_job()

    note = Notification.objects.get(recipient=people["liaison_a"])
    task8, task10 = Task.objects.get(number=8), Task.objects.get(number=10)
    assert note.kind == "due_reminder"
    assert note.title == "【报送提醒】市委宣传部2025年第四季度尚有2项任务未报送，2026年1月10日截止"
    assert f"8. {task8.title}" in note.text and f"10. {task10.title}" in note.text
    assert "2. " not in note.text  # task 2 was submitted
    assert "承担的8项任务中，尚有2项未报送进展报告" in note.text
    assert "距截止还有7天" in note.text
    assert note.url == "/reports/"
    message = next(m for m in mail.outbox if m.to == ["liaison_a@example.gov.cn"])
    assert message.subject == note.title
    assert message.body.startswith("王宣同志：\n\n市委宣传部在2025年第四季度")
    assert "去报送：http://localhost:8000/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"10. {task10.title}" in html and "距截止还有 <strong>7 天</strong>" in html


def test_overdue_notice_goes_to_liaisons_and_the_unit_leader(people, unit_a_mostly_done):
    with at(days_before_due(-1)):
        run_job()

    to_leader = Notification.objects.get(recipient=people["leader_a"])
    to_liaison = Notification.objects.get(recipient=people["liaison_a"], kind="overdue")
    assert to_leader.title == "【逾期通知】市委宣传部2025年第四季度进展报告已逾期，2项任务未报送"
    assert "现已逾期1天" in to_leader.text
    assert "请督促本单位联络员立即补报" in to_leader.text
    assert "请立即登录平台补报" in to_liaison.text
    assert Notification.objects.get(recipient=people["liaison_b"]).title.endswith("29项任务未报送")


def test_office_digest_lists_overdue_units_and_the_review_queue(people, unit_a_mostly_done):
    with at(days_before_due(-1)):
        run_job()

    digest = Notification.objects.get(kind="office_digest")
    assert digest.recipient == people["office"]
    assert digest.title.startswith("【每日汇总】2025年第四季度报送情况（2026年1月11日）：")
    assert "已逾期1天" in digest.text
    assert "市委宣传部：未报2项（任务8、10）" in digest.text
    assert "崆峒区：未报29项" in digest.text
    assert "待审核报告：5份" in digest.text  # tasks 2–6 of unit A are submitted
    assert "应报363份，已报6份" in digest.text
    assert digest.url == f"/notifications/bulletin/?period={unit_a_mostly_done.pk}"


def test_digest_before_the_due_date_speaks_of_units_not_yet_complete(people, unit_a_mostly_done):
    with at(days_before_due(3)):
        run_job()

    digest = Notification.objects.get(kind="office_digest")
    assert "距2025年第四季度报送截止（2026年1月10日）还有3天" in digest.text
    assert "尚未报齐的单位" in digest.text and "逾期" not in digest.text


def test_a_unit_that_has_reported_everything_is_not_reminded(people, open_period, unit_a):
    for number in (2, 3, 4, 5, 6, 7, 8, 10):
        make_report(period=open_period, unit=unit_a, task=number, state="submitted")

    with at(days_before_due(7)):
        run_job()

    assert ("liaison_a", "due_reminder") not in received()
    assert ("liaison_b", "due_reminder") in received()


def test_people_who_turned_email_off_or_have_no_address_only_get_the_inbox_message(
    client, people, unit_a_mostly_done
):
    client.force_login(people["liaison_b"])
    client.post("/notifications/settings/", {})  # the switch unticked
    people["liaison_a"].email = ""
    people["liaison_a"].save()

    with at(days_before_due(7)):
        run_job()

    assert {("liaison_a", "due_reminder"), ("liaison_b", "due_reminder")} <= received()
    assert [m.to for m in mail.outbox] == [["office@example.gov.cn"]]
    assert Notification.objects.get(recipient=people["liaison_b"]).emailed_at is None
    assert Notification.objects.get(recipient=people["office"]).emailed_at is not None


def test_inactive_liaisons_and_periods_that_are_not_open_get_nothing(people, unit_a_mostly_done):
    Membership.objects.filter(user=people["liaison_b"]).update(is_active=False)
    with at(days_before_due(7)):
        run_job()
    assert ("liaison_b", "due_reminder") not in received()

    Notification.objects.all().delete()
    ReportingPeriod.objects.filter(pk=unit_a_mostly_done.pk).update(state=ReportingPeriod.State.CLOSED)
    with at(days_before_due(3)):
        run_job()
    assert received() == set()


def test_a_person_who_is_liaison_of_two_units_is_reminded_for_each(people, unit_a_mostly_done, unit_b):
    Membership.objects.create(user=people["liaison_a"], unit=unit_b, role=Membership.Role.LIAISON)

    with at(days_before_due(7)):
        run_job()
        run_job()

    titles = sorted(
        Notification.objects.filter(recipient=people["liaison_a"], kind="due_reminder").values_list(
            "title", flat=True
        )
    )
    assert len(titles) == 2
    assert "崆峒区" in titles[0] + titles[1] and "市委宣传部" in titles[0] + titles[1]


def test_a_job_that_missed_a_day_catches_up_with_the_last_stage_only(people, unit_a_mostly_done):
    with at(days_before_due(5)):  # the 7-day run did not happen
        run_job()

    note = Notification.objects.get(recipient=people["liaison_b"])
    assert "距截止还有5天" in note.text
    assert Delivery.objects.get(user=people["liaison_b"]).key.endswith(":7")


def test_send_reminders_takes_a_date_and_reports_what_it_sent(people, unit_a_mostly_done, capsys):
    call_command("send_reminders", "--today", "2026-01-03")

    out = capsys.readouterr().out
    assert "报送提醒 2 条" in out and "每日汇总 1 条" in out and "邮件 3 条" in out
    call_command("send_reminders", "--today", "2026-01-03")
    assert "报送提醒 0 条" in capsys.readouterr().out


def test_send_reminders_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--today", "2026-13-01")


def test_the_celery_job_runs_the_same_service(people, unit_a_mostly_done):
    result = jobs.reminders_send_daily.delay("2026-01-03").get()

    assert result == {
        "due_reminder": 2,
        "overdue": 0,
        "returned_reminder": 0,
        "signoff_reminder": 0,
        "office_digest": 1,
        "emails": 3,
    }
    assert reminders_send_daily(today=dt.date(2026, 1, 3))["due_reminder"] == 0


def test_beat_runs_the_job_daily_at_eight(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reminders-daily"]

    assert entry["task"] == "notifications.jobs.reminders_send_daily"
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}


@pytest.mark.parametrize(
    ("days", "stage"),
    [(9, None), (8, None), (7, 7), (6, 7), (4, 7), (3, 3), (2, 3), (1, 1), (0, None), (-1, None)],
)
def test_reminder_stage_with_the_default_7_3_1(days, stage):
    assert reminder_stage(days, [7, 3, 1]) == stage


def test_reminder_days_are_configurable(people, unit_a_mostly_done, settings):
    settings.REMINDER_DAYS_BEFORE_DUE = [5]

    with at(days_before_due(7)):
        run_job()
    assert not Notification.objects.filter(kind="due_reminder").exists()
    with at(days_before_due(5)):
        run_job()
    assert Notification.objects.filter(kind="due_reminder").count() == 2
