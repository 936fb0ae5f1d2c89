"""People with e-mail addresses around the 2025 Q4 period (due 2026-01-10), and a clock to freeze."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import make_user
from tests.factories import make_report
from units.models import Membership

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 1, 10)


def at(day: dt.date, hour: int = 8):
    """Freeze the clock at ``hour`` o'clock Beijing time on ``day`` (the beat job runs at 08:00)."""
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI), tick=False
    )


def days_before_due(n: int) -> dt.date:
    return DUE - dt.timedelta(days=n)


@pytest.fixture
def leader_a(unit_a):
    user = make_user("leader_a", surname="孙", given="分管")
    user.email = "leader_a@example.gov.cn"
    user.save()
    Membership.objects.create(user=user, unit=unit_a, role=Membership.Role.LEADER, phone="13800000009")
    return user


@pytest.fixture
def people(office_user, leadership_user, liaison_a, liaison_b, leader_a):
    """Everyone has an address, so every message that is e-mailed shows up in mail.outbox."""
    for user, email in [
        (office_user, "office@example.gov.cn"),
        (leadership_user, "leadership@example.gov.cn"),
        (liaison_a, "liaison_a@example.gov.cn"),
        (liaison_b, "liaison_b@example.gov.cn"),
    ]:
        user.email = email
        user.save()
    return {
        "office": office_user,
        "leadership": leadership_user,
        "liaison_a": liaison_a,
        "liaison_b": liaison_b,
        "leader_a": leader_a,
    }


@pytest.fixture
def unit_a_mostly_done(open_period, unit_a):
    """市委宣传部 carries tasks 2–8 and 10: 2–6 submitted, 7 approved, 8 a draft, 10 returned on 2026-01-01.

    So 8 and 10 are not reported. 崆峒区 (unit B) has reported nothing of its 29 tasks.
    """
    for number in (2, 3, 4, 5, 6):
        make_report(period=open_period, unit=unit_a, task=number, state="submitted")
    make_report(period=open_period, unit=unit_a, task=7, state="approved")
    make_report(period=open_period, unit=unit_a, task=8, state="draft")
    # Submitted 2025-12-31, returned 2026-01-01 10:00: the returned-report reminder is due from 2026-01-04.
    make_report(
        period=open_period, unit=unit_a, task=10, state="returned", submitted_on=dt.date(2025, 12, 31)
    )
    return open_period
