"""What goes into a compiled document, read straight from the models in a fixed number of queries.

The renderers (pdf, xlsx, docx) only lay out what these functions return, so the three formats of one
compilation always say the same thing.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import queue
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import connection, transaction
from django.db.models import Aggregate, Count, OuterRef, Prefetch, Q, Subquery, TextField
from django.utils import timezone
from django.utils.translation import get_language

from campaign.dates import cn_date
from campaign.lights import LIGHTS
from campaign.models import Campaign, ReportingPeriod
from reports.dashboards import charts
from reports.dashboards import selectors as dashboard_selectors
from reports.dashboards.selectors import Tally, UnitRow
from reports.models import MetricValue, ProgressReport
from tasks.models import Metric, Responsibility, Section, Target, Task
from units.models import Unit

from ..models import Compilation
from .wording import nest_quotes, official_number

logger = logging.getLogger(__name__)

REPORTED = ProgressReport.REPORTED_STATES
CN_NUMERALS = "一二三四五六七八九十"

# How the annual summary words each metric, after the example summaries
# ("印发宣传资料15万余份，制作展板280余块，开展宣讲10场次，累计培训干部群众900余人").
METRIC_PHRASES = {
    "materials": "印发宣传资料{}份",
    "boards": "制作展板{}块",
    "slogans": "张贴标语{}条",
    "lectures": "开展宣讲{}场次",
    "participants": "覆盖{}人次",
    "funding": "投入资金{}万元",
    "demo_sites": "打造示范点{}个",
    "meetings": "召开研究民族工作会议{}次",
    "study_sessions": "开展专题学习{}次",
    "class_hours": "开设专题教育{}课时",
    "practice_events": "开展主题实践创建活动{}次",
    "exchange_events": "组织青少年交流活动{}次",
    "sites_provincial": "建成省级互嵌式示范点{}个",
    "sites_city": "建成市级互嵌式示范点{}个",
}


def cn_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for sections and headings)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else CN_NUMERALS[tens - 1]}十{CN_NUMERALS[ones - 1] if ones else ''}"


def fmt_number(value: Decimal | int | float | None) -> str:
    """1200.00 → 1200, 3.50 → 3.5; thousands are not grouped, as in the example summaries."""
    if value is None:
        return "—"
    text = f"{Decimal(str(value)).normalize():f}"
    return text


def excel_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def excel_float(value: float) -> int | float:
    """A number read as a float, as Excel shows it: 1200.0 → 1200, 3.5 → 3.5."""
    return int(value) if value.is_integer() else value


@functools.cache
def _choice_labels(choices, language: str) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


def choice_label(choices, value: str) -> str:
    """``get_FOO_display()`` for a document's thousands of rows: the lazy labels turned into text once per
    language, not once per row (which was a fifth of a quarterly summary's data time)."""
    return _choice_labels(choices, get_language() or "").get(value, value)


def local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return timezone.localtime(value) if timezone.is_aware(value) else value


def first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence of a narrative, for highlights: up to the first 。/；, at most ``limit`` chars."""
    text = re.sub(r"\s+", "", text or "")
    if not text:
        return ""
    match = re.search(r"[。！；;!]", text)
    sentence = text[: match.start()] if match else text
    if len(sentence) > limit:
        return sentence[: limit - 1] + "…"
    return sentence + "。"


# ---------------------------------------------------------------------------------------------- scope


@dataclass
class Scope:
    """Which reports a compilation covers."""

    compilation: Compilation
    campaign: Campaign
    periods: list[ReportingPeriod]
    unit: Unit | None = None
    task: Task | None = None
    year: int | None = None
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def kind(self) -> str:
        return self.compilation.kind

    @property
    def single_period(self) -> ReportingPeriod | None:
        return self.periods[0] if len(self.periods) == 1 else None

    @property
    def as_of(self) -> dt.date:
        """The date the document's figures stop at: the last covered period's end (``ReportingPeriod.as_of``),
        or the day it is made if that is earlier. Charts, targets and totals show nothing after it."""
        return min(self.today, self.periods[-1].as_of) if self.periods else self.today

    @property
    def with_entries(self) -> bool:
        """Whether the document holds the units' full texts: always for a unit's or a task's report (they are
        its body), for a quarterly summary only as the appendix its request asked for (PDF and Word alike)."""
        return self.kind != Compilation.Kind.QUARTERLY or self.compilation.with_appendix

    @cached_property
    def completeness(self) -> list[dashboard_selectors.Completeness]:
        """The dashboards' ``completeness`` of each covered period (for the scope's unit or task), read
        once per document and shared by its intro, unit table and task summary."""
        return [
            dashboard_selectors.completeness(period, unit=self.unit, task=self.task)
            for period in self.periods
        ]

    def report_filter(self) -> Q:
        q = Q(period__in=[p.pk for p in self.periods])
        if self.unit is not None:
            q &= Q(unit=self.unit)
        if self.task is not None:
            q &= Q(task=self.task)
        return q

    def responsibilities(self):
        qs = Responsibility.objects.filter(task__campaign=self.campaign, unit__is_active=True)
        if self.unit is not None:
            qs = qs.filter(unit=self.unit)
        if self.task is not None:
            qs = qs.filter(task=self.task)
        return qs


def scope_for(compilation: Compilation, *, today: dt.date | None = None) -> Scope:
    campaign = compilation.campaign or (
        compilation.period.campaign if compilation.period_id else Campaign.current()
    )
    today = today or timezone.localdate()
    periods = ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter")
    if compilation.period_id:
        periods = periods.filter(pk=compilation.period_id)
    else:
        # Quarters that have begun; future ones would only add empty rows.
        periods = periods.as_of(today)
        if compilation.year:
            periods = periods.filter(year=compilation.year)
    return Scope(
        compilation=compilation,
        campaign=campaign,
        periods=list(periods),
        unit=compilation.unit,
        task=compilation.task,
        year=compilation.year,
        today=today,
    )


# ---------------------------------------------------------------------------- narrative documents


@dataclass
class Entry:
    """One unit × task × period: the report if any, and how it stands."""

    heading: str
    unit: Unit
    period: ReportingPeriod
    role: str
    report: ProgressReport | None
    light: str
    light_label: str
    metrics: list[tuple[str, str]]

    @property
    def shape(self) -> str:
        return LIGHTS[self.light].symbol

    @property
    def colour(self) -> str:
        return LIGHTS[self.light].colour

    @property
    def is_reported(self) -> bool:
        return self.report is not None and self.report.is_reported

    @property
    def state_label(self) -> str:
        if self.report is None:
            return "未填报"
        if self.report.state in ProgressReport.UNSENT_STATES:
            return "草稿未报送" if self.report.state == ProgressReport.State.DRAFT else "待分管领导审核"
        return choice_label(ProgressReport.State, self.report.state)

    @property
    def status_label(self) -> str:
        return (
            choice_label(ProgressReport.ProgressStatus, self.report.progress_status)
            if self.is_reported
            else ""
        )

    @property
    def submitted_label(self) -> str:
        return cn_date(local(self.report.submitted_at)) if self.is_reported else ""

    @property
    def standing(self) -> str:
        """How the entry stands, said once in words: 已报送，推进情况：滞后 / 逾期未报 (no coloured tag)."""
        if self.is_reported:
            return (
                f"{self.state_label}，推进情况：{self.status_label}"
                if self.status_label
                else self.state_label
            )
        return (
            self.light_label
            if self.light_label and self.light_label != self.state_label
            else self.state_label
        )

    def _text(self, name: str) -> str:
        return nest_quotes(getattr(self.report, name) or "") if self.is_reported else ""

    @property
    def progress_text(self) -> str:
        return self._text("progress")

    @property
    def problems_text(self) -> str:
        return self._text("problems")

    @property
    def next_steps_text(self) -> str:
        return self._text("next_steps")

    @property
    def caption(self) -> str:
        """The entry's heading after its (N): 市委宣传部（牵头，已报送，推进情况：滞后）."""
        return f"{self.heading}（{self.role}，{self.standing}）"

    @cached_property
    def parts(self) -> list[tuple[str, str]]:
        """The reported entry's text in labelled parts, in order: 工作进展 always (（未填写） when empty), then
        存在问题, 下一步计划 and 主要指标 when there are any. Word writes a paragraph per part, the PDF runs
        them into one block; both from this list."""
        if not self.is_reported:
            return []
        parts = [("工作进展：", self.progress_text or "（未填写）")]
        for label, text in (
            ("存在问题：", self.problems_text),
            ("下一步计划：", self.next_steps_text),
            ("主要指标：", self.metrics_text),
        ):
            if text:
                parts.append((label, text))
        return parts

    @property
    def metrics_text(self) -> str:
        """宣传资料1200份；展板30块。（2024年10月3日报送）, or empty without figures."""
        if not self.metrics:
            return ""
        when = f"（{self.submitted_label}报送）" if self.submitted_label else ""
        return "；".join(f"{name}{value}" for name, value in self.metrics) + "。" + when


