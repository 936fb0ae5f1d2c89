"""Dashboard pages for the office and leadership. Thin: parse the URL's filters, call selectors, render."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote, urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from campaign.decorators import readers_required
from campaign.errors import NotFound
from campaign.lights import GREEN, LIGHTS, RED, YELLOW
from campaign.models import Campaign, ReportingPeriod
from campaign.selectors import campaign_timeline
from campaign.templatetags.portal import light, num, percent
from reports.models import ProgressReport
from units.models import Unit

from . import charts
from . import selectors as sel
from .filters import LIGHT_FILTERS, FilterError, Filters

UNITS_PER_PAGE = 60
OVERDUE_SHOWN = 30  # the rest behind ?overdue=all: at province scale hundreds of units can be late
TARGET_ROWS_SHOWN = 10  # per target, unless the page is opened for that one target
CELL_SYMBOLS = {
    "none": "·",
    "draft": "✎",
    "awaiting_signoff": "⋯",  # with the unit leader: not yet reported to the office
    "submitted": "↑",
    "returned": "↩",
    "approved": "✓",
}


def dashboard_view(view):
    """Office and leadership only (``readers_required``: anyone else gets the Chinese 403 page, an anonymous
    visitor the login page); the view is called with the current campaign, or a page says there is none."""

    @wraps(view)
    def with_campaign(request, *args, **kwargs):
        campaign = Campaign.current()
        if campaign is None:
            return render(request, "campaign/no_campaign.html")
        return view(request, campaign, *args, **kwargs)

    return readers_required(with_campaign)


def report_url_maker():
    """URL of a report's page from its pk: ``reverse`` once per page, not once per matrix cell."""
    sentinel = 987654321
    prefix, suffix = reverse("reports:detail", args=[sentinel]).split(str(sentinel))
    return lambda pk: f"{prefix}{pk}{suffix}"


NA_CELL = '<td class="c c-na" title="不承担此任务"></td>'


def cells_html(pairs, report_url) -> str:
    """A row of matrix cells as HTML, built here rather than by an include per cell: at 60 units × 29
    tasks the template include alone cost ~150 ms. Every value is escaped."""
    out = []
    for task, cell in pairs:
        if cell is None:
            out.append(NA_CELL)
            continue
        late = cell.state in ProgressReport.REPORTED_STATES and not cell.on_time
        title = escape(f"任务{task.number}：{cell.label}{'（逾期报送）' if late else ''}")
        symbol = CELL_SYMBOLS[cell.state]
        inner = (
            f'<a href="{escape(report_url(cell.report_id))}" title="{title}" aria-label="{title}">{symbol}</a>'
            if cell.report_id
            else f'<span title="{title}" aria-label="{title}">{symbol}</span>'
        )
        out.append(f'<td class="c c-{cell.state}{" late" if late else ""}">{inner}</td>')
    return mark_safe("".join(out))  # built from escaped values above


def matrix_row_html(row: sel.UnitRow, cells: str, unit_url) -> str:
    """One unit's row of the completeness matrix: its name, tallies and ``cells_html``'s cells."""
    unit = row.unit
    return mark_safe(  # escaped values, numbers and cells_html's escaped HTML
        f'<tr data-unit="{escape(unit.code)}">'
        f'<th class="sticky-col" scope="row"><a href="{unit_url(unit.code)}">{escape(unit.name)}</a></th>'
        f'<td class="num">{row.expected}</td><td class="num">{row.reported}</td>'
        f'<td class="num">{row.approved}</td><td class="num">{row.on_time}</td>'
        f'<td class="num" data-testid="rate">{percent(row.rate)}</td>'
        f'<td class="num" data-testid="on-time-rate">{percent(row.on_time_rate)}</td>{cells}</tr>'
    )


def eight_row_html(row: sel.EightRow, unit_url) -> str:
    """One row of the 八进 table (~170 rows at province scale), its cells from ``eight_cells_html``."""
    label = escape(row.label)
    head = f'<a href="{unit_url(row.unit.code)}">{label}</a>' if row.unit else label
    return mark_safe(
        f'<tr><th scope="row" class="sticky-col fw-normal">{head}</th>'
        f'{eight_cells_html(row)}<td class="text-center">{num(row.reported)}</td></tr>'
    )


def eight_cells_html(row: sel.EightRow) -> str:
    """The 八进 table's cells for one row (Python rather than template: ~170 rows × 8 at province scale)."""
    out = []
    for c in row.cells:
        if c.planned is None:
            body = f'{num(c.reported)}<span class="text-muted"> / —</span>'
        else:
            note = f'<span class="small text-muted">（{escape(c.note)}）</span>' if c.note else ""
            body = f"{num(c.reported)} / {num(c.planned)}{note}{' ' + light(c.light) if c.light else ''}"
        out.append(f'<td class="text-center text-nowrap">{body}</td>')
    return mark_safe("".join(out))  # numbers, escaped notes and the light tag's own escaped HTML


