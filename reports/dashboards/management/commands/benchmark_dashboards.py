"""Query count and median server time of every dashboard page and API endpoint, at city scale (the plan's
~55 units with 10 quarters of reports) and at province scale (1,000 units, ~100,000 reports).

    manage.py benchmark_dashboards                          # both scales, then everything is rolled back
    manage.py benchmark_dashboards --large 1000 --quarters 10 --repeat 7 --keep
    manage.py benchmark_dashboards --existing --charts       # the database as it is, nothing generated
    manage.py benchmark_dashboards --json                    # and one JSON object on the last line

Data comes from ``generate_scale_data`` (which also rebuilds the dashboards' read model, ``reports.figures``),
then ANALYZE. Works on SQLite and PostgreSQL (whatever DATABASE_URL points at). The query count of each page
must be the same at both scales; the goal is a median under 100 ms per page at 1,000 units on PostgreSQL.
Timings are printed (with the machine's load average, as the machine may be shared), never asserted by
tests. ``--json`` prints ``{"pages": [{"name", "path", "queries_small", "queries_large", "p50_ms_large"}],
"load_average": …}`` last (``queries_small`` is null with ``--existing``: one scale only).
"""

from __future__ import annotations

import json
import os
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from campaign.benchmarking import QuietOutput, measure_page
from campaign.models import Campaign
from campaign.services import period_ensure_current
from reports.dashboards import charts
from reports.dashboards import selectors as sel
from reports.models import MetricValue, ProgressReport
from tasks.models import Section
from units.models import CampaignRole, Unit

GOAL_MS = 100


class Rollback(Exception):
    pass


def _targets(campaign) -> list[tuple[str, str]]:
    """(label, url) of every dashboard page and endpoint, with the filters an office user would use."""
    period = sel.default_period(campaign)
    eight = Section.objects.filter(campaign=campaign, title__contains="八进").first()
    unit = Unit.objects.filter(code="kongtong").first() or Unit.objects.filter(kind=Unit.Kind.COUNTY).first()
    filtered = f"/dashboard/?period={period.pk}&kind=county" + (f"&section={eight.pk}" if eight else "")
    return [
        ("报送看板", f"/dashboard/?period={period.pk}"),
        ("报送看板·县市区·八进", filtered),
        ("报送看板·第2页", f"/dashboard/?period={period.pk}&page=2"),
        ("量化目标", "/dashboard/targets/"),
        ("量化目标·逾期", "/dashboard/targets/?light=red"),
        ("量化目标·八进", f"/dashboard/targets/?section={eight.pk}" if eight else "/dashboard/targets/"),
        ("趋势", "/dashboard/trends/"),
        ("趋势·县市区", "/dashboard/trends/?kind=county"),
        ("领导总览", "/dashboard/leadership/"),
        ("单位记录", f"/dashboard/units/{unit.code}/"),
        ("接口·完成情况", f"/api/v1/dashboard/completeness/?period={period.pk}"),
        ("接口·完成情况·第2页", f"/api/v1/dashboard/completeness/?period={period.pk}&page=2&page_size=50"),
        ("接口·量化目标", "/api/v1/dashboard/targets/"),
        ("接口·量化目标·全部", "/api/v1/dashboard/targets/?page_size=1000"),
    ]


