"""The annual summary's content, in the shape and voice of the city's own summaries (seeds 000 and 003).

Written about the city in the third person, numbered 一、(一) 1. (1):

* 一、工作开展情况 — per section, the year's figures from approved reports, added up per the metric's kind
  (``Metric.add_up``) and written as officials write them (``wording.official_number``), then two or three
  highlights: approved reports chosen by the size of their figures, one per unit, naming the unit.
* 二、存在的困难和问题 — the problems of the year's reported reports grouped by theme (``THEMES``, the one
  keyword table), with how many units raised each, a short paragraph per theme.
* 三、下一步工作计划 — the targets still short or behind pace (the dashboards' ``target_progress``), the plan's
  next phase, and the units' next steps grouped by the same themes.

Figures and highlights come from approved reports only, as on the dashboards ("仅统计审核通过的报告"), so
every total here equals the dashboards' total for the same quarters — except the 示范点 metrics
(``targets.SITE_METRIC_LEVELS``): those are the register's distinct named sites as of the year's end
(``targets.SiteTally``, as the 八进 table and the site targets count them), never the units' typed numbers,
which would count a site once per unit and once per quarter. Problems and next steps are read from
every reported report (``ProgressReport.REPORTED_STATES``): a difficulty a unit raised counts before review.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from campaign.dates import cn_date
from campaign.lights import GREEN
from campaign.models import Campaign, Phase
from reports.dashboards import selectors as dashboard_selectors
from reports.models import MetricValue, ProgressReport
from tasks.models import Metric, Section, Target, Task

from .data import METRIC_PHRASES, Scope, cn_numeral, title_lines
from .wording import nest_quotes, official_number

# What the summary says where the year gave nothing to group (the Word file and the PDF say the same).
NO_PROBLEMS = "全年各责任单位报告中未反映突出困难和问题。"
NO_PLANS = "按照实施方案确定的目标任务，持续推进各项创建工作。"

HIGHLIGHTS_PER_SECTION = 3
EXAMPLES_PER_THEME = 3
UNITS_NAMED_PER_THEME = 5


@dataclass(frozen=True)
class Theme:
    key: str
    problem_heading: str  # (一) heading in 二、
    plan_heading: str  # 1. lead-in in 三、
    keywords: tuple[str, ...]


# The one table of problem / next-step themes. Order matters: a sentence goes to the first theme whose
# keywords it contains most often (ties: the earlier theme), so the narrower themes come first.
THEMES: tuple[Theme, ...] = (
    Theme(
        "funding",
        "经费保障不够充足",
        "加强经费保障",
        ("经费", "资金", "预算", "投入不足", "投入有限", "保障不足"),
    ),
    Theme(
        "staff",
        "人员力量相对薄弱",
        "充实人员力量",
        ("人员", "人手", "力量", "专职", "队伍", "教师", "编制", "业务能力", "培训"),
    ),
    Theme(
        "publicity",
        "宣传教育覆盖面有待拓宽",
        "扩大宣传覆盖",
        ("宣传", "覆盖", "形式单一", "参与度", "知晓", "氛围", "宣讲", "新媒体", "载体", "普及", "讲堂"),
    ),
    Theme(
        "grassroots",
        "基层落实不够平衡",
        "推动基层落实",
        ("基层", "落实", "不均衡", "不平衡", "乡镇", "村", "社区", "末梢", "进展不一"),
    ),
    Theme(
        "mechanism",
        "工作机制有待健全",
        "健全工作机制",
        ("机制", "协调", "联动", "统筹", "制度", "考核", "督查", "台账", "部门", "沟通", "对接", "牵头"),
    ),
    Theme(
        "awareness",
        "思想认识还需深化",
        "提高思想认识",
        ("认识", "重视", "主动性", "积极性", "思想"),
    ),
    Theme(
        "innovation",
        "特色亮点不够突出",
        "打造特色品牌",
        ("特色", "创新", "亮点", "品牌", "示范", "典型"),
    ),
)
OTHER = Theme("other", "其他方面的问题", "统筹推进其他工作", ())


def theme_of(sentence: str) -> Theme:
    """The theme a problem or next-step sentence belongs to: most keyword hits, earlier theme on a tie."""
    best, hits = OTHER, 0
    for theme in THEMES:
        count = sum(sentence.count(word) for word in theme.keywords)
        if count > hits:
            best, hits = theme, count
    return best


# ------------------------------------------------------------------------------------------ voice

FIRST_PERSON = (
    # (pattern, replacement; "{unit}" is the reporting unit's name)
    (r"我(?:单位|部门|局|委|部|办|院|会|厅|校|中心)", "{unit}"),
    (r"本(?:单位|部门)", "{unit}"),
    (r"我(?:市|们)", "全市"),
    (r"我(?:区|县)", "{unit}"),
)
OPENERS = re.compile(r"^(?:下一步|今后|接下来|下阶段)[，,：:]?(?:我们|将|要)?|^(?:将|要|拟)")


def third_person(text: str, unit_name: str, quarter_label: str = "") -> str:
    """A unit's own sentence as the city writes about it: 我单位 → the unit, 本季度 → the quarter."""
    text = re.sub(r"\s+", "", text or "")
    for pattern, repl in FIRST_PERSON:
        text = re.sub(pattern, repl.replace("{unit}", unit_name), text)
    text = re.sub(r"本季度|本期|本季", quarter_label or "年内", text)
    text = re.sub(r"本年度|今年以来|今年", "全年", text)
    return nest_quotes(cn_commas(text))


