"""Reporting and on-time rates and common metrics' totals quarter by quarter."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from campaign.models import Campaign, ReportingPeriod
from reports import figures
from reports.models import FigureCount, FigureKindTotal
from tasks.models import Metric, Responsibility

from .completeness import ZERO, Tally, _today


@dataclass
class TrendPoint:
    period: ReportingPeriod
    tally: Tally
    metrics: dict[str, Decimal]  # metric code → total over approved reports of the quarter

    @property
    def rate(self) -> float | None:
        return self.tally.rate

    @property
    def on_time_rate(self) -> float | None:
        return self.tally.on_time_rate


@dataclass
class Trends:
    points: list[TrendPoint]
    metrics: list[Metric]
    kind: str | None = None

    def series(self, code: str) -> list[Decimal]:
        return [p.metrics.get(code, ZERO) for p in self.points]


def trends(
    campaign: Campaign,
    *,
    kind: str | None = None,
    as_of: dt.date | None = None,
    with_metrics: bool = True,
) -> Trends:
    """Reporting and on-time rates and the common metrics' totals for every quarter that has started
    (5 queries; 4 without metrics). Expected = as_of's responsibilities of active units. The 示范点 metrics
    are left out: sites are counted in the register (the 八进 table and the site targets), and the units'
    typed per-quarter numbers would say "本季度打造示范点18个" where the register names 3.

    Both come from the read model (``reports.figures``): the active units' report counts per period, the
    very counts ``completeness`` reads, so a quarter's point equals that quarter's completeness; and the
    approved reports' metric values per period and unit kind (of every unit, as the target figures count
    them; ``FigureKindTotal``)."""
    as_of = _today(as_of)
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).as_of(as_of).order_by("year", "quarter"))
    metrics = (
        list(
            Metric.objects.filter(is_common=True)
            .exclude(code__in=Metric.REGISTER_CODES)
            .order_by("order", "id")
        )
        if with_metrics
        else []
    )
    resp_qs = Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True)
    counts_qs = FigureCount.objects.filter(period__in=periods, unit__is_active=True)
    values_qs = FigureKindTotal.objects.filter(period__in=periods, metric__in=metrics)
    if kind:
        resp_qs = resp_qs.filter(unit__kind=kind)
        counts_qs = counts_qs.filter(unit__kind=kind)
        values_qs = values_qs.filter(kind=kind)
    expected = resp_qs.count()
    if not periods:
        return Trends([], metrics, kind)
    counts = {
        row["period_id"]: row
        for row in counts_qs.values("period_id")
        .annotate(**{f"sum_{name}": Sum(name) for name in figures.COUNT_FIELDS})
        .order_by()
    }
    code_by_id = {m.pk: m.code for m in metrics}
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    if metrics:
        for period_id, metric_id, total in (
            values_qs.values_list("period_id", "metric_id").annotate(total=Sum("value")).order_by()
        ):
            totals[period_id][code_by_id[metric_id]] = total or ZERO
    points = []
    for p in periods:
        c = counts.get(p.pk, {})
        tally = Tally(expected=expected)
        tally.set_counts({name: c.get(f"sum_{name}") or 0 for name in figures.COUNT_FIELDS})
        points.append(TrendPoint(p, tally, totals.get(p.pk, {})))
    return Trends(points, metrics, kind)