def unit_url_maker():
    """URL of a unit's dashboard page from its code: ``reverse`` once per page, not once per row."""
    sentinel = "unit-code-sentinel"
    prefix, suffix = reverse("dashboard:unit", args=[sentinel]).split(sentinel)
    return lambda code: escape(f"{prefix}{quote(code)}{suffix}")


def target_rows_html(target, rows: list[sel.TargetRow], unit_url) -> str:
    """A target's table rows, built here rather than in the template: at province scale the targets page
    shows ~270 of them, and the template spent ~100 ms on them. Every value is escaped."""
    if target.scope == "city_district":
        suffix = "（市直单位" + "".join(f"+{escape(u.name)}" for u in target.units.all()) + "）"
    elif target.scope == "city":
        suffix = "（市直单位合计）"
    else:
        suffix = ""
    out = []
    for r in rows:
        if r.unit is not None:
            head = f'<a href="{unit_url(r.unit.code)}">{escape(r.unit.name)}</a>'
        else:
            head = f"{escape(r.scope_label)}{suffix}"
        width = str(round(r.ratio * 100))  # as {% widthratio r.ratio 1 100 %}
        out.append(
            f'<tr data-light="{escape(r.light)}">'
            f'<th scope="row" class="fw-normal">{head}</th>'
            f'<td class="text-nowrap" data-label="统计期">{escape(r.window_label)}</td>'
            f'<td class="num" data-label="已报">{num(r.reported)}</td>'
            f'<td class="num" data-label="目标">{num(r.promised)}</td>'
            f'<td class="num" data-label="按进度应达">{num(r.expected)}</td>'
            '<td data-label="完成度"><div class="d-flex align-items-center gap-1">'
            f'<div class="progress flex-grow-1" role="progressbar" aria-label="完成度" aria-valuenow="{width}" '
            'aria-valuemin="0" aria-valuemax="100">'
            f'<div class="progress-bar pb-{escape(r.light)}" style="width: {width}%"></div></div>'
            f'<span class="small text-nowrap">{percent(r.ratio, 0)}</span></div></td>'
            f'<td class="text-nowrap" data-label="状态">{light(r.light, r.light_label)}</td></tr>'
        )
    return mark_safe("".join(out))  # built from escaped values and the light tag's own escaped HTML


def compilation_new_url(period: ReportingPeriod | None) -> str:
    query = {"kind": "quarterly"}
    if period is not None:
        query["period"] = period.pk
    return f"{reverse('compilations:new')}?{urlencode(query)}"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def page_filters(request, campaign: Campaign, *, needs_period: bool = False) -> Filters:
    try:
        return Filters(request.GET, campaign, needs_period=needs_period)
    except FilterError as error:
        raise NotFound(error.message) from None