def sentences(text: str) -> list[str]:
    """Sentences of a free text, without their end marks; list numbers ("1." "（2）" "一是") dropped."""
    out = []
    for part in re.split(r"[。！？；;!?\n]+", text or ""):
        part = re.sub(r"^(?:\d+[.．、]|[（(]\d+[）)]|[一二三四五六七八九十]+[是、])", "", part.strip())
        part = part.strip("，, ")
        if len(part) >= 4:
            out.append(part)
    return out


def _unit_prefixed(unit_name: str, sentence: str) -> str:
    """The unit named once: its own sentence usually names it already ("…，崇信县认真落实…")."""
    return sentence if unit_name in sentence else unit_name + sentence


def cn_commas(text: str) -> str:
    """ASCII commas and colons typed into Chinese text (the plan's own text has them) as full-width ones."""
    return re.sub(r"(?<=[^\x00-\x7f]),|,(?=[^\x00-\x7f])", "，", re.sub(r"(?<=[^\x00-\x7f]):", "：", text))


def _quarter_label(period) -> str:
    return f"{period.year}年第{cn_numeral(period.quarter)}季度"


# ------------------------------------------------------------------------------------------ content


@dataclass
class SectionAccount:
    numeral: str  # (一)
    title: str
    summary: str  # the section's paragraph: reports and the year's figures
    highlights: list[str]  # 1. 2. 3.
    totals: dict[str, Decimal] = field(default_factory=dict)  # metric code → year total


@dataclass
class ThemeAccount:
    theme: Theme
    units: list[str]
    examples: list[str]
    paragraph: str

    @property
    def unit_count(self) -> int:
        return len(self.units)


@dataclass
class PlanItem:
    heading: str  # (一) …
    paragraph: str
    items: list[str] = field(default_factory=list)  # 1. 2. …

    @property
    def title(self) -> str:
        """The heading as a heading line (Word's Heading 2, the PDF's h3): without its full stop."""
        return self.heading.rstrip("。")