@dataclass
class Subgroup:
    number: str
    title: str
    lead_names: list[str]
    co_names: list[str]
    entries: list[Entry]
    targets: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"t-{id(self)}"

    @property
    def reported(self) -> int:
        return sum(1 for e in self.entries if e.is_reported)

    @property
    def duty_text(self) -> str:
        """责任单位：牵头单位…；配合单位…。应报N份，已报M份。"""
        text = f"责任单位：牵头单位{'、'.join(self.lead_names) or '—'}"
        if self.co_names:
            text += f"；配合单位{'、'.join(self.co_names)}"
        return text + f"。应报{len(self.entries)}份，已报{self.reported}份。"


@dataclass
class Group:
    numeral: str
    title: str
    subgroups: list[Subgroup]

    @property
    def anchor(self) -> str:
        return f"g-{id(self)}"


@dataclass
class NarrativeDocument:
    title: str
    subtitle: str
    issuer: str
    date_label: str
    campaign: Campaign
    intro: list[str]
    groups: list[Group]
    unit_rows: list[UnitRow]
    charts: list[tuple[str, str]]
    expected: int
    reported: int
    on_time: int
    title_lines: list[str] = field(default_factory=list)
    overview: QuarterlyOverview | None = None
    digest: list[SectionDigest] = field(default_factory=list)
    with_appendix: bool = True
    # At province scale the appendix summarises each unit instead of listing every entry (``groups`` empty).
    unit_summary: list[UnitSummaryGroup] = field(default_factory=list)
    unit_summary_note: str = ""

    @property
    def rate(self) -> float | None:
        return self.reported / self.expected if self.expected else None

    @property
    def appendix_title(self) -> str:
        return "各单位报送情况" if self.unit_summary else "各单位报告全文"


