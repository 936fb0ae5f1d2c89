"""Dashboard charts as SVG strings: the same markup goes into the page and into the compiled PDF.

Hand-written SVG rather than a charting library: no JavaScript, no CDN, deterministic output that
WeasyPrint renders, and full control over what makes the charts readable without colour vision — every
series has its own marker shape and line style, lights use ●▲■ shapes like the ``{% light %}`` tag, and
values are written next to the marks. Colours are the Okabe–Ito palette. Labels use Noto Sans CJK SC.

Public API (called by the pages and by the PDF renderer):
``reporting_rate_trend_svg(campaign)``, ``period_completeness_svg(period)``,
``target_progress_svg(campaign, as_of=None)``, ``metric_trend_svg(campaign, code)``; each takes the "as of"
date its figures stop at (default today).
Each also takes the selector's result (``data=`` / ``rows=``) when the caller already has it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from campaign.dates import QUARTER_NAMES
from campaign.lights import GREEN as GREEN_LIGHT
from campaign.lights import LIGHTS
from campaign.lights import RED as RED_LIGHT
from campaign.lights import YELLOW as YELLOW_LIGHT

from . import selectors as sel

FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif"

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILLION, SKY, YELLOW, PURPLE, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#CC79A7",
    "#BBBBBB",
)
# Completeness segments: state, label, colour, symbol written in the legend and in wide segments.
STATE_STYLE = [
    ("approved", "已通过", GREEN, "✓"),
    ("submitted", "已报送", SKY, "↑"),
    ("returned", "已退回", VERMILLION, "↩"),
    ("draft", "草稿", YELLOW, "✎"),
    ("none", "未报", "#E5E5E5", "—"),
]


def _t(text) -> str:
    return escape(str(text))


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    # Drawn on a width×height grid (the viewBox) and scaled to its box: the page's column on a phone or a
    # desktop, the figure's 156 mm in a PDF; the height follows from the viewBox's proportions.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label={quoteattr(title)} font-family="{FONT}" font-size="12" '
        f'class="chart-svg"><title>{_t(title)}</title>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, text, *, anchor: str = "start", size: int = 12, fill: str = "#222", **attrs
) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{extra}>'
        f"{_t(text)}</text>"
    )


def _marker(shape: str, x: float, y: float, r: float, fill: str) -> str:
    stroke = 'stroke="#ffffff" stroke-width="1"'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}" {stroke}/>'
    if shape == "triangle":
        pts = f"{x:.1f},{y - r * 1.15:.1f} {x - r * 1.1:.1f},{y + r * 0.85:.1f} {x + r * 1.1:.1f},{y + r * 0.85:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {stroke}/>'
    if shape == "diamond":
        pts = f"{x:.1f},{y - r * 1.2:.1f} {x + r * 1.2:.1f},{y:.1f} {x:.1f},{y + r * 1.2:.1f} {x - r * 1.2:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {stroke}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" {stroke}/>'


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _num(value: Decimal | float | int) -> str:
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}" if value == value.to_integral() else f"{value:.1f}"
    return f"{value:g}"


def period_short_label(period) -> tuple[str, str]:
    """Two lines under a quarter; an open period is starred (its figures are still coming in)."""
    star = "*" if period.state == "open" else ""
    return f"{period.year}年", QUARTER_NAMES[period.quarter] + star


def period_compact_label(period) -> tuple[str, str]:
    star = "*" if period.state == "open" else ""
    return f"{period.year % 100}年", "一二三四"[period.quarter - 1] + "季" + star


def _compact(value: Decimal | float | int) -> str:
    """18万 rather than 180520, so bar labels fit."""
    v = float(value)
    if v >= 100000:
        return f"{v / 10000:.0f}万"
    if v >= 10000:
        return f"{v / 10000:.1f}万"
    return _num(value)


def _open_note(periods) -> str | None:
    return "* 报送中，数据尚不完整" if any(p.state == "open" for p in periods) else None


def _empty(width: int, title: str, message: str) -> str:
    return _svg(width, 80, title, [_text(width / 2, 45, message, anchor="middle", size=14, fill="#666")])


# ---------------------------------------------------------------------------------------------------------


def line_chart(
    title: str,
    labels: list[tuple[str, str]],
    series: list[dict],
    *,
    y_max: float = 1.0,
    fmt=_pct,
    width: int = 760,
    height: int = 320,
    note: str | None = None,
) -> str:
    """A line chart with a y axis from 0 to ``y_max``. Each series: name, values, colour, marker, dash."""
    left, right, top, bottom = 56, 44, 48, 62
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)
    if n == 0:
        return _empty(width, title, "暂无数据")
    step = plot_w / max(n - 1, 1) if n > 1 else 0
    x0 = left + (plot_w / 2 if n == 1 else 0)

    def xy(i: int, v: float) -> tuple[float, float]:
        return x0 + i * step, top + plot_h - (min(v, y_max) / y_max) * plot_h

    body = []
    for k in range(5):  # gridlines at 0, 25, 50, 75, 100 %
        frac = k / 4
        y = top + plot_h - frac * plot_h
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        body.append(_text(left - 8, y + 4, fmt(frac * y_max), anchor="end", size=12, fill="#555"))
    for i, (line1, line2) in enumerate(labels):
        x = x0 + i * step
        body.append(_text(x, height - bottom + 18, line1, anchor="middle", size=12, fill="#555"))
        body.append(_text(x, height - bottom + 34, line2, anchor="middle", size=12, fill="#555"))
    if note:
        body.append(_text(width - right, height - 6, note, anchor="end", size=11, fill="#555"))
    body.append(_text(12, 23, title, size=14, font_weight="bold"))
    # Legend: marker shape + line style + name, so series are told apart without colour.
    lx = 12 + 15 * len(title) + 28
    for s in series:
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        body.append(
            f'<line x1="{lx}" y1="18" x2="{lx + 28}" y2="18" stroke="{s["colour"]}" stroke-width="2.5"{dash}/>'
        )
        body.append(_marker(s["marker"], lx + 14, 18, 5, s["colour"]))
        body.append(_text(lx + 34, 23, s["name"], size=13))
        lx += 48 + 15 * len(s["name"])
    for si, s in enumerate(series):
        pts = [(i, v) for i, v in enumerate(s["values"]) if v is not None]
        if not pts:
            continue
        dash = f' stroke-dasharray="{s["dash"]}"' if s.get("dash") else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in pts))
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{s["colour"]}" stroke-width="2.5"{dash}/>'
        )
        for i, v in pts:
            x, y = xy(i, v)
            body.append(_marker(s["marker"], x, y, 5, s["colour"]))
            # First series labelled above its points, second below; a label that would run into the
            # axis labels is left out (the page's table and the PDF's table carry every number).
            dy = -10 if si % 2 == 0 else 19
            if y + dy <= top + plot_h - 4:
                body.append(_text(x, y + dy, fmt(v), anchor="middle", size=12, fill="#222"))
    return _svg(width, height, title, body)


def bar_chart(
    title: str,
    labels: list[tuple[str, str]],
    values: list[Decimal],
    *,
    unit: str = "",
    colour: str = BLUE,
    partial: list[bool] | None = None,
    width: int = 370,
    height: int = 220,
) -> str:
    left, right, top, bottom = 12, 12, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(values)
    body = [_text(left, 18, title + (f"（{unit}）" if unit else ""), size=13, font_weight="bold")]
    if n == 0:
        body.append(_text(width / 2, height / 2, "暂无数据", anchor="middle", fill="#666"))
        return _svg(width, height, title, body)
    top_value = max((float(v) for v in values), default=0) or 1.0
    slot = plot_w / n
    bar_w = max(min(slot * 0.64, 40), 4)
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>'
    )
    for i, v in enumerate(values):
        h = float(v) / top_value * (plot_h - 14)
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        if partial and partial[i]:  # a quarter still being reported: outlined, lighter
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{SKY}" '
                f'fill-opacity=".5" stroke="{colour}" stroke-dasharray="3 2"/>'
            )
        else:
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}"/>'
            )
        body.append(_text(x + bar_w / 2, y - 4, _compact(v), anchor="middle", size=10))
        line1, line2 = labels[i]
        body.append(
            _text(
                x + bar_w / 2,
                top + plot_h + 15,
                line1,
                anchor="middle",
                size=10,
                fill="#555",
            )
        )
        body.append(
            _text(
                x + bar_w / 2,
                top + plot_h + 29,
                line2,
                anchor="middle",
                size=10,
                fill="#555",
            )
        )
    return _svg(width, height, title, body)


# ---------------------------------------------------------------------------------------------------------
# Public chart functions
# ---------------------------------------------------------------------------------------------------------


def reporting_rate_trend_svg(
    campaign, *, as_of: dt.date | None = None, data: sel.Trends | None = None, kind: str | None = None
) -> str:
    """Reporting rate and on-time rate quarter by quarter (line chart, two marker shapes and line styles)."""
    data = data or sel.trends(campaign, kind=kind, as_of=as_of)
    labels = [period_short_label(p.period) for p in data.points]
    return line_chart(
        "各季度报送率与按时报送率",
        labels,
        [
            {"name": "报送率", "values": [p.rate for p in data.points], "colour": BLUE, "marker": "circle"},
            {
                "name": "按时报送率",
                "values": [p.on_time_rate for p in data.points],
                "colour": ORANGE,
                "marker": "square",
                "dash": "6 4",
            },
        ],
        note=_open_note([p.period for p in data.points]),
    )


def metric_trend_svg(
    campaign, code: str, *, as_of: dt.date | None = None, data: sel.Trends | None = None
) -> str:
    """One metric's total over approved reports, quarter by quarter (bars with values written on them)."""
    data = data or sel.trends(campaign, as_of=as_of)
    metric = next((m for m in data.metrics if m.code == code), None)
    if metric is None:
        return _empty(370, code, "无此指标")
    labels = [period_compact_label(p.period) for p in data.points]
    return bar_chart(
        metric.name,
        labels,
        data.series(code),
        unit=metric.unit_of_measure,
        partial=[p.period.state == "open" for p in data.points],
    )