@dataclass
class AnnualSummary:
    title: str
    issuer: str
    date_label: str
    year: int
    intro: str
    sections: list[SectionAccount]
    totals: dict[str, Decimal]  # metric code → year total over the whole plan
    totals_sentence: str
    problems: list[ThemeAccount]
    plans: list[PlanItem]
    # For the 公文 partials of the PDF (templates/compilations/pdf/_head.html, _banji.html): the title in the
    # pieces a line may break between, and the campaign whose 印发机关 and 抄送 the 版记 names.
    campaign: Campaign | None = None
    title_lines: list[str] = field(default_factory=list)

    @property
    def numbered_problems(self) -> list[tuple[str, ThemeAccount]]:
        """二、's themes with their (一) (二) numerals, as every format numbers them."""
        return [(cn_numeral(i), t) for i, t in enumerate(self.problems, start=1)]

    def text(self) -> str:
        """The whole document as plain text, numbered as printed (for tests and quick looks)."""
        lines = [self.title, self.intro, "一、工作开展情况"]
        for s in self.sections:
            lines += [f"（{s.numeral}）{s.title}", s.summary]
            lines += [f"{i}.{h}" for i, h in enumerate(s.highlights, start=1)]
        lines.append("二、存在的困难和问题")
        if not self.problems:
            lines.append(NO_PROBLEMS)
        lines += [f"（{n}）{t.theme.problem_heading}。{t.paragraph}" for n, t in self.numbered_problems]
        lines.append("三、下一步工作计划")
        if not self.plans:
            lines.append(NO_PLANS)
        for plan in self.plans:
            lines += [f"{plan.heading}{plan.paragraph}"]
            lines += [f"{i}.{item}" for i, item in enumerate(plan.items, start=1)]
        lines += [self.issuer, self.date_label]
        return "\n".join(lines)


def figures_phrase(totals: list[tuple[Metric, Decimal]]) -> str:
    """ "印发宣传资料77万余份、开展宣讲3200余场次" from (metric, total) pairs; zeros left out."""
    parts = []
    for metric, total in totals:
        if not total:
            continue
        number = official_number(total, metric.unit_of_measure)
        template = METRIC_PHRASES.get(metric.code)
        if template:
            parts.append(template.replace("{}" + metric.unit_of_measure, "{}").format(number))
        else:
            parts.append(f"{metric.name}{number}")
    return "、".join(parts)


def _add_up(metric: Metric, rows) -> Decimal:
    """Σ over units × tasks of ``Metric.add_up`` over their quarters. ``rows``: (unit, task, quarter, value)."""
    quarters: dict[tuple[int, int], list[tuple[int, Decimal]]] = defaultdict(list)
    for unit_id, task_id, quarter, value in rows:
        quarters[(unit_id, task_id)].append((quarter, value))
    return sum((metric.add_up(q) for q in quarters.values()), Decimal(0))


def _site_totals(campaign, as_of, metrics) -> dict[int | None, dict[int, Decimal]]:
    """The 示范点 metrics' figures from the register as of ``as_of``, per section (None: the whole plan):
    ``demo_sites`` counts the named sites serving the section's tasks (the whole plan: every named site);
    the 省级 / 市级 tiers count the city's named sites at that level, shown in the sections whose targets
    use them. 3 queries, and none when no metric is a 示范点 one."""
    site_metrics = [m for m in metrics if m.is_counted_from_register]
    if not site_metrics:
        return {}
    tally = dashboard_selectors.SiteTally(as_of)
    section_of = dict(Task.objects.filter(campaign=campaign).values_list("pk", "section_id"))
    target_sections: dict[str, set[int]] = defaultdict(set)
    for code, section_id in Target.objects.filter(
        task__campaign=campaign, metric__code__in=[m.code for m in site_metrics]
    ).values_list("metric__code", "task__section_id"):
        target_sections[code].add(section_id)
    out: dict[int | None, dict[int, Decimal]] = defaultdict(dict)
    for metric in site_metrics:
        out[None][metric.pk] = tally.count(metric.code, None, everyone=True, any_task=True)
        if metric.code in dashboard_selectors.SITE_PER_TASK:
            for task_id, n in tally.per_task(metric.code).items():
                section_id = section_of.get(task_id)
                if section_id is not None:
                    out[section_id][metric.pk] = out[section_id].get(metric.pk, Decimal(0)) + n
        else:
            for section_id in target_sections.get(metric.code, ()):
                out[section_id][metric.pk] = out[None][metric.pk]
    return out