# A quarterly summary's appendix gives every unit's full text up to this many entries (a city: ~55 units,
# ~400 unit × task entries, ~400 pages). Past it (a province: 1,000 units, ~10,000 entries, thousands of
# pages nobody reads) the appendix summarises each unit in one line, and says where the full texts are.
# Lines, not a table: WeasyPrint lays out a thousand-row table in 4× the time and memory of the lines.
APPENDIX_ENTRIES_MAX = 1000


@dataclass
class UnitSummaryRow:
    number: int
    name: str
    expected: int
    reported: int
    on_time: int
    behind: int
    missing_tasks: list[int]

    @property
    def line(self) -> str:
        """12．崆峒区：应报29份，已报27份（按时25份），推进滞后3份；未报送任务5、12。 (PDF and Word alike)"""
        text = f"{self.number}．{self.name}：应报{self.expected}份，已报{self.reported}份（按时{self.on_time}份）"
        if self.behind:
            text += f"，推进滞后{self.behind}份"
        if self.missing_tasks:
            text += "；未报送任务" + "、".join(str(n) for n in self.missing_tasks)
        return text + "。"


@dataclass
class UnitSummaryGroup:
    numeral: str
    label: str
    rows: list[UnitSummaryRow]


def unit_summary(scope: Scope) -> tuple[list[UnitSummaryGroup], str]:
    """Per unit kind, one row per unit of the period: the dashboards' ``completeness`` (expected, reported,
    on time; the tasks whose cell is not reported) and how many of its reported reports are behind (one
    query). No report text is read."""
    comp = scope.completeness[0]
    behind = dict(
        ProgressReport.objects.filter(period=comp.period, unit__is_active=True)
        .reported()
        .filter(progress_status=ProgressReport.ProgressStatus.BEHIND)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
        .order_by()
    )
    numbers = {task.pk: task.number for task in comp.tasks}
    groups, counter = [], 0
    for group in comp.groups:
        rows = []
        for row in group.rows:
            if not row.expected:
                continue
            counter += 1
            missing = sorted(
                numbers[task_id] for task_id, cell in row.cells.items() if cell.state not in REPORTED
            )
            rows.append(
                UnitSummaryRow(
                    counter,
                    row.unit.name,
                    row.expected,
                    row.reported,
                    row.on_time,
                    behind.get(row.unit.pk, 0),
                    missing,
                )  # fmt: skip
            )
        if rows:
            groups.append(UnitSummaryGroup(cn_numeral(len(groups) + 1), group.label, rows))
    overall = comp.overall
    note = (
        f"本季度应报送进展报告的单位{counter}个，应报送{overall.expected}份，已报送{overall.reported}份。"
        "单位较多，附件按单位列出报送情况；各单位报告全文见工作台账（Excel）和各单位进展情况报告。"
    )
    return groups, note


def _responsibility_map(scope: Scope) -> dict[int, list[Responsibility]]:
    by_task: dict[int, list[Responsibility]] = defaultdict(list)
    for resp in scope.responsibilities().select_related("unit").order_by("task_id", "order", "id"):
        by_task[resp.task_id].append(resp)
    return by_task


def _all_responsibility_names(scope: Scope) -> dict[int, tuple[list[str], list[str]]]:
    """Lead and co-responsible unit names per task, whatever the scope's unit filter."""
    names: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    qs = Responsibility.objects.filter(task__campaign=scope.campaign, unit__is_active=True)
    if scope.task is not None:
        qs = qs.filter(task=scope.task)
    for task_id, role, name in qs.order_by("task_id", "order", "id").values_list(
        "task_id", "role", "unit__name"
    ):
        names[task_id][0 if role == Responsibility.Role.LEAD else 1].append(name)
    return names


def _reports_by_key(scope: Scope) -> dict[tuple[int, int, int], ProgressReport]:
    reports = (
        ProgressReport.objects.filter(scope.report_filter())
        .select_related("period", "unit", "task")
        .prefetch_related(
            Prefetch(
                "metric_values",
                queryset=MetricValue.objects.select_related("metric").order_by("metric__order", "metric_id"),
            )
        )
    )
    return {(r.period_id, r.unit_id, r.task_id): r for r in reports}


def _metric_items(report: ProgressReport | None) -> list[tuple[str, str]]:
    if report is None or report.state not in REPORTED:
        return []
    return [
        (mv.metric.name, f"{fmt_number(mv.value)}{mv.metric.unit_of_measure}")
        for mv in report.metric_values.all()
    ]


def _targets_by_task(scope: Scope) -> dict[int, list[str]]:
    qs = Target.objects.filter(task__campaign=scope.campaign).select_related("metric")
    if scope.task is not None:
        qs = qs.filter(task=scope.task)
    out: dict[int, list[str]] = defaultdict(list)
    for target in qs.order_by("task__number", "order", "id"):
        out[target.task_id].append(
            f"{target.scope_label}{target.metric.name}{target.get_comparison_display()}"
            f"{target.value_display}{target.metric.unit_of_measure}（{target.period_display}）"
        )
    return out


def dashboard_charts(scope: Scope) -> list[tuple[str, str]]:
    """The dashboards' own SVG charts (reports/charts.py), so page and PDF agree."""

    wanted: list[tuple[str, object]] = []
    period = scope.single_period
    if period is not None and scope.unit is None and scope.task is None:
        wanted.append(("报送完成情况", lambda: charts.period_completeness_svg(period)))
    if scope.unit is None and scope.task is None:
        wanted.append(
            ("各季度报送率趋势", lambda: charts.reporting_rate_trend_svg(scope.campaign, as_of=scope.as_of))
        )
    wanted.append(("量化目标完成进度", lambda: charts.target_progress_svg(scope.campaign, as_of=scope.as_of)))
    out = []
    for title, func in wanted:
        try:
            svg = func()
        except Exception:  # a broken chart must not cost the whole document
            logger.exception("chart %s failed", title)
            continue
        if svg:
            out.append((title, clean_svg(str(svg))))
    return out