def period_completeness_svg(period, *, data: sel.Completeness | None = None) -> str:
    """For each unit kind and overall: expected reports split by state (100% stacked bars, labelled)."""
    data = data or sel.completeness(period)
    title = f"{period.label}报送完成情况"
    width, left, right = 760, 150, 20
    bar_h, gap, top = 26, 18, 64
    rows = [(g.label, g.totals) for g in data.groups] + [("全部单位", data.overall)]
    height = top + len(rows) * (bar_h + gap) + 10
    body = [_text(12, 20, title, size=14, font_weight="bold")]
    lx = 12
    for _, label, colour, symbol in STATE_STYLE:
        body.append(
            f'<rect x="{lx}" y="32" width="14" height="14" fill="{colour}" stroke="#888" stroke-width=".5"/>'
        )
        body.append(_text(lx + 19, 44, f"{symbol} {label}", size=12))
        lx += 30 + 14 * len(label) + 12
    plot_w = width - left - right
    for r, (label, tally) in enumerate(rows):
        y = top + r * (bar_h + gap)
        body.append(_text(left - 8, y + 11, label, anchor="end", size=12, font_weight="bold"))
        body.append(_text(left - 8, y + 25, f"报送率 {_pct(tally.rate)}", anchor="end", size=11, fill="#444"))
        counts = {
            "approved": tally.approved,
            "submitted": tally.submitted,
            "returned": tally.returned,
            "draft": tally.draft,
            "none": tally.missing,
        }
        total = tally.expected or 1
        x = float(left)
        for state, label_s, colour, symbol in STATE_STYLE:
            w = counts[state] / total * plot_w
            if w <= 0:
                continue
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{_t(label_s)} {counts[state]}</title></rect>"
            )
            if w >= 34:
                fill = "#222" if state in ("draft", "none", "submitted") else "#fff"
                body.append(
                    _text(x + w / 2, y + 17, f"{symbol}{counts[state]}", anchor="middle", size=11, fill=fill)
                )
            x += w
        if not tally.expected:
            body.append(_text(left + 4, y + 17, "无应报任务", size=11, fill="#666"))
    return _svg(width, height, title, body)