def annual_summary(scope: Scope) -> AnnualSummary:
    """Everything the annual summary says, for the year of ``scope`` (a fixed number of queries)."""
    campaign, year = scope.campaign, scope.year
    period_ids = [p.pk for p in scope.periods]
    quarter_key = {p.pk: (p.year, p.quarter) for p in scope.periods}
    quarter_label = {p.pk: _quarter_label(p) for p in scope.periods}
    metrics = {m.pk: m for m in Metric.objects.order_by("order", "id")}
    sections = list(Section.objects.filter(campaign=campaign).order_by("order"))

    approved = ProgressReport.objects.filter(
        period_id__in=period_ids, state=ProgressReport.State.APPROVED, unit__is_active=True
    )
    # (metric, section, unit, task, quarter, value, report) for every approved value of the year
    site_metric_ids = {pk for pk, m in metrics.items() if m.is_counted_from_register}
    values = [
        (m, s, u, t, quarter_key[p], v, r)
        for m, s, u, t, p, v, r in MetricValue.objects.filter(report__in=approved)
        .exclude(metric_id__in=site_metric_ids)
        .values_list(
            "metric_id",
            "report__task__section_id",
            "report__unit_id",
            "report__task_id",
            "report__period_id",
            "value",
            "report_id",
        )
        if v is not None
    ]
    reports = {
        r.pk: r
        for r in approved.select_related("unit", "task", "period").order_by(
            "period__year", "period__quarter", "unit__order", "task__number"
        )
    }
    reported = list(
        ProgressReport.objects.filter(period_id__in=period_ids, unit__is_active=True)
        .reported()
        .select_related("unit", "period")
        .order_by("unit__order", "unit_id", "period__year", "period__quarter", "task__number")
        .only("unit__name", "unit__order", "period__year", "period__quarter", "problems", "next_steps")
    )
    reported_by_section = Counter(
        ProgressReport.objects.filter(period_id__in=period_ids, unit__is_active=True)
        .reported()
        .values_list("task__section_id", flat=True)
    )

    sites = _site_totals(campaign, scope.as_of, metrics.values())

    def totals_for(section_id: int | None) -> list[tuple[Metric, Decimal]]:
        rows: dict[int, list] = defaultdict(list)
        for m, s, u, t, q, v, _ in values:
            if section_id is None or s == section_id:
                rows[m].append((u, t, q, v))
        from_sites = sites.get(section_id, {})
        return [
            (metric, from_sites[pk] if pk in from_sites else _add_up(metric, rows[pk]))
            for pk, metric in metrics.items()
            if rows.get(pk) or from_sites.get(pk)
        ]

    accounts = []
    for index, section in enumerate(sections, start=1):
        totals = totals_for(section.pk)
        accounts.append(
            SectionAccount(
                numeral=cn_numeral(index),
                title=nest_quotes(section.short_title or section.title),
                summary=_section_summary(section, reported_by_section.get(section.pk, 0), totals),
                highlights=_highlights(section.pk, values, reports, totals, quarter_label),
                totals={m.code: t for m, t in totals},
            )
        )

    all_totals = totals_for(None)
    common = [(m, t) for m, t in all_totals if m.is_common]  # the dashboards' 主要指标
    _, overall = dashboard_selectors.add_up_completeness(scope.completeness)
    unit_count = len({r.unit_id for r in reported})
    intro = (
        f"{year}年，{campaign.city}坚持以铸牢中华民族共同体意识为主线，深入贯彻落实党的民族工作方针政策，"
        f"对照《{campaign.city}创建全国民族团结进步示范市实施方案》，扎实推进各项创建任务。"
        f"全年{official_number(unit_count, '个')}责任单位报送季度进展报告"
        f"{official_number(overall.reported, '份')}"
        + (f"，报送率{overall.reported * 100 / overall.expected:.1f}%" if overall.expected else "")
        + (f"，全年累计{figures_phrase(common)}" if common else "")
        + "，各项工作取得新成效（文中数据据审核通过的季度进展报告汇总）。现将有关情况总结如下。"
    )
    return AnnualSummary(
        title=f"{campaign.city}{year}年创建全国民族团结进步示范市工作总结",
        issuer=campaign.issuer_name,
        date_label=cn_date(scope.today),
        year=year,
        intro=intro,
        sections=accounts,
        totals={m.code: t for m, t in all_totals},
        totals_sentence=figures_phrase(all_totals),
        problems=_themes(reported, "problems", quarter_label),
        plans=_plans(scope, reported, quarter_label),
        campaign=campaign,
        title_lines=title_lines(scope),
    )


