"""Province-scale data for benchmarks: ~1,000 units, ~100,000 reports with metric values in mixed states.

    manage.py generate_scale_data --units 1000 --quarters 10
    manage.py generate_scale_data --reset            # remove what it added

``--units`` is the total number of active units wanted; the extra ones get ASCII codes ``scale-0001``…
(a county carries every task, as task 1's rule says; a department carries six). Each unit × task × quarter
in the window gets a report unless it already has one, so running it twice adds nothing. Rows go in with
bulk_create; nothing here goes through the services, so no event rows or notifications are made, and the
dashboards' read model (``reports.figures``) of the window's periods is rebuilt from the reports at the end,
in the same transaction, so every benchmark reads the figures the reports make.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from django.core.management import BaseCommand, CommandError, call_command
from django.db import transaction
from django.utils import timezone

from campaign.models import Campaign, ReportingPeriod
from campaign.services import period_ensure
from reports import figures
from reports.demo import COMMON_RANGES, NEXT_STEPS, PROBLEMS, progress_text
from reports.models import Evidence, FigureCount, FigureTotal, MetricValue, ProgressReport, ReportEvent
from tasks.models import Metric, Responsibility, Target, Task
from units.models import Membership, Unit

PREFIX = "scale-"
DEPARTMENT_TASKS = 6


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, 0))


class Command(BaseCommand):
    help = "生成省级规模的测试数据（约 1000 个单位、10 万份报告），用于性能测试；可重复运行，--reset 删除。"

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=1000, help="启用单位的总数（含已有单位），默认 1000")
        parser.add_argument(
            "--quarters", type=int, default=10, help="填报的季度数（截至当前报告期），默认 10"
        )
        parser.add_argument("--reset", action="store_true", help="删除本命令生成的单位及其报告后退出")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, units: int, quarters: int, reset: bool, seed: int, **options):
        started = time.monotonic()
        if reset:
            removed = reset_scale_data()
            self.stdout.write(f"已删除 {removed} 个规模测试单位及其报告。")
            return
        campaign = Campaign.current()
        if campaign is None:
            call_command("loaddata", "fixtures/pingliang-2023.json", verbosity=0)
            campaign = Campaign.current()
        if campaign is None:
            raise CommandError("没有可用的创建活动，请先运行 setup_demo。")
        with transaction.atomic():
            added_units = ensure_units(campaign=campaign, total=units)
            periods = window(campaign=campaign, quarters=quarters)
            added_reports, added_values = fill_reports(campaign=campaign, periods=periods, seed=seed)
            figures.rebuild(periods=periods)
        self.stdout.write(
            f"单位：新增 {added_units}，启用共 {Unit.objects.filter(is_active=True).count()}；"
            f"报告期 {len(periods)} 个（{periods[0].label}—{periods[-1].label}）；"
            f"新增报告 {added_reports} 份、指标数值 {added_values} 条；"
            f"报告总数 {ProgressReport.objects.count()}；用时 {time.monotonic() - started:.1f} 秒。"
        )


def reset_scale_data() -> int:
    scale_units = Unit.objects.filter(code__startswith=PREFIX)
    reports = ProgressReport.objects.filter(unit__in=scale_units)
    with transaction.atomic():
        # The read model's rows of these units (no database foreign keys: deleted here, not by a cascade
        # walking ~200,000 rows); the per-kind totals then no longer match, so they are recounted below.
        for model in (FigureCount, FigureTotal):
            rows = model.objects.filter(unit__in=scale_units)
            rows._raw_delete(rows.db)
        MetricValue.objects.filter(report__in=reports).delete()
        Evidence.objects.filter(report__in=reports).delete()
        ReportEvent.objects.filter(report__in=reports).delete()
        # Children are gone already; a raw delete skips the collector walking 100,000 rows.
        reports._raw_delete(reports.db)
        Target.units.through.objects.filter(unit__in=scale_units).delete()
        Responsibility.objects.filter(unit__in=scale_units).delete()
        Membership.objects.filter(unit__in=scale_units).delete()
        from reports.models import PeriodReopening

        PeriodReopening.objects.filter(unit__in=scale_units).delete()
        count = scale_units.count()
        scale_units.delete()
        figures.rebuild()
    return count


def ensure_units(*, campaign, total: int) -> int:
    """Add units ``scale-0001``… until ``total`` are active, each with its responsibilities."""
    active = Unit.objects.filter(is_active=True).count()
    missing = max(0, total - active)
    if not missing:
        return 0
    taken = set(Unit.objects.filter(code__startswith=PREFIX).values_list("code", flat=True))
    last_order = Unit.objects.order_by("-order").values_list("order", flat=True).first() or 0
    new_units = []
    i = 0
    while len(new_units) < missing:
        i += 1
        code = f"{PREFIX}{i:04d}"
        if code in taken:
            continue
        # About one unit in six is a county: together they carry most of the ~100,000 reports.
        county = i % 11 in (0, 5)
        new_units.append(
            Unit(
                code=code,
                name=f"测试{'县区' if county else '部门'}{i:04d}",
                kind=Unit.Kind.COUNTY if county else Unit.Kind.DEPARTMENT,
                order=last_order + 10 * (len(new_units) + 1),
            )
        )
    Unit.objects.bulk_create(new_units, batch_size=500)
    created = list(Unit.objects.filter(code__in=[u.code for u in new_units]).order_by("order"))
    tasks = list(Task.objects.filter(campaign=campaign).order_by("number").values_list("pk", flat=True))
    rows = []
    for n, unit in enumerate(created):
        if unit.kind == Unit.Kind.COUNTY:
            mine, by_rule = tasks, True
        else:
            start = (n * DEPARTMENT_TASKS) % len(tasks)
            mine = [tasks[(start + k) % len(tasks)] for k in range(DEPARTMENT_TASKS)]
            by_rule = False
        rows += [
            Responsibility(task_id=t, unit=unit, role=Responsibility.Role.CO, order=100 + k, by_rule=by_rule)
            for k, t in enumerate(mine)
        ]
    Responsibility.objects.bulk_create(rows, batch_size=1000)
    return len(created)


def window(*, campaign, quarters: int) -> list[ReportingPeriod]:
    """The ``quarters`` periods ending at the open one (or the latest started one), oldest first."""
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter"))
    if not periods:
        raise CommandError("该创建活动还没有报告期。")
    today = timezone.localdate()
    anchor = next((p for p in reversed(periods) if p.is_open), None) or next(
        (p for p in reversed(periods) if p.starts_on <= today), periods[-1]
    )
    upto = [p for p in periods if (p.year, p.quarter) <= (anchor.year, anchor.quarter)]
    while len(upto) < quarters:
        # Too few quarters before the anchor: extend after it rather than silently doing less.
        last = (upto or periods)[-1]
        year, quarter = (last.year + 1, 1) if last.quarter == 4 else (last.year, last.quarter + 1)
        upto.append(period_ensure(campaign=campaign, year=year, quarter=quarter))
    return upto[-quarters:]


def _roll(key: tuple[int, int, int], seed: int) -> float:
    """A fixed number in [0, 1) per report key, so a second run skips exactly the same gaps."""
    period_id, unit_id, task_id = key
    mixed = (period_id * 1_000_003 + unit_id * 7_919 + task_id * 104_729 + seed) * 2_654_435_761
    return (mixed % 4_294_967_296) / 4_294_967_296


def fill_reports(*, campaign, periods: list[ReportingPeriod], seed: int) -> tuple[int, int]:
    resp = list(
        Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True).values_list(
            "unit_id", "task_id", "task__title"
        )
    )
    existing = set(
        ProgressReport.objects.filter(period__in=periods).values_list("period_id", "unit_id", "task_id")
    )
    metrics = {m.code: m for m in Metric.objects.all()}
    common = [metrics[c] for c in COMMON_RANGES if c in metrics]
    task_metric: dict[int, Metric] = {}
    for target in Target.objects.filter(task__campaign=campaign).select_related("metric"):
        task_metric.setdefault(target.task_id, target.metric)
    rng = random.Random(seed)
    texts = [progress_text(rng, "本项任务") for _ in range(40)]
    S = ProgressReport.State
    reports: list[ProgressReport] = []
    picks: dict[tuple, list[tuple[Metric, Decimal]]] = {}
    for period in periods:
        is_open = period.is_open
        for unit_id, task_id, _title in resp:
            key = (period.pk, unit_id, task_id)
            if key in existing:
                continue
            roll = _roll(key, seed)
            if is_open:
                if roll < 0.4:
                    continue
                state = S.DRAFT if roll < 0.7 else S.SUBMITTED if roll < 0.9 else S.RETURNED
            else:
                if roll < 0.02:
                    continue
                state = S.APPROVED if roll < 0.85 else S.SUBMITTED if roll < 0.93 else S.RETURNED
            report = ProgressReport(
                period_id=period.pk,
                unit_id=unit_id,
                task_id=task_id,
                progress=rng.choice(texts),
                problems=rng.choice(PROBLEMS),
                next_steps=rng.choice(NEXT_STEPS),
                progress_status=rng.choice(ProgressReport.ProgressStatus.values),
                state=state,
            )
            if state != S.DRAFT:
                day = period.due_on + dt.timedelta(days=rng.randint(-9, 3))
                report.first_submitted_at = report.submitted_at = _at(day, 10)
                if state != S.SUBMITTED:
                    report.reviewed_at = _at(day + dt.timedelta(days=2), 15)
                if state == S.RETURNED:
                    report.return_reason = "请补充活动照片等佐证材料。"
            reports.append(report)
            chosen = [(m, Decimal(rng.randint(*COMMON_RANGES[m.code]))) for m in rng.sample(common, 2)]
            m = task_metric.get(task_id)
            if m is not None and all(m.pk != c.pk for c, _ in chosen):
                chosen.append((m, Decimal(rng.randint(1, max(1, int(m.typical_max or 10) // 3)))))
            picks[key] = chosen
    ProgressReport.objects.bulk_create(reports, batch_size=1000)
    ids = ProgressReport.objects.filter(period__in=periods).values_list(
        "period_id", "unit_id", "task_id", "pk"
    )
    values = []
    for period_id, unit_id, task_id, pk in ids.iterator(chunk_size=5000):
        for metric, value in picks.get((period_id, unit_id, task_id), ()):
            values.append(MetricValue(report_id=pk, metric=metric, value=value))
    MetricValue.objects.bulk_create(values, batch_size=2000)
    return len(reports), len(values)
