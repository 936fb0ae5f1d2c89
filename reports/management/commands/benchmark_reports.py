"""Query count and median time of the liaison's period page and the office's review queue, at city scale
(the plan's ~55 units) and at province scale (1,000 units, ~100,000 reports). The counts must be equal.

    manage.py benchmark_reports                     # both scales, then everything is rolled back
    manage.py benchmark_reports --large 1000 --quarters 10 --repeat 7 --keep

Works on SQLite and PostgreSQL (whatever DATABASE_URL points at). By default all data it makes is rolled
back at the end, so a developer's database is left as it was.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from campaign.benchmarking import QuietOutput, measure_page
from campaign.models import Campaign
from campaign.services import period_ensure_current
from reports.models import ProgressReport
from units.models import CampaignRole, Membership, Unit

PAGES = [("联络员“本季度报送”", "liaison", "/reports/"), ("创建办审核队列", "office", "/reports/review/")]


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "测量“本季度报送”和审核队列页面在 55 个单位与 1000 个单位规模下的查询次数和耗时。"

    def add_arguments(self, parser):
        parser.add_argument("--large", type=int, default=1000, help="大规模时的单位总数，默认 1000")
        parser.add_argument("--quarters", type=int, default=10, help="生成报告的季度数，默认 10")
        parser.add_argument("--repeat", type=int, default=7, help="每个页面请求次数（取中位数），默认 7")
        parser.add_argument("--keep", action="store_true", help="保留生成的数据（默认测完回滚）")

    def handle(self, *args, large: int, quarters: int, repeat: int, keep: bool, **options):
        if Campaign.current() is None:
            call_command("loaddata", "fixtures/pingliang-2023.json", verbosity=0)
        campaign = Campaign.current()
        if campaign is None:
            raise CommandError("没有可用的创建活动。")
        self.stdout.write(f"数据库：{connection.vendor}，每页请求 {repeat} 次取中位数。")
        rows: list[tuple[str, int, int, str, int, float]] = []
        try:
            with transaction.atomic(), override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
                period_ensure_current(campaign=campaign)
                liaison, office = _bench_users()
                small = Unit.objects.filter(is_active=True).count()
                for total in (small, large):
                    call_command("generate_scale_data", units=total, quarters=quarters, stdout=QuietOutput())
                    units = Unit.objects.filter(is_active=True).count()
                    reports = ProgressReport.objects.count()
                    for label, who, url in PAGES:
                        count, median = measure_page(liaison if who == "liaison" else office, url, repeat)
                        rows.append((label, units, reports, url, count, median))
                        self.stdout.write(
                            f"  {units:>5} 个单位 {reports:>7} 份报告  {label:<14} 查询 {count:>3} 次  中位耗时 {median * 1000:7.1f} 毫秒"
                        )
                if not keep:
                    raise Rollback
        except Rollback:
            self.stdout.write("（已回滚本次生成的数据）")
        for label, *_ in PAGES:
            counts = {r[4] for r in rows if r[0] == label}
            verdict = "相同" if len(counts) == 1 else "不同！"
            self.stdout.write(
                f"{label}：两种规模下查询次数{verdict}（{'、'.join(str(c) for c in sorted(counts))}）"
            )
        if any(len({r[4] for r in rows if r[0] == label}) != 1 for label, *_ in PAGES):
            raise CommandError("查询次数随数据规模变化：存在 N+1 查询。")


def _bench_users():
    User = get_user_model()
    liaison, _ = User.objects.get_or_create(
        username="bench-liaison", defaults={"last_name": "测", "first_name": "联络员"}
    )
    office, _ = User.objects.get_or_create(
        username="bench-office", defaults={"last_name": "测", "first_name": "审核"}
    )
    # 崆峒区 carries all 29 tasks: the heaviest period page of the plan.
    unit = Unit.objects.filter(code="kongtong").first() or Unit.objects.filter(kind=Unit.Kind.COUNTY).first()
    Membership.objects.get_or_create(user=liaison, unit=unit, role=Membership.Role.LIAISON)
    CampaignRole.objects.get_or_create(user=office, role=CampaignRole.Role.OFFICE)
    return liaison, office
