"""Beat's schedule triggers the daily reminder job on a real worker (Redis, PostgreSQL) and the e-mails land in
a test mailbox — with two beat processes and two worker threads racing, each reminder still goes out once.

Beat runs the job every 2 s here (REMINDERS_BEAT_SECONDS) on a queue of its own (REMINDERS_QUEUE), consumed by
a worker started for this test with a file-based mail backend, so the session worker (console backend)
never picks the job up.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.db import connection
from django.utils import timezone

from campaign.models import ReportingPeriod
from notifications.models import Delivery, Notification
from tests.conftest import make_user
from units.models import CampaignRole, Membership, Unit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JOB = "notifications.jobs.reminders_send_daily"
SUCCEEDED = re.compile(rf"Task {re.escape(JOB)}\[[^\]]+\] succeeded")


class EnvFileBackend(FileBackend):
    """The file-based backend, writing to $EMAIL_FILE_PATH: campaign/settings.py does not read that variable,
    and the worker is a separate process whose settings we can only reach through its environment."""

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, file_path=file_path or os.environ["EMAIL_FILE_PATH"], **kwargs)


def wait_for(condition, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def mailbox(folder: Path) -> list[email.message.Message]:
    """Every message the file-based backend wrote (one file per connection, messages separated by dashes)."""
    messages = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(email.message_from_string(chunk.strip()))
    return messages


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_beat_sends_the_daily_reminders_through_a_worker_once(plan, start_celery_process, tmp_path):
    # Given: the 2025 Q4 period open and due in 7 days (by the real clock), two liaisons and the office.
    today = timezone.localdate()
    period = ReportingPeriod.objects.get(year=2025, quarter=4)
    period.state = ReportingPeriod.State.OPEN
    period.due_on = today + dt.timedelta(days=7)
    period.save()
    for username, code, address in [
        ("liaison_a", "xuanchuanbu", "liaison_a@example.gov.cn"),
        ("liaison_b", "kongtong", "liaison_b@example.gov.cn"),
    ]:
        user = make_user(username)
        user.email = address
        user.save()
        Membership.objects.create(user=user, unit=Unit.objects.get(code=code), role=Membership.Role.LIAISON)
    office = make_user("office_t")
    office.email = "office@example.gov.cn"
    office.save()
    CampaignRole.objects.create(user=office, role=CampaignRole.Role.OFFICE)

    # When: two beat processes schedule the job every 2 s onto our queue; one worker with 2 threads runs it.
    queue = f"reminders-test-{os.getpid()}-{time.time_ns()}"
    mail_dir = tmp_path / "mail"
    env = {
        "REMINDERS_BEAT_SECONDS": "2",
        "REMINDERS_QUEUE": queue,
        "EMAIL_BACKEND": f"{__name__}.EnvFileBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    _, beat1_log = start_celery_process(["beat", "-l", "info", "-s", str(tmp_path / "beat1.db")], env)
    _, beat2_log = start_celery_process(["beat", "-l", "info", "-s", str(tmp_path / "beat2.db")], env)
    worker, worker_log = start_celery_process(
        ["worker", "-l", "info", "-Q", queue, "--concurrency", "2", "-n", f"reminders-{os.getpid()}@%h"], env
    )

    def logs() -> str:
        return f"worker:\n{worker_log.read_text()[-3000:]}\nbeat:\n{beat1_log.read_text()[-1500:]}"

    # Then: the three e-mails arrive…
    assert wait_for(lambda: len(mailbox(mail_dir)) >= 3), logs()
    # …and after several more runs from both beats, nothing more is sent.
    assert wait_for(lambda: len(SUCCEEDED.findall(worker_log.read_text())) >= 8), logs()
    assert worker.poll() is None, logs()
    assert "raised unexpected" not in worker_log.read_text(), logs()

    messages = mailbox(mail_dir)
    assert sorted(m["To"] for m in messages) == [
        "liaison_a@example.gov.cn",
        "liaison_b@example.gov.cn",
        "office@example.gov.cn",
    ]
    by_to = {m["To"]: subject(m) for m in messages}
    assert by_to["liaison_a@example.gov.cn"].startswith(
        "【报送提醒】市委宣传部2025年第四季度尚有8项任务未报送"
    )
    assert by_to["liaison_b@example.gov.cn"].startswith("【报送提醒】崆峒区2025年第四季度尚有29项任务未报送")
    assert by_to["office@example.gov.cn"].startswith("【每日汇总】2025年第四季度报送情况")
    assert Notification.objects.count() == 3
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 3
    assert Delivery.objects.count() == 3
    # Beat, not a direct call, queued the runs.
    assert "Sending due task reminders-daily" in beat1_log.read_text()
    assert "Sending due task reminders-daily" in beat2_log.read_text()
    assert connection.vendor == "postgresql"
