"""The status light (红黄绿灯): its one table of label, symbol and colour, and its ordering.

Which light a thing gets is decided by the rule of that thing, each defined once:
- a report (unit × task × period): ``reports.models.ProgressReport.light_for``;
- a unit in a period: ``reports.dashboards.selectors.completeness.unit_period_light``;
- a target's row: ``reports.dashboards.selectors.targets.light_for``.
Every page, chart, document and e-mail draws the light from this table, so a light looks and reads the
same everywhere (DOMAIN.md: green on track; yellow due within 3 days and not submitted, or behind a
target's pace; red overdue, or returned and not resubmitted; grey not due yet).
"""

from __future__ import annotations

from dataclasses import dataclass

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"

# Yellow: due within this many days and not submitted (DOMAIN.md).
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class Light:
    key: str
    label: str  # the light's generic word, when the rule gives no more specific one
    symbol: str  # a shape as well as a colour, readable without colour vision
    shape: str  # the SVG marker drawn in charts
    colour: str  # "#RRGGBB", Okabe–Ito, used by pages, charts and documents alike
    css: str  # Bootstrap badge classes on pages
    rank: int  # worst first

    @property
    def hex(self) -> str:
        """The colour without "#", as openpyxl and python-docx want it."""
        return self.colour.lstrip("#")


LIGHTS: dict[str, Light] = {
    RED: Light(RED, "逾期", "■", "square", "#D55E00", "bg-danger", 0),
    YELLOW: Light(YELLOW, "预警", "▲", "triangle", "#E69F00", "bg-warning text-dark", 1),
    GREEN: Light(GREEN, "正常", "●", "circle", "#009E73", "bg-success", 2),
    GREY: Light(GREY, "未到期", "○", "circle", "#999999", "bg-secondary", 3),
}


def light(key: str) -> Light:
    return LIGHTS.get(key, LIGHTS[GREY])


def worst(keys) -> str:
    """The worst of some lights (red before yellow before green); green when there are none."""
    return min(keys, key=lambda k: light(k).rank, default=GREEN)