def clean_svg(svg: str) -> str:
    """Inline-able SVG: no XML prolog or doctype in the middle of an HTML document."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.IGNORECASE)
    return svg.strip()


def narrative(scope: Scope, *, with_charts: bool = True, with_entries: bool = True) -> NarrativeDocument:
    """Quarterly summary, unit report, task report and ledger as text: groups → tasks → entries.

    A quarterly summary also gets its 总体情况 (``overview``) and per-task ``digest``; ``with_entries=False``
    leaves out the entries (the units' full texts), which only its appendix shows."""
    campaign = scope.campaign
    sections = list(Section.objects.filter(campaign=campaign).order_by("order"))
    tasks = Task.objects.filter(campaign=campaign).select_related("section").order_by("number")
    if scope.task is not None:
        tasks = tasks.filter(pk=scope.task.pk)
    responsibilities = _responsibility_map(scope)
    if scope.unit is not None:
        tasks = tasks.filter(pk__in=list(responsibilities))
    tasks = list(tasks)
    names = _all_responsibility_names(scope)
    many_periods = len(scope.periods) > 1
    entry_count = sum(len(resps) for resps in responsibilities.values()) * len(scope.periods)
    summarise = (
        with_entries
        and scope.kind == Compilation.Kind.QUARTERLY
        and scope.single_period is not None
        and entry_count > APPENDIX_ENTRIES_MAX
    )
    # The reports' texts are read only for the entries a document shows.
    show_entries = with_entries and not summarise
    reports = _reports_by_key(scope) if show_entries else {}
    targets = _targets_by_task(scope) if show_entries else {}

    def entries_for(task: Task, periods: list[ReportingPeriod]) -> list[Entry]:
        out = []
        for period in periods:
            for resp in responsibilities.get(task.pk, []):
                report = reports.get((period.pk, resp.unit_id, task.pk))
                light, light_label = ProgressReport.light_for(report, period, scope.today)
                if scope.unit is not None and many_periods:
                    heading = period.label
                elif many_periods:
                    heading = f"{resp.unit.name}（{period.label}）"
                else:
                    heading = resp.unit.name
                out.append(
                    Entry(
                        heading=heading,
                        unit=resp.unit,
                        period=period,
                        role=choice_label(Responsibility.Role, resp.role),
                        report=report,
                        light=light,
                        light_label=light_label,
                        metrics=_metric_items(report),
                    )
                )
        return out

    def subgroup(task: Task, periods: list[ReportingPeriod]) -> Subgroup:
        leads, cos = names.get(task.pk, ([], []))
        return Subgroup(
            number=str(task.number),
            title=task.title,
            lead_names=leads,
            co_names=cos,
            entries=entries_for(task, periods),
            targets=targets.get(task.pk, []),
        )

    groups: list[Group] = []
    if show_entries and scope.kind == Compilation.Kind.TASK and many_periods:
        # One task over time: a group per quarter reads like the task's history.
        for i, period in enumerate(scope.periods, start=1):
            groups.append(Group(cn_numeral(i), period.label, [subgroup(tasks[0], [period])]))
    elif show_entries:
        for section in sections:
            subs = [subgroup(t, scope.periods) for t in tasks if t.section_id == section.pk]
            if subs:
                groups.append(Group(section.numeral, section.short_title or section.title, subs))

    unit_rows, overall = dashboard_selectors.add_up_completeness(scope.completeness)
    expected, reported, on_time = overall.expected, overall.reported, overall.on_time
    title, subtitle = document_titles(scope)
    intro = [
        f"本{'期' if not many_periods else '汇编'}应报送进展报告{expected}份，已报送{reported}份"
        + (f"，报送率{reported * 100 / expected:.1f}%" if expected else "")
        + f"，其中按时报送{on_time}份。"
    ]
    if scope.task is not None:
        intro.insert(0, f"任务内容：{scope.task.text}")
    overview, digest = None, []
    if scope.kind == Compilation.Kind.QUARTERLY and scope.single_period is not None:
        overview = quarterly_overview(scope)
        digest = quarterly_digest(scope, overview)
    summary, note = unit_summary(scope) if summarise else ([], "")
    return NarrativeDocument(
        title=title,
        subtitle=subtitle,
        issuer=campaign.issuer_name,
        date_label=cn_date(scope.today),
        campaign=campaign,
        intro=intro,
        groups=groups,
        unit_rows=unit_rows,
        charts=dashboard_charts(scope) if with_charts else [],
        expected=expected,
        reported=reported,
        on_time=on_time,
        title_lines=title_lines(scope),
        overview=overview,
        digest=digest,
        with_appendix=with_entries,
        unit_summary=summary,
        unit_summary_note=note,
    )


def document_titles(scope: Scope) -> tuple[str, str]:
    campaign = scope.campaign
    c = scope.compilation
    period_label = scope.single_period.label if c.period_id else ""
    if c.kind == Compilation.Kind.QUARTERLY:
        return f"{campaign.city}创建全国民族团结进步示范市工作{period_label}进展情况汇总", ""
    if c.kind == Compilation.Kind.UNIT:
        return f"{scope.unit.name}创建工作进展情况报告", period_label or "全部报告期"
    if c.kind == Compilation.Kind.TASK:
        return f"任务{scope.task.number}推进情况报告", f"{scope.task.title}　{period_label or '全部报告期'}"
    if c.kind == Compilation.Kind.ANNUAL:
        return f"{campaign.city}{scope.year}年创建全国民族团结进步示范市工作总结", ""
    scope_text = period_label or (f"{scope.year}年度" if scope.year else "全部报告期")
    return f"{campaign.city}创建全国民族团结进步示范市工作台账", scope_text


def _end_sentence(text: str) -> str:
    return text if text.endswith(("。", "！", "？", "；", "…")) else text + "。"


# ------------------------------------------------------------------------------------ ledger rows


@dataclass
class LedgerColumn:
    title: str
    width: float
    kind: str = "text"  # text | number | date


def ledger_metrics(scope: Scope) -> list[Metric]:
    """Metrics that appear in the scope's reports (one query), in their display order."""
    used = (
        MetricValue.objects.filter(report__in=ProgressReport.objects.filter(scope.report_filter()))
        .values_list("metric_id", flat=True)
        .distinct()
    )
    return list(Metric.objects.filter(pk__in=used).order_by("order", "id"))


def ledger_columns(metrics: list[Metric]) -> list[LedgerColumn]:
    return [
        LedgerColumn("报告期", 16),
        LedgerColumn("单位", 22),
        LedgerColumn("任务编号", 9, "number"),
        LedgerColumn("任务", 40),
        LedgerColumn("状态", 10),
        LedgerColumn("推进情况", 12),
        LedgerColumn("工作进展", 60),
        LedgerColumn("存在问题", 40),
        LedgerColumn("下一步计划", 40),
        *[
            LedgerColumn(f"{m.name}（{m.unit_of_measure}）", max(10, text_width(m.name) + 6), "number")
            for m in metrics
        ],
        LedgerColumn("报送时间", 18, "date"),
        LedgerColumn("审核时间", 18, "date"),
    ]


# Runs of characters Excel draws one Latin character wide (up to U+2E80); everything after (CJK, full-width
# punctuation) is two. Counting the narrow runs with a regex is 4× faster than a loop over the characters,
# which mattered: a 100,000-row ledger measures every long text to size its row.
_NARROW_RUNS = re.compile("[\x00-\u2e80]+")


def text_width(text: str) -> int:
    """Excel column width of ``text``: a CJK character is about two Latin ones wide."""
    text = str(text)
    if text.isascii():
        return len(text)
    return 2 * len(text) - sum(map(len, _NARROW_RUNS.findall(text)))


def _labels(choices) -> dict[str, str]:
    # str(): choices carry lazy translations, which openpyxl cannot write.
    return {value: str(label) for value, label in choices}


def ledger_count(scope: Scope) -> int:
    return ProgressReport.objects.filter(scope.report_filter()).count()


class MetricValuesJSON(Aggregate):
    """{key: value} of the grouped rows as JSON text: PostgreSQL's json_object_agg, SQLite's json_group_object."""

    function = "JSON_OBJECT_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_OBJECT", **extra_context)


