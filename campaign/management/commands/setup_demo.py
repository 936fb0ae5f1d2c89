"""Load the Pingliang plan, lay out every quarter up to today, create demo accounts and fill demo reports.

Safe to run again (it adds nothing the second time on the same day); refuses on a production site.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import BaseCommand, CommandError, call_command
from django.db import transaction
from django.utils import timezone

from campaign.models import Campaign, ReportingPeriod
from campaign.services import (
    period_ensure_current,
    period_last_open_day,
    periods_advance,
    periods_ensure_until,
)
from units.demo_names import GIVEN, SURNAMES
from units.models import CampaignRole, Membership, Unit

DEFAULT_PASSWORD = "demo-pass-2024"
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"


def demo_name(i: int) -> tuple[str, str]:
    return SURNAMES[i % len(SURNAMES)], GIVEN[(i * 7) % len(GIVEN)]


class Command(BaseCommand):
    help = "载入平凉市实施方案并创建演示账号（可重复运行）。生产环境（DEBUG 关闭）需加 --force。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"所有演示账号的密码（默认 {DEFAULT_PASSWORD}）"
        )
        parser.add_argument(
            "--force", action="store_true", help="在 DEBUG 关闭时仍然运行（会创建已知密码的账号）"
        )
        parser.add_argument("--no-reports", action="store_true", help="不生成演示报告")
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            help="按指定日期准备报告期和演示报告（YYYY-MM-DD，默认今天）",
        )

    def handle(self, *args, password, force, no_reports, today, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG 已关闭：为避免生产环境出现已知密码的账号，setup_demo 拒绝运行。确需运行请加 --force。"
            )
        today = today or timezone.localdate()
        started = timezone.now()
        with transaction.atomic():
            if not Campaign.objects.filter(pk=1).exists():
                call_command("loaddata", str(FIXTURE), verbosity=0)
                self.stdout.write("已载入《平凉市创建全国民族团结进步示范市实施方案》。")
            campaign = Campaign.objects.get(pk=1)
            # Every quarter from the plan's first to today's, also after the plan period has ended: the
            # city keeps reporting, and a calendar with a gap would hide the quarters in between.
            periods = periods_ensure_until(campaign=campaign, today=today)
            periods_advance(today=today)
            current = period_ensure_current(campaign=campaign, today=today)
            self._date_closings(campaign, closed_since=started, today=today)
            accounts = self._accounts(password)
        reports = 0
        if not no_reports:
            from reports.demo import populate_demo_reports, populate_demo_signoff

            reports = populate_demo_reports(campaign=campaign, today=today, stdout=self.stdout)
            reports += populate_demo_signoff(campaign=campaign, today=today, stdout=self.stdout)
            from reports.figures import rebuild

            rebuild()  # the demo writes reports directly; the figures the dashboards read follow
            from sites.demo import seed_sites

            sites = seed_sites(today)
            self.stdout.write(f"示范点台账：{len(sites)} 个示范点。")
            from assessment.demo import seed_assessment

            system = seed_assessment(campaign)["system"]
            links = system.indicators.filter(links__state="confirmed").count()
            self.stdout.write(f"测评指标体系（示例）：{system.name}，已确认指标与任务对应 {links} 条。")
        self.stdout.write(
            self.style.SUCCESS(
                f"报告期 {len(periods)} 个（{periods[0].label}至{periods[-1].label}）；"
                f"当前报告期：{current.label}（截止 {current.due_on:%Y-%m-%d}），新增演示报告 {reports} 份。"
            )
        )
        if campaign.ends_on < today:
            self.stdout.write(
                f"实施方案规定的创建期已于 {campaign.ends_on:%Y-%m-%d} 结束，各单位继续按季度报送。"
            )
        self.stdout.write(f"演示账号（密码均为 {password}）：")
        for username, label in accounts:
            self.stdout.write(f"  {username:<20} {label}")

    def _date_closings(self, campaign: Campaign, *, closed_since: dt.datetime, today: dt.date) -> None:
        """Periods this run closed get the date the daily periods_advance job would have closed them (the
        night after their last open day), not the moment of the demo's set-up: the history reads true,
        and the job that compiles each newly closed quarter does not take thirteen quarters for new."""
        for period in ReportingPeriod.objects.filter(
            campaign=campaign, state=ReportingPeriod.State.CLOSED, closed_at__gte=closed_since
        ):
            day = period_last_open_day(period) + dt.timedelta(days=1)
            night = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 20)))
            period.closed_at = min(night, period.closed_at)
            period.save(update_fields=["closed_at"])

    def _accounts(self, password: str) -> list[tuple[str, str]]:
        User = get_user_model()
        created: list[tuple[str, str]] = []
        # One hash for all demo accounts: they share a known password anyway, and hashing ~60 times
        # would make the quick start wait half a minute.
        hashed = make_password(password)

        def account(username: str, surname: str, given: str, *, is_staff: bool = False):
            user, _ = User.objects.get_or_create(
                username=username, defaults={"last_name": surname, "first_name": given, "is_staff": is_staff}
            )
            user.password = hashed  # re-running resets demo passwords to the printed one
            user.save(update_fields=["password"])
            return user

        office = account("office", "张", "晓燕", is_staff=True)
        CampaignRole.objects.get_or_create(
            user=office, role=CampaignRole.Role.OFFICE, defaults={"phone": "0933-8212345"}
        )
        created.append(("office", "创建办（审核、看板、汇编）"))
        leader = account("leader", "李", "建国")
        CampaignRole.objects.get_or_create(user=leader, role=CampaignRole.Role.LEADERSHIP)
        created.append(("leader", "领导（只读看板与下载）"))
        for i, unit in enumerate(Unit.objects.filter(is_active=True).order_by("order")):
            surname, given = demo_name(i)
            user = account(unit.code, surname, given)
            Membership.objects.get_or_create(
                user=user, unit=unit, role=Membership.Role.LIAISON, defaults={"phone": f"1389334{i:04d}"}
            )
            if unit.code in ("xuanchuanbu", "minzongwei", "jiaoyuju", "kongtong", "huating"):
                created.append((unit.code, f"{unit.name} 联络员"))
        created.append(("<单位代码>", "其余各单位联络员，用户名即单位代码（见“单位”页面）"))
        # A 分管领导 for a few units, whose reports go through them before the office (报送前需分管领导审核).
        from reports.demo import SIGNOFF_UNITS, leader_username

        names = [("刘", "振华"), ("陈", "立新"), ("马", "国栋")]
        for i, unit in enumerate(Unit.objects.filter(code__in=SIGNOFF_UNITS).order_by("order")):
            user = account(leader_username(unit), *names[i % len(names)])
            Membership.objects.get_or_create(
                user=user, unit=unit, role=Membership.Role.LEADER, defaults={"phone": f"1399334{i:04d}"}
            )
            if not unit.requires_signoff:
                unit.requires_signoff = True
                unit.save(update_fields=["requires_signoff"])
            created.append((leader_username(unit), f"{unit.name} 分管领导（审核签发本单位报告）"))
        return created
