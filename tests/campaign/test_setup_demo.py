import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from campaign.models import ReportingPeriod
from campaign.services import periods_advance
from units.models import CampaignRole, Membership, Unit

pytestmark = pytest.mark.django_db


def run_demo(**kwargs) -> str:
    out = StringIO()
    call_command("setup_demo", "--no-reports", stdout=out, **kwargs)
    return out.getvalue()


def test_setup_demo_loads_the_plan_and_one_liaison_per_unit(settings):
    settings.DEBUG = True

    output = run_demo(password="pw-12345678", today=dt.date(2026, 11, 21))

    User = get_user_model()
    assert Unit.objects.count() == 56
    assert Membership.objects.filter(role="liaison").count() == 56
    assert User.objects.get(username="kongtong").check_password("pw-12345678")
    assert CampaignRole.objects.filter(user__username="office", role="office").exists()
    assert CampaignRole.objects.filter(user__username="leader", role="leadership").exists()
    assert "pw-12345678" in output
    assert "office" in output and "leader" in output


def test_setup_demo_is_idempotent(settings):
    settings.DEBUG = True

    run_demo(today=dt.date(2026, 11, 21))
    run_demo(today=dt.date(2026, 11, 21))

    assert Unit.objects.count() == 56
    assert get_user_model().objects.count() == 58
    assert ReportingPeriod.objects.count() == 11


def test_setup_demo_opens_the_quarter_containing_today(settings):
    settings.DEBUG = True

    run_demo(today=dt.date(2026, 11, 21))

    current = ReportingPeriod.objects.get(year=2026, quarter=4)
    assert current.state == "open"
    assert current.due_on == dt.date(2027, 1, 10)
    assert set(ReportingPeriod.objects.exclude(pk=current.pk).values_list("state", flat=True)) == {"closed"}


def test_setup_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG 已关闭"):
        run_demo()

    assert get_user_model().objects.count() == 0


def test_setup_demo_runs_when_forced(settings):
    settings.DEBUG = False

    run_demo(force=True, today=dt.date(2026, 11, 21))

    assert get_user_model().objects.filter(username="office").exists()


def test_periods_open_at_start_and_close_after_due_and_never_go_back(plan, settings):
    settings.PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE = 20
    q1 = ReportingPeriod.objects.get(year=2024, quarter=1)  # 2024-01-01..03-31, due 04-10

    periods_advance(today=dt.date(2024, 2, 1))
    q1.refresh_from_db()
    assert q1.state == "open"

    periods_advance(today=dt.date(2024, 4, 30))
    q1.refresh_from_db()
    assert q1.state == "open"  # due + 20 days is the last open day

    periods_advance(today=dt.date(2024, 5, 1))
    q1.refresh_from_db()
    assert q1.state == "closed"

    periods_advance(today=dt.date(2024, 2, 1))
    q1.refresh_from_db()
    assert q1.state == "closed"