def ledger_rows(scope: Scope, metrics: list[Metric], *, chunk_size: int = 2000) -> Iterator[list]:
    """One list per report, streamed through a server-side cursor in chunks: one query, the report's metric
    values fetched in it, so memory stays flat however many rows there are and no second query runs per
    chunk."""
    period_labels = {p.pk: p.label for p in scope.periods}
    state_labels = _labels(ProgressReport.State.choices)
    status_labels = _labels(ProgressReport.ProgressStatus.choices)
    unsent = set(ProgressReport.UNSENT_STATES)
    # All of a report's metric values in one correlated subquery of the main query, as a JSON object
    # {metric id: value}: one index range scan per report (a subquery per metric column took PostgreSQL
    # 3 of its 4 seconds on 100,000 reports), parsed in C; numbers come back as floats, as Excel stores them.
    column_of = {str(m.pk): i for i, m in enumerate(metrics)}
    values = {
        "metric_values_json": Subquery(
            MetricValue.objects.filter(report=OuterRef("pk"))
            .order_by()
            .values("report")
            .annotate(json=MetricValuesJSON("metric_id", "value"))
            .values("json")
        )
    }
    qs = (
        ProgressReport.objects.filter(scope.report_filter())
        .annotate(**values)
        .order_by("period__year", "period__quarter", "unit__order", "unit_id", "task__number")
        .values_list(
            "period_id",
            "unit__name",
            "task__number",
            "task__title",
            "state",
            "progress_status",
            "progress",
            "problems",
            "next_steps",
            *values,
            "submitted_at",
            "reviewed_at",
        )
    )
    tz = timezone.get_current_timezone()  # once: the lookup goes through asgiref locals
    with _streaming_read():
        yield from _ledger_lists(
            qs.iterator(chunk_size=chunk_size),
            column_of,
            period_labels,
            state_labels,
            status_labels,
            unsent,
            tz,
        )


