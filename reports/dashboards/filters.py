"""The filters a dashboard carries — period, unit kind, section, light — parsed once for pages and API.

``as_of`` is the date the figures stop at: the chosen period's end (``ReportingPeriod.as_of``), or today
on a live page when no period is chosen. Pages ignore a malformed kind or light and 404 on an unknown
period; the API (``strict=True``) refuses each with a message naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.utils import timezone

from campaign.lights import GREEN, LIGHTS, RED, YELLOW
from campaign.models import Campaign, ReportingPeriod
from tasks.models import Section
from units.models import Unit

from .selectors import TargetRow, default_period

LIGHT_FILTERS = [(key, LIGHTS[key].label) for key in (RED, YELLOW, GREEN)]


class FilterError(ValueError):
    def __init__(self, field: str, message: str, *, not_found: bool = False):
        super().__init__(message)
        self.field, self.message, self.not_found = field, message, not_found


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Filters:
    def __init__(
        self,
        params,
        campaign: Campaign,
        *,
        needs_period: bool = False,
        strict: bool = False,
        today: dt.date | None = None,
    ):
        self.today = today or timezone.localdate()
        self.sections = list(Section.objects.filter(campaign=campaign).order_by("order"))
        raw_section = params.get("section") or ""
        self.section = next((s for s in self.sections if s.pk == _int(raw_section)), None)
        if strict and raw_section and self.section is None:
            raise FilterError("section", "没有这个工程/活动。")
        kind = params.get("kind") or ""
        if strict and kind and kind not in Unit.Kind.values:
            raise FilterError("kind", f"须为 {'/'.join(Unit.Kind.values)} 之一。")
        self.kind = kind if kind in Unit.Kind.values else ""
        light = params.get("light") or ""
        if strict and light and light not in dict(LIGHT_FILTERS):
            raise FilterError("light", "须为 green/yellow/red 之一。")
        self.light = light if light in dict(LIGHT_FILTERS) else ""
        self.kinds = Unit.Kind.choices
        self.periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("-year", "-quarter"))
        raw_period = params.get("period") or ""
        self.period: ReportingPeriod | None = None
        if raw_period:
            if strict and _int(raw_period) is None:
                raise FilterError("period", "须为整数。")
            self.period = next((p for p in self.periods if p.pk == _int(raw_period)), None)
            if self.period is None:
                raise FilterError("period", "没有这个报告期。", not_found=True)
        elif needs_period:
            self.period = default_period(campaign, self.today)
        self.chosen_period = bool(raw_period)
        # Figures stop at the chosen period's end; a live page (no period chosen) shows today's.
        self.as_of = min(self.today, self.period.as_of) if raw_period else self.today

    def target_rows(self, rows: list[TargetRow]) -> list[TargetRow]:
        """Target rows narrowed by the kind and light filters (the section is the selector's own filter)."""
        if self.kind:
            rows = [r for r in rows if r.unit is not None and r.unit.kind == self.kind]
        if self.light:
            rows = [r for r in rows if r.light == self.light]
        return rows

    def query(self, **overrides) -> str:
        """The current filters as a query string, with some replaced (None drops one)."""
        values = {
            "period": self.period.pk if self.period else None,
            "kind": self.kind or None,
            "section": self.section.pk if self.section else None,
            "light": self.light or None,
        }
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})