class Command(BaseCommand):
    help = "测量各看板页面和接口在 55 个单位与 1000 个单位规模下的查询次数和中位耗时（默认测完回滚）。"

    def add_arguments(self, parser):
        parser.add_argument("--large", type=int, default=1000, help="大规模时的单位总数，默认 1000")
        parser.add_argument("--quarters", type=int, default=10, help="生成报告的季度数，默认 10")
        parser.add_argument("--repeat", type=int, default=7, help="每个页面请求次数（取中位数），默认 7")
        parser.add_argument("--keep", action="store_true", help="保留生成的数据（默认测完回滚）")
        parser.add_argument("--charts", action="store_true", help="另外测量供 PDF 使用的三个图表函数")
        parser.add_argument(
            "--existing",
            action="store_true",
            help="不生成数据，只测量数据库现有规模（例如已提交并 VACUUM ANALYZE 过的省级数据）",
        )
        parser.add_argument("--json", action="store_true", help="最后一行输出 JSON 格式的结果")

    def handle(
        self,
        *args,
        large: int,
        quarters: int,
        repeat: int,
        keep: bool,
        charts: bool,
        existing: bool,
        json: bool = False,
        **options,
    ):
        load_before = _load_average()
        if Campaign.current() is None:
            call_command("loaddata", "fixtures/pingliang-2023.json", verbosity=0)
        campaign = Campaign.current()
        if campaign is None:
            raise CommandError("没有可用的创建活动。")
        self.stdout.write(
            f"数据库：{connection.vendor}，每个页面请求 {repeat} 次取中位数（另有 1 次预热）；"
            f"开始时负载 {' '.join(f'{x:.2f}' for x in load_before)}。"
        )
        results: dict[str, dict[int, tuple[int, float]]] = {}
        paths: dict[str, str] = {}
        scales: list[tuple[int, int, int]] = []
        try:
            with transaction.atomic(), override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
                period_ensure_current(campaign=campaign)
                office = _bench_office()
                small = Unit.objects.filter(is_active=True).count()
                for total in [small] if existing else [small, large]:
                    if not existing:
                        call_command(
                            "generate_scale_data", units=total, quarters=quarters, stdout=QuietOutput()
                        )
                        with connection.cursor() as cursor:
                            # Fresh planner statistics, as a live database has; without them PostgreSQL
                            # plans for the tables' previous (small) sizes.
                            cursor.execute("ANALYZE")
                    units = Unit.objects.filter(is_active=True).count()
                    reports = ProgressReport.objects.count()
                    scales.append((units, reports, MetricValue.objects.count()))
                    self.stdout.write(f"\n规模：{units} 个单位，{reports} 份报告，{scales[-1][2]} 条指标数值")
                    for label, url in _targets(campaign):
                        count, median = measure_page(office, url, repeat)
                        results.setdefault(label, {})[units] = (count, median)
                        paths[label] = url
                        flag = "" if median * 1000 < GOAL_MS else f"  ← 超过 {GOAL_MS} 毫秒"
                        self.stdout.write(
                            f"  {label:<14}\t查询 {count:>3} 次\t中位 {median * 1000:7.1f} 毫秒{flag}\t{url}"
                        )
                    if charts:
                        self._charts(campaign, repeat)
                if not keep:
                    raise Rollback
        except Rollback:
            self.stdout.write("\n（已回滚本次生成的数据）")
        load_after = _load_average()
        self.stdout.write(f"结束时负载 {' '.join(f'{x:.2f}' for x in load_after)}。")
        sizes = [s[0] for s in scales]
        try:
            self._summary(results, sizes)
        finally:
            if json:
                self.stdout.write(_json_line(results, paths, sizes, scales, load_before, load_after))

    def _charts(self, campaign, repeat: int) -> None:
        period = sel.default_period(campaign)
        for name, fn in (
            ("reporting_rate_trend_svg", lambda: charts.reporting_rate_trend_svg(campaign)),
            ("period_completeness_svg", lambda: charts.period_completeness_svg(period)),
            ("target_progress_svg", lambda: charts.target_progress_svg(campaign)),
        ):
            fn()
            timings, counts = [], set()
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    fn()
                    timings.append(time.perf_counter() - started)
                counts.add(len(ctx.captured_queries))
            self.stdout.write(
                f"  图表 {name:<26}\t查询 {max(counts):>3} 次\t中位 {statistics.median(timings) * 1000:7.1f} 毫秒"
            )

    def _summary(self, results, sizes: list[int]) -> None:
        self.stdout.write("\n汇总（查询次数 / 中位毫秒）：")
        header = "  页面/接口".ljust(22) + "".join(f"{n:>6} 个单位".rjust(22) for n in sizes) + "   查询次数"
        self.stdout.write(header)
        growing = []
        for label, by_size in results.items():
            cells = "".join(
                f"{by_size[n][0]:>6} 次 {by_size[n][1] * 1000:>8.1f} ms".rjust(24)
                for n in sizes
                if n in by_size
            )
            same = len({v[0] for v in by_size.values()}) == 1
            if not same:
                growing.append(label)
            self.stdout.write(f"  {label:<20}{cells}   {'不变' if same else '随规模变化！'}")
        if growing:
            raise CommandError(f"查询次数随数据规模变化：{'、'.join(growing)}")


def _bench_office():
    User = get_user_model()
    office, _ = User.objects.get_or_create(
        username="bench-office", defaults={"last_name": "测", "first_name": "看板"}
    )
    CampaignRole.objects.get_or_create(user=office, role=CampaignRole.Role.OFFICE)
    return office


def _load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # not on this platform
        return (0.0, 0.0, 0.0)


def _json_line(results, paths, sizes, scales, load_before, load_after) -> str:
    """The results as one JSON object: per page the query counts at both scales and the large one's median."""
    small, large = (sizes[0], sizes[-1]) if len(sizes) > 1 else (None, sizes[-1] if sizes else None)
    pages = []
    for label, by_size in results.items():
        pages.append(
            {
                "name": label,
                "path": paths[label],
                "queries_small": by_size[small][0] if small in by_size else None,
                "queries_large": by_size[large][0] if large in by_size else None,
                "p50_ms_large": round(by_size[large][1] * 1000, 1) if large in by_size else None,
            }
        )
    return json.dumps(
        {
            "pages": pages,
            "database": connection.vendor,
            "units_large": large,
            "reports_large": scales[-1][1] if scales else None,
            "load_average": {
                "before": [round(x, 2) for x in load_before],
                "after": [round(x, 2) for x in load_after],
            },
        },
        ensure_ascii=False,
    )