@contextmanager
def _streaming_read():
    """On PostgreSQL, the ledger's query is read inside a transaction, so its server-side cursor streams rows
    as they come (outside one, psycopg declares it WITH HOLD and the server first stores the whole result),
    and without JIT: planning a metric subquery per column over 100,000 rows, PostgreSQL spent 6.6 of the
    query's 8.7 seconds compiling it. SQLite reads as it is (a transaction there would hold the job's own
    progress updates back from the progress page)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _ledger_lists(rows, column_of, period_labels, state_labels, status_labels, unsent, tz) -> Iterator[list]:
    loads, width = json.loads, len(column_of)
    for row in rows:
        state = row[4]
        metrics = [None] * width
        if row[9]:
            # JSON text (SQLite), or already a dict where the driver parses json itself (psycopg).
            found = loads(row[9]) if isinstance(row[9], str) else row[9]
            for metric_id, value in found.items():
                if metric_id in column_of and value is not None:
                    metrics[column_of[metric_id]] = excel_float(float(value))
        yield [
            period_labels.get(row[0], ""),
            row[1],
            row[2],
            row[3],
            state_labels.get(state, state),
            status_labels.get(row[5], row[5]) if state not in unsent else "",
            row[6] or None,  # an empty string would still cost a cell; None writes nothing
            row[7] or None,
            row[8] or None,
            *metrics,
            _naive(row[-2], tz),
            _naive(row[-1], tz),
        ]


def prefetched(rows: Iterator[list], *, batch: int = 500, depth: int = 8) -> Iterator[list]:
    """Run a database-bound row generator in a thread, so its waits on the database overlap the caller's
    work (the spreadsheet writer). PostgreSQL only: on SQLite (the quick start) the reader's lock would
    block the job's own progress writes. Inside a transaction (tests, or a caller's atomic block) another
    connection would not see the rows either, so the generator then simply runs inline."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from rows
        return
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        from django.db import connections

        try:
            pending = []
            for row in rows:
                pending.append(row)
                if len(pending) >= batch:
                    if not put(pending):
                        return
                    pending = []
            put(pending)
            put(done)
        except BaseException as exc:  # handed to the consumer, which raises it in the job's thread
            put(exc)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=produce, name="ledger-rows", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join(timeout=10)


def _naive(value: dt.datetime | None, tz=None) -> dt.datetime | None:
    """Excel has no time zones: local wall-clock time, as people read it."""
    if value is None:
        return None
    return value.astimezone(tz or timezone.get_current_timezone()).replace(tzinfo=None)


# -------------------------------------------------------------------------------- summary sheets


@dataclass(kw_only=True)
class TaskSummary(Tally):
    """One task over the scope: the dashboards' tally (expected, reported, on time …) and how the work goes."""

    task: Task
    lead: str
    behind: int = 0
    done: int = 0


def task_summaries(scope: Scope) -> list[TaskSummary]:
    """Per task over the scope: ``completeness`` of each period, added up by task (the same cells the
    dashboards count), plus the reported reports' progress status (one more query)."""
    leads = dict(
        Responsibility.objects.leads()
        .filter(task__campaign=scope.campaign)
        .values_list("task_id", "unit__name")
    )
    tallies: dict[int, Tally] = defaultdict(Tally)
    tasks: dict[int, Task] = {}
    for comp in scope.completeness:
        for row in comp.units:
            for task_id, cell in row.cells.items():
                tallies[task_id].expected += 1
                tallies[task_id].count(cell.state, cell.on_time)
    status = {
        row["task_id"]: row
        for row in ProgressReport.objects.filter(scope.report_filter())
        .reported()
        .values("task_id")
        .annotate(
            behind=Count("id", filter=Q(progress_status=ProgressReport.ProgressStatus.BEHIND)),
            done=Count("id", filter=Q(progress_status=ProgressReport.ProgressStatus.DONE)),
        )
        .order_by()
    }
    tasks = Task.objects.filter(pk__in=list(tallies)).select_related("section").order_by("number")
    out = []
    for task in tasks:
        counts = status.get(task.pk, {})
        summary = TaskSummary(
            task=task, lead=leads.get(task.pk, ""), behind=counts.get("behind", 0), done=counts.get("done", 0)
        )
        summary.add(tallies[task.pk])
        out.append(summary)
    return out


def unit_rows(scope: Scope) -> list[UnitRow]:
    """Expected / reported / on time per unit over the scope: the dashboards' ``completeness``, added up."""
    return dashboard_selectors.add_up_completeness(scope.completeness)[0]


@dataclass
class TargetLine:
    """One row of the 指标完成 sheet."""

    target: Target
    unit_label: str
    window_label: str
    reported: Decimal
    promised: Decimal
    expected: Decimal | None = None
    light_label: str = ""

    @property
    def rate(self) -> float | None:
        return float(self.reported / self.promised) if self.promised else None


def target_rows(scope: Scope) -> list[TargetLine]:
    """Targets against what was reported, from the dashboards' ``target_progress`` so workbook and dashboard agree."""
    rows = dashboard_selectors.target_progress(scope.campaign, as_of=scope.as_of, unit=scope.unit)
    if scope.task is not None:
        rows = [r for r in rows if r.target.task_id == scope.task.pk]
    return [
        TargetLine(
            target=r.target,
            unit_label=r.unit_name,
            window_label=r.window_label,
            reported=r.reported,
            promised=r.promised,
            expected=r.expected,
            light_label=r.light_label,
        )
        for r in rows
    ]


# ------------------------------------------------------------------------------ quarterly summary

# How many of a list a summary names before it says "等N个": a province has a thousand units.
NAMED_MAX = 8
HIGHLIGHTS_PER_TASK = 2
NOTABLE_MAX = 5