def _section_summary(section: Section, report_count: int, totals) -> str:
    title = nest_quotes(section.short_title or section.title)
    if not report_count:
        return f"全年各责任单位围绕{title}开展工作，暂无报送的进展报告。"
    text = f"全年各责任单位围绕{title}报送进展报告{official_number(report_count, '份')}"
    phrase = figures_phrase(totals)
    if phrase:
        text += f"，共{phrase}"
    return text + "。"


def _highlights(section_id, values, reports, totals, quarter_label) -> list[str]:
    """Two or three approved reports of the section with the largest figures (each value as a share of the
    section's total for its metric, so 宣传资料 and 场次 weigh alike), one per unit, distinct sentences."""
    section_total = {m.pk: t for m, t in totals}
    score: dict[int, float] = defaultdict(float)
    for m, s, _, _, _, v, r in values:
        if s == section_id and section_total.get(m):
            score[r] += float(v / section_total[m])
    for report in reports.values():  # approved reports without figures can still be highlights
        if report.task.section_id == section_id:
            score.setdefault(report.pk, 0.0)
    report_figures: dict[int, list[tuple[Metric, Decimal]]] = defaultdict(list)
    metric_of = {m.pk: m for m, _ in totals}
    for m, s, _, _, _, v, r in values:
        if s == section_id and m in metric_of:
            report_figures[r].append((metric_of[m], v))
    for figures in report_figures.values():
        figures.sort(key=lambda mv: (mv[0].order, mv[0].pk))
    chosen, units, seen = [], set(), set()
    for report_id in sorted(score, key=lambda r: (-score[r], r)):
        report = reports[report_id]
        found = sentences(report.progress)
        if report.unit_id in units or not found:
            continue
        sentence = third_person(found[0], report.unit.name, quarter_label.get(report.period_id, ""))
        if sentence in seen:
            continue
        seen.add(sentence)
        units.add(report.unit_id)
        own = figures_phrase(report_figures.get(report.pk, []))
        chosen.append(_unit_prefixed(report.unit.name, sentence) + (f"，{own}" if own else "") + "。")
        if len(chosen) == HIGHLIGHTS_PER_SECTION:
            break
    return chosen


def _themes(reports, attr: str, quarter_label) -> list[ThemeAccount]:
    """The sentences of ``attr`` (problems / next_steps) grouped by theme: units per theme, the most often
    raised sentences as examples, largest themes first."""
    units: dict[str, dict[str, None]] = defaultdict(dict)
    said: dict[str, Counter] = defaultdict(Counter)
    counted: set[tuple[str, str]] = set()  # (unit, sentence): a unit's repeated sentence counts once
    by_key = {t.key: t for t in (*THEMES, OTHER)}
    for report in reports:
        for sentence in sentences(getattr(report, attr)):
            sentence = third_person(sentence, report.unit.name, quarter_label.get(report.period_id, ""))
            sentence = OPENERS.sub("", sentence).strip("，, ")
            if len(sentence) < 4:
                continue
            theme = theme_of(sentence)
            units[theme.key][report.unit.name] = None
            if (report.unit.name, sentence) not in counted:
                counted.add((report.unit.name, sentence))
                said[theme.key][sentence] += 1
    out = []
    for key, names in units.items():
        theme = by_key[key]
        examples = [s for s, _ in said[key].most_common(EXAMPLES_PER_THEME)]
        names = list(names)
        out.append(ThemeAccount(theme, names, examples, _theme_paragraph(names, examples, attr)))
    out.sort(
        key=lambda t: (t.theme is OTHER, -t.unit_count, THEMES.index(t.theme) if t.theme in THEMES else 99)
    )
    return out


