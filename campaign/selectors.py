from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from .dates import cn_month
from .models import Campaign, Phase, ReportingPeriod


@dataclass
class TimelineBar:
    phase: Phase
    left: float
    width: float
    is_current: bool

    # Below this share of the line a phase's name does not fit in its bar on a phone or beside the next bar
    # on a desktop (宣传动员阶段 is two months of a three-year plan): the bar shows its number, and the list
    # under the line gives the numbered names.
    NARROW_PERCENT = 15

    @property
    def narrow(self) -> bool:
        return self.width < self.NARROW_PERCENT


@dataclass
class Timeline:
    bars: list[TimelineBar]
    today: dt.date
    today_left: float | None
    ticks: list[tuple[float, str]]
    current_phase: Phase | None
    next_phase: Phase | None
    days_to_next: int | None


def campaign_timeline(campaign: Campaign, today: dt.date | None = None) -> Timeline:
    """Phases as bars on a line from the campaign's start to its end, with today marked (1 query)."""
    today = today or timezone.localdate()
    phases = list(campaign.phases.order_by("order"))
    start = min([campaign.starts_on, *[p.starts_on for p in phases]])
    end = max([campaign.ends_on, *[p.ends_on for p in phases]])
    span = max((end - start).days, 1)

    def pos(day: dt.date) -> float:
        return round(100 * (day - start).days / span, 2)

    current = [p for p in phases if p.contains(today)]
    current_phase = current[-1] if current else None
    upcoming = [p for p in phases if p.starts_on > today]
    next_phase = upcoming[0] if upcoming else None
    bars = [
        TimelineBar(
            p,
            pos(p.starts_on),
            max(pos(p.ends_on + dt.timedelta(days=1)) - pos(p.starts_on), 1),
            p in current,
        )
        for p in phases
    ]
    ticks = []
    for year in range(start.year, end.year + 1):
        for month in (1, 7):
            day = dt.date(year, month, 1)
            if start <= day <= end:
                ticks.append((pos(day), cn_month(day)))
    today_left = pos(today) if start <= today <= end else None
    return Timeline(
        bars=bars,
        today=today,
        today_left=today_left,
        ticks=ticks,
        current_phase=current_phase,
        next_phase=next_phase,
        days_to_next=(next_phase.starts_on - today).days if next_phase else None,
    )


def open_period(campaign: Campaign | None) -> ReportingPeriod | None:
    if campaign is None:
        return None
    return ReportingPeriod.current_open(campaign)