def name_list(names: list[str], limit: int = NAMED_MAX) -> str:
    """崆峒区、华亭市 / 崆峒区、华亭市等12个单位: a list that stays one line long at any scale."""
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f"等{len(names)}个单位"


def change_phrase(now: float | None, before: float | None) -> str:
    """较上季度提高3.5个百分点 / 下降 / 持平; empty without a previous quarter."""
    if now is None or before is None:
        return ""
    points = round((now - before) * 100, 1)
    if points > 0:
        return f"，较上季度提高{points:g}个百分点"
    if points < 0:
        return f"，较上季度下降{-points:g}个百分点"
    return "，与上季度持平"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@dataclass
class Highlight:
    unit: str
    text: str
    size: Decimal = Decimal(0)

    @property
    def sentence(self) -> str:
        """The work with the unit named once: a unit's sentence often names it already ("崆峒区在全区…")."""
        return self.text if self.text.startswith(self.unit) else self.unit + self.text


@dataclass
class TaskDigest:
    """One task condensed: who carries it, how many reported, who is behind or missing, what stood out."""

    number: str
    title: str
    lead_names: list[str]
    expected: int
    reported: int
    behind: list[str]
    missing: list[str]
    highlights: list[Highlight]
    targets_at_risk: list[str]

    @property
    def lead_in(self) -> str:
        """The task named at the head of its paragraph: 3．弘扬中华民族伟大精神。"""
        return nest_quotes(f"{self.number}．{self.title}。")

    @property
    def paragraph(self) -> str:
        lead = f"牵头单位{'、'.join(self.lead_names)}。" if self.lead_names else ""
        text = f"{lead}应报送{self.expected}份，已报送{self.reported}份"
        if self.missing:
            text += f"，{name_list(self.missing)}未报送"
        text += "。"
        if self.behind:
            text += f"{name_list(self.behind)}报告推进滞后。"
        for h in self.highlights:
            text += _end_sentence(h.sentence)
        if self.targets_at_risk:
            text += "量化目标" + "；".join(self.targets_at_risk) + "。"
        return nest_quotes(text)


@dataclass
class SectionDigest:
    numeral: str
    title: str
    tasks: list[TaskDigest]


@dataclass
class QuarterlyOverview:
    """The 总体情况 of a quarterly summary: every figure from the dashboards' selectors."""

    period: ReportingPeriod
    previous: ReportingPeriod | None
    tally: Tally
    previous_tally: Tally | None
    red_units: list[str]
    red_labels: dict[str, str]
    targets_total: int
    targets_at_risk: list[dashboard_selectors.TargetRow]
    headline: list[tuple[Metric, Decimal]]
    notable: list[Highlight]

    @property
    def notable_text(self) -> str:
        """本季度工作亮点：崆峒区…；市委宣传部…。 (empty when nothing stood out)"""
        if not self.notable:
            return ""
        return nest_quotes("本季度工作亮点：" + "；".join(h.sentence for h in self.notable) + "。")

    @property
    def paragraphs(self) -> list[str]:
        t, p = self.tally, self.previous_tally
        out = [
            f"{self.period.label}，全市各责任单位应报送进展报告{t.expected}份，已报送{t.reported}份，"
            f"报送率{pct(t.rate)}{change_phrase(t.rate, p.rate if p else None)}；"
            f"按时报送{t.on_time}份，按时报送率{pct(t.on_time_rate)}"
            f"{change_phrase(t.on_time_rate, p.on_time_rate if p else None)}。"
        ]
        if self.red_units:
            out.append(
                f"截至成文时，{name_list(self.red_units)}存在逾期未报或退回未重报的报告，"
                f"共{len(self.red_units)}个单位亮红灯，请相关单位抓紧补报。"
            )
        else:
            out.append("截至成文时，没有亮红灯（逾期未报或退回未重报）的单位。")
        if self.headline:
            out.append(
                "本季度各单位报送的主要工作量："
                + "，".join(headline_phrase(m, v) for m, v in self.headline)
                + "。"
            )
        if self.targets_total:
            if self.targets_at_risk:
                named = "；".join(target_risk_phrase(r) for r in self.targets_at_risk[:NAMED_MAX])
                more = f"等{len(self.targets_at_risk)}项" if len(self.targets_at_risk) > NAMED_MAX else ""
                out.append(
                    f"全市{self.targets_total}项量化目标中，{len(self.targets_at_risk)}项进度滞后或逾期："
                    f"{named}{more}。"
                )
            else:
                out.append(f"全市{self.targets_total}项量化目标均按进度推进。")
        return [nest_quotes(text) for text in out]


def headline_phrase(metric: Metric, value: Decimal) -> str:
    """印发宣传资料77万余份: the metric's phrase with its figure worded as officials write it."""
    head, _, tail = METRIC_PHRASES.get(metric.code, metric.name + "{}").partition("{}")
    return head + official_number(value, tail or metric.unit_of_measure)


def target_risk_phrase(row) -> str:
    return (
        f"任务{row.target.task.number}{row.unit_name}{row.target.metric.name}"
        f"完成{official_number(row.reported, row.target.metric.unit_of_measure)}"
        f"（目标{official_number(row.promised, row.target.metric.unit_of_measure)}，{row.light_label}）"
    )


def third_person(sentence: str) -> str:
    """A unit's sentence as the office writes it about the unit: without "本季度，" or "我单位"."""
    sentence = re.sub(r"^(本季度|本期|今年以来|近期)[，,]?", "", sentence)
    return sentence.replace("我单位", "").lstrip("，,")