@dashboard_view
def period_dashboard(request, campaign):
    """The office's period dashboard: rates, the completeness matrix and the overdue list."""
    filters = page_filters(request, campaign, needs_period=True)
    period = filters.period
    context = {"campaign": campaign, "filters": filters, "period": period, "tab": "period"}
    if period is None:
        return render(request, "dashboards/period.html", context)
    today = timezone.localdate()
    # Every unit's tallies (groups, totals, the overdue list, the chart) but the cells of this page's only.
    comp = sel.completeness(period, kind=filters.kind or None, section=filters.section, with_cells=False)
    page = Paginator(comp.units, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    sel.fill_cells(comp, page.object_list)
    report_url = report_url_maker()
    unit_url = unit_url_maker()
    group_totals = {g.kind: g for g in comp.groups}
    blocks: list[dict] = []
    for row in page.object_list:
        if not blocks or blocks[-1]["kind"] != row.unit.kind:
            group = group_totals[row.unit.kind]
            blocks.append({"kind": row.unit.kind, "label": group.label, "totals": group.totals, "rows": []})
        cells = cells_html(comp.row_cells(row), report_url)
        blocks[-1]["rows"].append({"row": row, "html": matrix_row_html(row, cells, unit_url)})
    overdue = sel.overdue_units(comp, today=today)
    limit = None if request.GET.get("overdue") == "all" else OVERDUE_SHOWN
    context.update(
        {
            "comp": comp,
            "page": page,
            "blocks": blocks,
            "overdue": overdue[:limit],
            "overdue_count": len(overdue),
            "overdue_hidden": len(overdue) - len(overdue[:limit]),
            "overdue_all_url": f"?{filters.query(overdue='all')}#overdue",
            "chart": mark_safe(charts.period_completeness_svg(period, data=comp)),
            "days_to_due": period.days_to_due(today),
            "download_url": compilation_new_url(period),
            "legend": [(s, CELL_SYMBOLS[s], sel.CELL_LABELS[s]) for s in sel.CELL_STATES],
        }
    )
    return render(request, "dashboards/period.html", context)


@dashboard_view
def targets_dashboard(request, campaign):
    """Each target against approved figures, by unit or scope, with lights; and the 八进 table."""
    filters = page_filters(request, campaign)
    today = filters.as_of
    all_rows = sel.target_progress(campaign, as_of=filters.as_of, section=filters.section)
    rows = filters.target_rows(all_rows)
    only_target = _int(request.GET.get("target"))
    groups = sel.group_target_rows(rows)
    if only_target:
        groups = [g for g in groups if g.target.pk == only_target]
    shown = []
    unit_url = unit_url_maker()
    for g in groups:
        ordered = g.sorted_rows()
        limit = len(ordered) if only_target or len(ordered) <= TARGET_ROWS_SHOWN + 2 else TARGET_ROWS_SHOWN
        shown.append(
            {
                "group": g,
                "rows": ordered[:limit],
                "rows_html": target_rows_html(g.target, ordered[:limit], unit_url),
                "hidden": len(ordered) - limit,
            }
        )
    totals = {GREEN: 0, YELLOW: 0, RED: 0}
    for r in rows:
        totals[r.light] += 1
    show_eight = filters.section is None or "八进" in filters.section.title
    eight = sel.eight_into_table(campaign, as_of=filters.as_of, target_rows=all_rows) if show_eight else None
    eight_rows = [eight_row_html(row, unit_url) for row in eight.rows] if eight else []
    return render(
        request,
        "dashboards/targets.html",
        {
            "campaign": campaign,
            "filters": filters,
            "tab": "targets",
            "today": today,
            "groups": shown,
            "totals": totals,
            "only_target": only_target,
            "eight": eight,
            "eight_rows": eight_rows,
            "light_filters": LIGHT_FILTERS,
            "chart": mark_safe(charts.target_progress_svg(campaign, as_of=filters.as_of, rows=all_rows)),
            "download_url": compilation_new_url(
                filters.period or sel.default_period(campaign, filters.today)
            ),
        },
    )


@dashboard_view
def trends_dashboard(request, campaign):
    filters = page_filters(request, campaign)
    data = sel.trends(campaign, kind=filters.kind or None, as_of=filters.as_of)
    metric_charts = [
        {"metric": m, "svg": mark_safe(charts.metric_trend_svg(campaign, m.code, data=data))}
        for m in data.metrics
    ]
    return render(
        request,
        "dashboards/trends.html",
        {
            "campaign": campaign,
            "filters": filters,
            "tab": "trends",
            "data": data,
            "rows": [
                {"point": p, "values": [p.metrics.get(m.code) for m in data.metrics]} for p in data.points
            ],
            "rate_chart": mark_safe(charts.reporting_rate_trend_svg(campaign, data=data)),
            "metric_charts": metric_charts,
            "download_url": compilation_new_url(filters.period or sel.default_period(campaign)),
        },
    )


@dashboard_view
def leadership_overview(request, campaign):
    """Leadership's one page: phase, rates, red items, targets at risk, compiled reports."""
    today = timezone.localdate()
    timeline = campaign_timeline(campaign, today)
    period = sel.default_period(campaign, today)
    comp = sel.completeness(period, with_cells=False) if period else None
    overdue = sel.overdue_units(comp, today=today) if comp else []
    target_rows = sel.target_progress(campaign, as_of=today)
    at_risk = [r for r in target_rows if r.light != GREEN]
    risk_groups = sorted(
        sel.group_target_rows(at_risk),
        key=lambda g: (LIGHTS[g.worst].rank, -len(g.rows), g.target.task.number),
    )
    trend = sel.trends(campaign, as_of=today, with_metrics=False)
    days_to_end = (campaign.ends_on - today).days
    return render(
        request,
        "dashboards/leadership.html",
        {
            "campaign": campaign,
            "tab": "leadership",
            "today": today,
            "timeline": timeline,
            "days_to_end": days_to_end,
            "period": period,
            "comp": comp,
            "red_units": [o for o in overdue if o.light == RED],
            "risk_groups": [
                {"group": g, "names": [r.unit_name for r in g.rows[:5]], "more": max(len(g.rows) - 5, 0)}
                for g in risk_groups[:10]
            ],
            "risk_group_count": len(risk_groups),
            "at_risk_count": len(at_risk),
            "risk_counts": {
                "red": sum(1 for r in at_risk if r.light == RED),
                "yellow": sum(1 for r in at_risk if r.light == YELLOW),
            },
            "trend_chart": mark_safe(charts.reporting_rate_trend_svg(campaign, data=trend)),
            "last_point": trend.points[-1] if trend.points else None,
            "download_url": compilation_new_url(period),
        },
    )


@dashboard_view
def unit_dashboard(request, campaign, code: str):
    """One unit's record across periods, for the office."""
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise NotFound("没有这个单位。")
    today = timezone.localdate()
    record = sel.unit_record(unit, campaign, today=today)
    report_url = report_url_maker()
    period_rows = []
    for prow in record.periods:
        cells = cells_html(zip(record.tasks, prow.cells, strict=True), report_url)
        period_rows.append({"prow": prow, "cells": cells})
    returned = [{"item": r, "url": report_url(r.report_id)} for r in record.returned]
    return render(
        request,
        "dashboards/unit.html",
        {
            "campaign": campaign,
            "tab": "unit",
            "unit": unit,
            "record": record,
            "period_rows": period_rows,
            "returned": returned,
            "today": today,
            "legend": [(s, CELL_SYMBOLS[s], sel.CELL_LABELS[s]) for s in sel.CELL_STATES],
        },
    )
