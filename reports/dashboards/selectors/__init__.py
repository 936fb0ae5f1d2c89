"""Reads for the office and leadership dashboards, one module per read; the compiled documents call the same
functions, so a figure is computed once for the page, the API and every document.

Definitions, each written once and only called here:
- *expected*: the tasks a unit carries, i.e. its Responsibility rows in the campaign (active units only);
- *reported*: ``ProgressReport.REPORTED_STATES`` (submitted or approved);
- *on time*: ``ProgressReport.counts_on_time`` / ``ProgressReport.ON_TIME`` (first submitted by the end
  of the period's due day, local time);
- reporting rate = reported ÷ expected; on-time rate = on time ÷ expected (as DHIS2 counts it);
- *as of*: figures cover the quarters begun by the date given (``ReportingPeriod.objects.as_of``);
- target figures use APPROVED reports only, summed (a flow) or the latest value (a stock) per
  ``Metric.aggregation`` — except the 示范点 metrics (``targets.SITE_METRIC_LEVELS``), which count distinct
  named sites in the register as of the day (``targets.SiteTally`` over ``sites.selectors.site_counts``), as
  the 八进 table does; a target's light is ``targets.light_for``.

Every selector runs a fixed number of queries whatever the number of units: it fetches narrow rows
(``values_list``) or DB aggregates and assembles in Python. The counts (reported, on time …) and the approved
metric values come from the read model (``reports.figures``: ``FigureCount``, ``FigureTotal``,
``FigureKindTotal``), which stores what the rules above compute and is kept by ``reports.services`` in each
step's transaction; a section or task narrower than its grain is counted from the reports by the same SQL
(``figures.count_expressions``). Pages ask ``completeness(..., with_cells=False)`` and ``fill_cells`` for the
rows they show; the documents take every cell.
"""

from .completeness import (
    CELL_LABELS,
    CELL_STATES,
    KIND_LABELS,
    Cell,
    Completeness,
    KindGroup,
    Liaison,
    OverdueRow,
    Tally,
    UnitRow,
    add_up_completeness,
    completeness,
    completeness_over,
    default_period,
    fill_cells,
    overdue_units,
    unit_period_light,
)
from .eight_into import EightCell, EightIntoTable, EightRow, eight_into_table
from .targets import (
    SITE_METRIC_LEVELS,
    SITE_PER_TASK,
    SiteTally,
    TargetGroup,
    TargetRow,
    TargetRows,
    Window,
    campaign_window,
    current_window_rows,
    group_target_rows,
    light_for,
    target_light,
    target_pace,
    target_progress,
    target_windows,
)
from .trends import TrendPoint, Trends, trends
from .unit_record import ReturnedReport, UnitPeriodRow, UnitRecord, unit_record

__all__ = [
    "SITE_METRIC_LEVELS",
    "SITE_PER_TASK",
    "SiteTally",
    "CELL_LABELS",
    "CELL_STATES",
    "KIND_LABELS",
    "Cell",
    "Completeness",
    "EightCell",
    "EightIntoTable",
    "EightRow",
    "KindGroup",
    "Liaison",
    "OverdueRow",
    "ReturnedReport",
    "Tally",
    "TargetGroup",
    "TargetRow",
    "TargetRows",
    "TrendPoint",
    "Trends",
    "UnitPeriodRow",
    "UnitRecord",
    "UnitRow",
    "Window",
    "campaign_window",
    "completeness",
    "add_up_completeness",
    "completeness_over",
    "current_window_rows",
    "default_period",
    "eight_into_table",
    "fill_cells",
    "group_target_rows",
    "light_for",
    "overdue_units",
    "target_light",
    "target_pace",
    "target_progress",
    "target_windows",
    "trends",
    "unit_period_light",
    "unit_record",
]