def _size(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def quarterly_overview(scope: Scope) -> QuarterlyOverview:
    period = scope.single_period
    comp = scope.completeness[0]
    previous = (
        ReportingPeriod.objects.filter(campaign=scope.campaign)
        .filter(Q(year__lt=period.year) | Q(year=period.year, quarter__lt=period.quarter))
        .order_by("-year", "-quarter")
        .first()
    )
    previous_tally = dashboard_selectors.completeness(previous).overall if previous else None
    flagged = dashboard_selectors.overdue_units(comp, today=scope.today)
    red = [row for row in flagged if row.light == "red"]
    targets = dashboard_selectors.target_progress(scope.campaign, as_of=scope.as_of)
    at_risk = [row for row in targets if row.light != "green"]
    trend = dashboard_selectors.trends(scope.campaign, as_of=scope.as_of)
    point = next((p for p in trend.points if p.period.pk == period.pk), None)
    headline = [(m, point.metrics[m.code]) for m in trend.metrics if point and point.metrics.get(m.code)]
    return QuarterlyOverview(
        period=period,
        previous=previous,
        tally=comp.overall,
        previous_tally=previous_tally,
        red_units=[row.unit.name for row in red],
        red_labels={row.unit.name: row.label for row in red},
        targets_total=len(targets),
        targets_at_risk=at_risk,
        headline=headline,
        notable=[],
    )


def quarterly_digest(scope: Scope, overview: QuarterlyOverview) -> list[SectionDigest]:
    """Per section and task, a condensed account from the period's ``completeness`` cells and the reported
    reports' texts (3 queries beyond the completeness already read), and the quarter's notable work."""
    comp = scope.completeness[0]
    names = _all_responsibility_names(scope)
    per_task_expected: dict[int, int] = defaultdict(int)
    per_task_reported: dict[int, int] = defaultdict(int)
    per_task_missing: dict[int, list[str]] = defaultdict(list)
    for row in comp.units:
        for task_id, cell in row.cells.items():
            per_task_expected[task_id] += 1
            if cell.state in REPORTED:
                per_task_reported[task_id] += 1
            else:
                per_task_missing[task_id].append(row.unit.name)
    reports = list(
        ProgressReport.objects.filter(period=comp.period)
        .reported()
        .order_by("unit__order", "unit_id")
        .values_list("pk", "task_id", "unit__name", "progress", "progress_status")
    )
    sizes: dict[int, list[Decimal]] = defaultdict(list)
    for report_id, value in MetricValue.objects.filter(
        report__period=comp.period, report__state__in=REPORTED
    ).values_list("report_id", "value"):
        if value is not None:
            sizes[report_id].append(value)
    behind: dict[int, list[str]] = defaultdict(list)
    candidates: dict[int, list[Highlight]] = defaultdict(list)
    for pk, task_id, unit_name, progress, status in reports:
        if status == ProgressReport.ProgressStatus.BEHIND:
            behind[task_id].append(unit_name)
        sentence = third_person(first_sentence(progress, limit=80))
        if sentence:
            candidates[task_id].append(Highlight(unit_name, sentence.rstrip("。"), _size(sizes.get(pk, []))))
    risk_by_task: dict[int, list[str]] = defaultdict(list)
    for row in overview.targets_at_risk:
        risk_by_task[row.target.task_id].append(target_risk_phrase(row))

    def chosen(items: list[Highlight], limit: int) -> list[Highlight]:
        # By the size of their figures, then reading order; a sentence said twice counts once.
        seen, out = set(), []
        for h in sorted(items, key=lambda h: -h.size):
            if h.text not in seen:
                seen.add(h.text)
                out.append(h)
            if len(out) == limit:
                break
        return out

    tasks = Task.objects.filter(campaign=scope.campaign).order_by("number")
    by_section: dict[int, list[TaskDigest]] = defaultdict(list)
    for task in tasks:
        if task.pk not in per_task_expected:
            continue
        by_section[task.section_id].append(
            TaskDigest(
                number=str(task.number),
                title=task.title,
                lead_names=names.get(task.pk, ([], []))[0],
                expected=per_task_expected[task.pk],
                reported=per_task_reported[task.pk],
                behind=behind.get(task.pk, []),
                missing=per_task_missing.get(task.pk, []),
                highlights=chosen(candidates.get(task.pk, []), HIGHLIGHTS_PER_TASK),
                targets_at_risk=risk_by_task.get(task.pk, [])[:3],
            )
        )
    overview.notable = chosen([h for items in candidates.values() for h in items], NOTABLE_MAX)
    out = []
    for section in Section.objects.filter(campaign=scope.campaign).order_by("order"):
        if by_section.get(section.pk):
            out.append(
                SectionDigest(section.numeral, section.short_title or section.title, by_section[section.pk])
            )
    return out


def title_lines(scope: Scope) -> list[str]:
    """The title in the pieces a line may break between (GB/T 9704: 回行时词意完整), longest first."""
    campaign = scope.campaign
    if scope.kind == Compilation.Kind.QUARTERLY and scope.single_period is not None:
        return [f"{campaign.city}创建全国民族团结进步示范市工作", f"{scope.single_period.label}进展情况汇总"]
    if scope.kind == Compilation.Kind.ANNUAL:
        return [f"{campaign.city}{scope.year}年", "创建全国民族团结进步示范市工作总结"]
    return [document_titles(scope)[0]]
