import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from campaign.models import Campaign, ReportingPeriod
from campaign.services import periods_advance
from units.models import CampaignRole, Membership, Unit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN_ENDED = "实施方案规定的创建期已于2025年12月31日结束"


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
    assert get_user_model().objects.count() == 61  # office, leadership, 56 liaisons, 3 unit leaders
    assert ReportingPeriod.objects.count() == 14  # 2023 Q3 … 2026 Q4


def test_setup_demo_opens_the_quarter_containing_today(settings):
    settings.DEBUG = True

    run_demo(today=dt.date(2026, 11, 21))

    current = ReportingPeriod.objects.get(year=2026, quarter=4)
    assert current.state == "open"
    assert current.due_on == dt.date(2027, 1, 10)
    assert set(ReportingPeriod.objects.exclude(pk=current.pk).values_list("state", flat=True)) == {"closed"}


def test_setup_demo_lays_out_every_quarter_from_the_plans_first_to_todays(settings):
    settings.DEBUG = True

    run_demo(today=dt.date(2026, 11, 29))

    periods = list(ReportingPeriod.objects.order_by("year", "quarter"))
    assert [(p.year, p.quarter) for p in periods] == [
        (2023, 3),
        (2023, 4),
        *[(year, q) for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)],
    ]
    assert [p.starts_on for p in periods[1:]] == [p.ends_on + dt.timedelta(days=1) for p in periods[:-1]]
    assert [p.state for p in periods] == ["closed"] * 13 + ["open"]
    q3 = ReportingPeriod.objects.get(year=2026, quarter=3)
    assert (q3.starts_on, q3.ends_on, q3.due_on) == ReportingPeriod.bounds_for(2026, 3)


def test_setup_demo_dates_each_closing_when_the_daily_job_would_have_closed_it(settings):
    settings.DEBUG = True
    settings.PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE = 20

    with time_machine.travel(dt.datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI), tick=False):
        run_demo()
        run_demo()

    q4 = ReportingPeriod.objects.get(year=2025, quarter=4)  # due 2026-01-10, open for late reports to 01-30
    assert q4.closed_at == dt.datetime(2026, 1, 31, 0, 20, tzinfo=SHANGHAI)
    assert ReportingPeriod.objects.get(year=2026, quarter=4).closed_at is None


def test_setup_demo_on_a_day_in_the_plan_period_opens_that_quarter_only(settings):
    settings.DEBUG = True

    run_demo(today=dt.date(2024, 8, 15))

    assert ReportingPeriod.objects.count() == 10  # the plan's own quarters; none added
    assert ReportingPeriod.objects.get(year=2024, quarter=3).state == "open"
    assert set(ReportingPeriod.objects.filter(year=2025).values_list("state", flat=True)) == {"upcoming"}


def test_office_home_says_the_plan_period_is_over(plan, as_office):
    with time_machine.travel(dt.datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI), tick=False):
        period = ReportingPeriod.objects.create(
            campaign=plan,
            year=2026,
            quarter=4,
            starts_on=dt.date(2026, 10, 1),
            ends_on=dt.date(2026, 12, 31),
            due_on=dt.date(2027, 1, 10),
            state=ReportingPeriod.State.OPEN,
        )
        body = as_office.get("/").content.decode()

    assert (
        f"{PLAN_ENDED}，目前处于创建期结束后的常态化推进阶段：各单位继续按季度报送工作进展，"
        f"当前报告期为{period.label}，报送截止日期2027年1月10日。"
    ) in body
    assert "创建期已结束" in body


def test_unit_home_says_the_plan_period_is_over(plan, as_liaison_b):
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        body = as_liaison_b.get("/").content.decode()

    assert f'data-testid="plan-ended">{PLAN_ENDED}' in body


def test_home_has_no_such_notice_on_the_plan_periods_last_day(plan, as_office):
    assert Campaign.objects.get().ends_on == dt.date(2025, 12, 31)

    with time_machine.travel(dt.datetime(2025, 12, 31, 20, 0, tzinfo=SHANGHAI), tick=False):
        body = as_office.get("/").content.decode()

    assert PLAN_ENDED not in body
    assert "创建期已结束" not in body
    assert '<div class="fs-5">申报验收阶段</div>' in body


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


def test_setup_demo_has_unit_leaders_with_signoff_on_and_reports_waiting(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("setup_demo", stdout=out, password="pw-12345678", today=dt.date(2026, 11, 21))
    call_command("setup_demo", stdout=StringIO(), password="pw-12345678", today=dt.date(2026, 11, 21))

    from reports.models import ProgressReport

    output = out.getvalue()
    current = ReportingPeriod.objects.get(year=2026, quarter=4)
    for code, name in (("kongtong", "崆峒区"), ("xuanchuanbu", "市委宣传部"), ("jiaoyuju", "市教育局")):
        unit = Unit.objects.get(code=code)
        leader = get_user_model().objects.get(username=f"{code}-leader")
        assert leader.check_password("pw-12345678")
        assert Membership.objects.filter(user=leader, unit=unit, role="leader", is_active=True).exists()
        assert unit.requires_signoff
        assert f"{code}-leader" in output and f"{name} 分管领导" in output
        waiting = ProgressReport.objects.filter(unit=unit, period=current, state="awaiting_signoff")
        assert waiting.count() == 2  # the second run adds none
        assert all(
            r.sent_for_signoff_at and r.events.filter(action="sent_for_signoff").exists() for r in waiting
        )
    assert Unit.objects.filter(requires_signoff=True).count() == 3