def _theme_paragraph(names: list[str], examples: list[str], attr: str) -> str:
    named = "、".join(names[:UNITS_NAMED_PER_THEME])
    more = "等" if len(names) > UNITS_NAMED_PER_THEME else ""
    count = official_number(len(names), "个")
    if attr == "problems":
        lead = f"{named}{more}{count}单位反映了此类问题，主要表现在：" if len(names) > 1 else f"{named}反映："
    else:
        lead = f"{named}{more}{count}单位提出：" if len(names) > 1 else f"{named}提出："
    return lead + "；".join(examples) + "。"


def _plans(scope: Scope, reported, quarter_label) -> list[PlanItem]:
    plans = []
    rows = dashboard_selectors.target_progress(scope.campaign, as_of=scope.as_of)
    short = [g for g in dashboard_selectors.group_target_rows([r for r in rows if r.light != GREEN])]
    if short:
        items = []
        for group in sorted(short, key=lambda g: (g.target.task.number, g.target.pk)):
            target = group.target
            behind = [r for r in group.rows if r.light != GREEN]
            who = "、".join(r.unit_name for r in behind[:UNITS_NAMED_PER_THEME])
            if len(behind) > UNITS_NAMED_PER_THEME:
                who += f"等{official_number(len(behind), '个')}单位"
            elif len(behind) > 1:
                who += f"{official_number(len(behind), '个')}单位"
            promised = official_number(target.value, target.metric.unit_of_measure)
            done = official_number(
                sum((r.reported for r in behind), Decimal(0)), target.metric.unit_of_measure
            )
            items.append(
                f"{nest_quotes(target.task.title)}（任务{target.task.number}）：{target.scope_label}"
                f"{target.metric.name}{target.get_comparison_display()}{promised}（{target.period_display}），"
                f"{who}尚未达到进度要求（合计完成{done}），目标总体完成率{group.completion * 100:.0f}%，需加快推进。"
            )
        plans.append(
            PlanItem(
                "（一）紧盯量化目标补齐短板。",
                f"截至{cn_date(scope.as_of)}，全市尚有{official_number(len(short), '项')}量化目标未达到进度要求，"
                "将逐项明确责任单位和完成时限，按季度调度推进。",
                items,
            )
        )
    year_end = scope.periods[-1].ends_on if scope.periods else scope.as_of
    upcoming = list(
        Phase.objects.filter(campaign=scope.campaign, ends_on__gt=year_end).order_by("order", "starts_on")
    )
    if upcoming:
        items = [
            f"{p.name}（{'至' if p.starts_on <= year_end else cn_date(p.starts_on) + '至'}{cn_date(p.ends_on)}）："
            + (
                nest_quotes(cn_commas(re.sub(r"\s+", "", p.description))).rstrip("。") + "。"
                if p.description
                else "按实施方案推进。"
            )
            for p in upcoming
        ]
        plans.append(
            PlanItem(
                f"（{cn_numeral(len(plans) + 1)}）按照实施方案推进下一阶段工作。",
                f"{scope.year + 1 if scope.year else ''}年，创建工作将按实施方案确定的阶段有序推进。",
                items,
            )
        )
    themes = _themes(reported, "next_steps", quarter_label)
    if themes:
        plans.append(
            PlanItem(
                f"（{cn_numeral(len(plans) + 1)}）落实各责任单位工作安排。",
                "各责任单位结合年度工作实际，提出了下一步工作打算，主要包括以下方面。",
                [f"{t.theme.plan_heading}。{t.paragraph}" for t in themes],
            )
        )
    return plans