def target_progress_svg(
    campaign, *, as_of: dt.date | None = None, rows: list[sel.TargetRow] | None = None
) -> str:
    """Each target's completion (Σ reported up to the promise ÷ Σ promised, latest window), bar coloured and
    shaped by its worst light, with the pace expected by now as a black tick."""
    if rows is None:
        rows = sel.target_progress(campaign, as_of=as_of)
    groups = sel.group_target_rows(rows)
    title = "量化目标完成进度"
    if not groups:
        return _empty(760, title, "暂无量化目标")
    width, left, right = 760, 330, 150
    bar_h, gap, top = 16, 10, 56
    height = top + len(groups) * (bar_h + gap) + 12
    plot_w = width - left - right
    body = [_text(12, 20, title, size=14, font_weight="bold")]
    lx = 12
    for light in (LIGHTS[GREEN_LIGHT], LIGHTS[YELLOW_LIGHT], LIGHTS[RED_LIGHT]):
        body.append(_marker(light.shape, lx + 6, 38, 6, light.colour))
        body.append(_text(lx + 16, 42, light.label, size=12))
        lx += 64
    body.append(f'<line x1="{lx + 6}" y1="31" x2="{lx + 6}" y2="45" stroke="#000" stroke-width="2"/>')
    body.append(_text(lx + 14, 42, "按时间进度应达到", size=12))
    for i, g in enumerate(groups):
        y = top + i * (bar_h + gap)
        t = g.target
        label = f"任务{t.task.number} {t.scope_label} {t.metric.name}{t.get_comparison_display()}{t.value_display}{t.metric.unit_of_measure}"
        if len(label) > 26:
            label = label[:25] + "…"
        body.append(_text(left - 8, y + 12, label, anchor="end", size=11))
        body.append(f'<rect x="{left}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#eeeeee"/>')
        worst = g.worst
        done = min(g.completion, 1.0)
        body.append(
            f'<rect x="{left}" y="{y}" width="{done * plot_w:.1f}" height="{bar_h}" fill="{LIGHTS[worst].colour}"/>'
        )
        pace = min(g.pace, 1.0)
        if 0 < pace < 1 and done < 1:
            px = left + pace * plot_w
            body.append(
                f'<line x1="{px:.1f}" y1="{y - 2}" x2="{px:.1f}" y2="{y + bar_h + 2}" stroke="#000" stroke-width="2"/>'
            )
        body.append(_marker(LIGHTS[worst].shape, left + plot_w + 12, y + bar_h / 2, 6, LIGHTS[worst].colour))
        counts = g.counts
        detail = " ".join(
            f"{LIGHTS[k].symbol}{counts[k]}" for k in (RED_LIGHT, YELLOW_LIGHT, GREEN_LIGHT) if counts[k]
        )
        body.append(_text(left + plot_w + 24, y + 12, f"{done * 100:.0f}% {detail}", size=11))
    return _svg(width, height, title, body)
