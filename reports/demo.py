"""Demo reports for a fresh install: every quarter up to today filled the way a real office sees it.

A real office's quarter looks like this: most units hand in during the last days before the due date, a
few "weak" units are late again and again or leave tasks out, the office approves a few days after
submission and returns a few reports, which the unit fixes and resubmits. The open quarter has only just
begun: some drafts, a few early submissions. Every step is dated, in order, and before "now".

Figures are on the scale of the plan's targets (``Target`` rows): a unit holds the one or two study
sessions a year the plan asks for, a county opens a demonstration site (示范点) in a few quarters only,
and the city's 7 provincial and 20 city-level 互嵌式 sites are spread over the plan period.

The phrases are drawn from the example summaries in ``fixtures/source/example-summary-*.txt``. Everything
is deterministic (seeded by natural keys: year, quarter, unit code, task number) and idempotent: a
(period, unit, task) that already has a report is left alone, so running ``setup_demo`` again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from campaign.dates import quarter_of
from campaign.models import Campaign, ReportingPeriod
from campaign.services import period_last_open_day
from tasks.models import Metric, Responsibility, Target
from units.models import CampaignRole, Membership, Unit

from .models import MetricValue, ProgressReport, ReportEvent

S = ProgressReport.State
Action = ReportEvent.Action

# Openings of the 工作进展 text; {task} is the task's title, {figures} the reported figures.
PROGRESS_OPENINGS = [
    "本季度，我单位围绕“{task}”任务，坚持以铸牢中华民族共同体意识为主线，将任务纳入年度重点工作统筹推进。",
    "按照创建工作实施方案分工，我单位认真落实“{task}”任务，召开专题会议研究部署，明确责任领导和具体责任人。",
    "对照“{task}”任务要求，我单位细化工作措施，建立工作台账，做到任务清单化、责任具体化。",
    "本季度紧紧围绕“{task}”，结合单位职能，推动各项工作落地见效。",
]
PROGRESS_DETAILS = [
    "围绕庆祝中华人民共和国成立75周年，采取知识竞赛、文艺晚会等群众喜闻乐见的形式，组织开展民族团结进步宣传教育活动。",
    "推动民族团结进步教育进机关、进企业、进社区、进乡镇、进学校、进宗教活动场所，引导各族干部群众树立正确的国家观、历史观、民族观、文化观、宗教观。",
    "深化《甘肃省促进民族团结进步条例》学习宣传和贯彻执行，将其纳入党委（党组）理论学习中心组学习内容。",
    "以“民族团结一家亲”和民族团结联谊活动为载体，组织干部职工与各族群众结对认亲，增进各民族交往交流交融。",
    "指导社区完善少数民族服务管理工作平台和网络，打造少数民族便民服务、心灵驿站等特色服务窗口。",
    "充分利用报纸、电视、广播等主流媒体以及政务新媒体，全方位宣传创建工作成效，营造浓厚创建氛围。",
    "成立宣讲团分批分类开展宣讲培训，有针对性地开展党的民族理论政策教育培训。",
    "扎实做好民族团结进步示范单位申报创建工作，积极构建各民族相互嵌入式的社会结构和社区环境。",
]
PROBLEMS = [
    "一是宣传教育的形式还不够丰富，覆盖面有待进一步扩大；二是部门之间协调配合还需加强。",
    "创建工作经费保障不足，基层示范点建设推进较慢。",
    "部分干部职工对创建工作重要性认识不足，参与的主动性有待提高。",
    "佐证资料收集整理不够及时，台账还需进一步规范。",
    "示范点培育标准不够明确，特色亮点不够突出。",
    "",
]
NEXT_STEPS = [
    "下一步，将持续深化宣传教育，推动民族团结进步创建工作向纵深发展。",
    "下一步，将进一步加强与牵头单位的沟通对接，补齐短板弱项，确保按期完成目标任务。",
    "下一步，将充分利用市民讲堂，面向社会大众普及民族政策理论和民族团结进步知识。",
    "下一步，将深入挖掘和宣传民族团结的先进典型事迹，扎实开展“八进”活动。",
    "下一步，将规范资料收集归档，完善工作台账，及时报送工作进展。",
]
RETURN_REASONS = [
    "工作进展过于笼统，请补充具体活动的时间、地点和参与人数。",
    "请补充活动照片等佐证材料。",
    "填报的宣传资料数量与附件不一致，请核实后重新报送。",
    "请对照任务要求说明量化目标的完成情况。",
]
RESUBMIT_COMMENT = "修改后重新报送"  # what report_submit writes when a returned report comes back

# One report's common publicity figures for a quarter, for a county-level unit (a department reports
# about half): a few hundred leaflets, a handful of boards, one to three lectures. With ~360 reports a
# quarter, of which under half carry such figures, the city's year comes to roughly 10万份 of materials,
# about a thousand boards and lectures, and a few 万人次: the scale of the example summaries.
# (generate_scale_data draws from these ranges too.)
COMMON_RANGES = {
    "materials": (50, 600),
    "boards": (2, 12),
    "slogans": (3, 30),
    "lectures": (1, 3),
    "participants": (40, 500),
    "funding": (1, 20),
}
PUBLICITY_SHARE = {Responsibility.Role.LEAD: 0.6, Responsibility.Role.CO: 0.35}
FUNDING_SHARE = 0.12  # most reports carry no money; county-level units sometimes spend on a site or event

DEMO_SITES = "demo_sites"
# The plan's headline: each county-level unit builds at least 5 示范点 by the end of 2025 ("各县(市、区)示范点
# 不少于5个"), which is one or two a year. The per-category numbers of the 八进 targets only weigh where a
# county's sites go; the city's own departments build a handful between them.
SITES_PER_COUNTY = (5, 8)
SITES_CITY = (6, 9)
SITES_OTHER = (1, 2)  # a county-level unit the plan names no number for (the park)
SITE_AFTER_PLAN_SHARE = 0.35  # after the plan period a county opens one more site in about a third of years
# How much of a city-wide by-date target (7 provincial, 20 city-level 互嵌式 sites) is reached.
BY_DATE_ACHIEVEMENT = (0.95, 1.15)
# Per-year and per-semester targets ("每年不少于2次"): units do a bit more than the minimum on average.
PACE_ABOVE_MINIMUM = 1.3


@dataclass(frozen=True)
class Habits:
    """How a unit reports. Most units are reliable; a few weak ones account for most of the late and
    missing reports, as in any office's ledger."""

    late_quarters: float  # share of quarters in which the unit hands in after the due date
    max_days_late: int
    skip: float  # share of its tasks the unit never reports in a quarter
    quarter_missed: float  # share of quarters the unit reports nothing at all
    abandoned: float  # share of reports started and never submitted
    returned: float  # share of submissions the office returns
    fixes: float  # share of returned reports the unit fixes and resubmits before the period closes
    sites: tuple[int, int]  # 示范点 a county-level unit opens over the plan period
    behind: int  # weight of "滞后" among progress statuses


RELIABLE = Habits(0.06, 5, 0.01, 0.0, 0.01, 0.05, 0.9, SITES_PER_COUNTY, 6)
WEAK = Habits(0.45, 15, 0.10, 0.12, 0.05, 0.15, 0.6, (3, 5), 25)
WEAK_COUNTY_LEVEL = 1
WEAK_DEPARTMENTS = 3
EARLY_BIRDS = 0.06  # units that hand in before the quarter is over
ON_TIME_DAYS_BEFORE_DUE = (0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7, 9)  # most hand in during the last days


def progress_text(rng: random.Random, task_title: str, figures: str = "") -> str:
    parts = [rng.choice(PROGRESS_OPENINGS).format(task=task_title)]
    parts += rng.sample(PROGRESS_DETAILS, 2)
    if figures:
        parts.append(f"本季度共{figures}。")
    return "".join(parts)


def figures_text(picks) -> str:
    return "，".join(
        f"{metric.name}{value.normalize():f}{metric.unit_of_measure}" for metric, value in picks if value
    )


# ---------------------------------------------------------------------------------------------- calendar


def _workday(day: dt.date, step: int) -> dt.date:
    """The day itself, or the nearest weekday in the direction of ``step`` (offices are shut at weekends)."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=step)
    return day


def _office_time(rng: random.Random, day: dt.date) -> dt.datetime:
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 45)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))


def _next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _quarters(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    while first <= last:
        out.append(first)
        first = _next_quarter(*first)
    return out


@dataclass(frozen=True)
class UnitQuarter:
    """When a unit works on one quarter's reports: a liaison writes and hands them in together."""

    missed: bool
    start: dt.date  # first draft
    submit: dt.date  # most reports handed in


def unit_quarter(period: ReportingPeriod, unit: Unit, habits: Habits) -> UnitQuarter:
    rng = random.Random(f"demo:{period.year}Q{period.quarter}:{unit.code}")
    missed = rng.random() < habits.quarter_missed
    if rng.random() < habits.late_quarters:
        late = period.due_on + dt.timedelta(days=rng.randint(1, habits.max_days_late))
        submit = min(_workday(late, +1), period_last_open_day(period))
    elif rng.random() < EARLY_BIRDS:
        submit = _workday(period.ends_on - dt.timedelta(days=rng.randint(3, 40)), -1)
    else:
        submit = _workday(period.due_on - dt.timedelta(days=rng.choice(ON_TIME_DAYS_BEFORE_DUE)), -1)
    start = max(period.starts_on + dt.timedelta(days=30), submit - dt.timedelta(days=rng.randint(5, 50)))
    return UnitQuarter(missed=missed, start=min(start, submit), submit=submit)


@dataclass
class Step:
    action: str
    by_office: bool
    at: dt.datetime
    to_state: str
    comment: str = ""


class History:
    """A report's steps, each strictly after the previous one and none after ``as_of``."""

    def __init__(self, rng: random.Random, as_of: dt.datetime):
        self.rng, self.as_of, self.steps = rng, as_of, []

    def add(self, action: str, at: dt.datetime, to_state: str, *, office: bool = False, comment: str = ""):
        if self.steps and at <= self.steps[-1].at:
            at = self.steps[-1].at + dt.timedelta(minutes=self.rng.randint(3, 40))
        if at > self.as_of:
            return False
        self.steps.append(Step(action, office, at, to_state, comment))
        return True

    def fits(self, *times: dt.datetime) -> bool:
        return all(t <= self.as_of for t in times)


def report_history(
    rng: random.Random, *, period: ReportingPeriod, habits: Habits, uq: UnitQuarter, as_of: dt.datetime
) -> list[Step]:
    """The steps one report has gone through by ``as_of`` (empty: not started, or never written)."""
    history = History(rng, as_of)
    if uq.missed or rng.random() < habits.skip:
        return []
    span = (uq.submit - uq.start).days
    created = uq.start + dt.timedelta(days=rng.randint(0, span // 2))
    if not history.add(Action.CREATED, _office_time(rng, created), S.DRAFT):
        return []
    late = uq.submit > period.due_on
    if late:
        submit_day = min(
            _workday(uq.submit + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2))), +1),
            period_last_open_day(period),
        )
    else:
        submit_day = max(created, _workday(uq.submit - dt.timedelta(days=rng.choice((0, 0, 0, 1, 2))), -1))
    for day in sorted(
        created + dt.timedelta(days=rng.randint(0, (submit_day - created).days))
        for _ in range(rng.choice((0, 1, 1, 2)))
    ):
        if not history.add(Action.SAVED, _office_time(rng, day), S.DRAFT):
            return history.steps
    if rng.random() < habits.abandoned:
        return history.steps
    if not history.add(Action.SUBMITTED, _office_time(rng, submit_day), S.SUBMITTED):
        return history.steps
    review_day = _workday(submit_day + dt.timedelta(days=rng.randint(1, 5)), +1)
    if rng.random() >= habits.returned:
        history.add(Action.APPROVED, _office_time(rng, review_day), S.APPROVED, office=True)
        return history.steps
    reason = rng.choice(RETURN_REASONS)
    if not history.add(
        Action.RETURNED, _office_time(rng, review_day), S.RETURNED, office=True, comment=reason
    ):
        return history.steps
    if rng.random() >= habits.fixes:
        return history.steps  # never fixed: a red cell the office chases
    fix_day = _workday(review_day + dt.timedelta(days=rng.randint(1, 4)), +1)
    if fix_day > period_last_open_day(period):
        return history.steps  # the period closed before the unit got to it
    fixed, resubmitted = _office_time(rng, fix_day), _office_time(rng, fix_day)
    fixed, resubmitted = min(fixed, resubmitted), max(fixed, resubmitted)
    approved = _office_time(rng, _workday(fix_day + dt.timedelta(days=rng.randint(1, 4)), +1))
    # A resubmission waiting for review would leave reviewed_at (the return) before submitted_at: the
    # demo only shows a fix once its review is done too, and before that the report is simply returned.
    if history.fits(approved + dt.timedelta(hours=2)):
        history.add(Action.SAVED, fixed, S.RETURNED)
        history.add(Action.SUBMITTED, resubmitted, S.SUBMITTED, comment=RESUBMIT_COMMENT)
        history.add(Action.APPROVED, approved, S.APPROVED, office=True)
    return history.steps


# ----------------------------------------------------------------------------------------------- figures


def _poisson(rng: random.Random, mean: float) -> int:
    """A count of events with the given mean (Knuth's method: means here are small)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _pick_weighted(rng: random.Random, items: list, weights: list[float]):
    return rng.choices(items, weights=weights)[0]


class SitePlan:
    """Which report carries which new sites: (year, quarter, unit id, task id, metric id) → count.

    Drawn once per owner over the whole plan period from seeds that do not depend on today, so a quarter's
    share never changes when setup_demo runs again later.
    """

    def __init__(self, *, campaign: Campaign, units: dict[int, Unit], habits: dict[int, Habits]):
        self.counts: dict[tuple[int, int, int, int, int], int] = defaultdict(int)
        self.units, self.habits = units, habits
        first = campaign.periods.order_by("year", "quarter").first()
        start = (first.year, first.quarter) if first else quarter_of(campaign.starts_on)
        self.plan_quarters = _quarters(start, quarter_of(campaign.ends_on))
        self.end_year = campaign.ends_on.year

    def _spread(
        self,
        rng: random.Random,
        slots: list[tuple[int, int, float]],
        metric_id: int,
        total: int,
        *,
        distinct: bool,
    ):
        """``total`` sites over the plan's quarters (the first, 宣传动员, weighs less), each on a slot
        (unit id, task id, weight). ``distinct``: at most one per quarter while quarters last."""
        if not slots or total <= 0:
            return
        quarters = list(self.plan_quarters)
        weights = [0.3 if i == 0 else 1.0 for i in range(len(quarters))]
        for n in range(total):
            i = quarters.index(_pick_weighted(rng, quarters, weights))
            year, quarter = quarters[i]
            if distinct and n < len(self.plan_quarters) - 1:
                del quarters[i], weights[i]
            unit_id, task_id, _ = _pick_weighted(rng, slots, [w for *_, w in slots])
            self.counts[(year, quarter, unit_id, task_id, metric_id)] += 1

    def add_demo_sites(self, targets: list[Target], responsibilities: list[Responsibility], metric: Metric):
        """示范点 of the 八进 tasks: each county-level unit about 5 over the plan period, placed in the
        categories the plan gives it most to do; the city's departments a handful between them."""
        task_ids = sorted({t.task_id for t in targets})
        weights: dict[int, dict[int, float]] = defaultdict(dict)  # owner unit id → task id → weight
        city_slots: list[tuple[int, int, float]] = []
        lead = {r.task_id: r.unit_id for r in responsibilities if r.role == Responsibility.Role.LEAD}
        for target in targets:
            value = float(target.value)
            named = [u.pk for u in target.units.all()]
            if target.scope == Target.Scope.EACH_UNIT:
                for unit_id in named:
                    weights[unit_id][target.task_id] = value  # the county's own number wins
            if target.scope in (Target.Scope.CITY, Target.Scope.CITY_DISTRICT):
                share = value / 2 if target.scope == Target.Scope.CITY_DISTRICT else value
                if target.task_id in lead and not self.units[lead[target.task_id]].is_county_level:
                    city_slots.append((lead[target.task_id], target.task_id, share))
                for unit_id in named if target.scope == Target.Scope.CITY_DISTRICT else ():
                    weights[unit_id].setdefault(target.task_id, share)
        for r in responsibilities:  # a county-level unit the plan gives no number still opens one or two
            if r.task_id in task_ids and self.units[r.unit_id].is_county_level and r.unit_id not in weights:
                weights.setdefault(-r.unit_id, {})[r.task_id] = 1.0
        carried = {(r.unit_id, r.task_id) for r in responsibilities}
        city_slots = [s for s in city_slots if s[:2] in carried]
        for owner, by_task in sorted(weights.items()):
            unit = self.units.get(abs(owner))
            if unit is None:
                continue
            rng = random.Random(f"demo:sites:{unit.code}")
            low, high = self.habits[unit.pk].sites if owner > 0 else SITES_OTHER
            slots = [(unit.pk, t, w) for t, w in sorted(by_task.items()) if (unit.pk, t) in carried]
            if not slots:
                continue
            self._spread(rng, slots, metric.pk, rng.randint(low, high), distinct=True)
            # After the plan period the work goes on at a slower pace, year by year.
            for year in range(self.end_year + 1, self.end_year + 10):
                yrng = random.Random(f"demo:sites:{unit.code}:{year}")
                if owner > 0 and yrng.random() < SITE_AFTER_PLAN_SHARE:
                    unit_id, task_id, _ = _pick_weighted(yrng, slots, [w for *_, w in slots])
                    self.counts[(year, yrng.randint(1, 4), unit_id, task_id, metric.pk)] += 1
        rng = random.Random("demo:sites:city")
        self._spread(rng, city_slots, metric.pk, rng.randint(*SITES_CITY), distinct=False)

    def add_by_date(self, target: Target, responsibilities: list[Responsibility]):
        """Another by-date number (7 provincial, 20 city-level 互嵌式 sites): about what the plan asks,
        mostly built by the county-level units that share the task."""
        rng = random.Random(f"demo:by-date:{target.task.number}:{target.metric.code}:{target.order}")
        named = {u.pk for u in target.units.all()}
        slots = [
            (
                r.unit_id,
                r.task_id,
                (3.0 if self.units[r.unit_id].is_county_level else 2.0 if r.role == "lead" else 0.5)
                * (0.3 if self.habits[r.unit_id] is WEAK else 1.0),
            )
            for r in responsibilities
            if r.task_id == target.task_id and r.unit_id in self.units and (not named or r.unit_id in named)
        ]
        total = round(float(target.value) * rng.uniform(*BY_DATE_ACHIEVEMENT))
        self._spread(rng, slots, target.metric_id, total, distinct=False)

    def count(self, period: ReportingPeriod, unit_id: int, task_id: int, metric_id: int) -> int:
        return self.counts.get((period.year, period.quarter, unit_id, task_id, metric_id), 0)


def report_figures(
    rng: random.Random,
    *,
    period: ReportingPeriod,
    resp: Responsibility,
    unit: Unit,
    paced: list[Target],
    by_date_metrics: list[Metric],
    sites: SitePlan,
    common: dict[str, Metric],
) -> list[tuple[Metric, Decimal]]:
    """The figures one report carries: its task's own target metrics, then perhaps some publicity."""
    picks: dict[int, tuple[Metric, Decimal]] = {}
    for target in paced:  # "每年不少于2次": a quarter's share of that, a little above the minimum
        per_year = float(target.value) * (2 if target.period_kind == Target.PeriodKind.PER_SEMESTER else 1)
        value = _poisson(rng, per_year / 4 * PACE_ABOVE_MINIMUM)
        if target.metric_id not in picks and (value or rng.random() < 0.5):
            picks[target.metric_id] = (target.metric, Decimal(value))
    for metric in by_date_metrics:
        count = sites.count(period, resp.unit_id, resp.task_id, metric.pk)
        # Counties write 0 in most quarters; a department leaves the box empty unless it has something.
        if count or (unit.is_county_level and rng.random() < 0.4):
            picks[metric.pk] = (metric, Decimal(count))
    scale = 1.0 if unit.is_county_level else 0.5
    if rng.random() < PUBLICITY_SHARE.get(resp.role, 0.35):
        codes = [c for c in COMMON_RANGES if c != "funding" and c in common]
        for code in rng.sample(codes, min(len(codes), rng.choice((1, 2, 2, 3)))):
            metric = common[code]
            if metric.pk not in picks and metric.aggregation == Metric.Aggregation.SUM:
                low, high = COMMON_RANGES[code]
                picks[metric.pk] = (metric, Decimal(max(low, round(rng.randint(low, high) * scale))))
    if unit.is_county_level and "funding" in common and rng.random() < FUNDING_SHARE:
        picks.setdefault(
            common["funding"].pk, (common["funding"], Decimal(rng.randint(*COMMON_RANGES["funding"])))
        )
    return list(picks.values())


# ------------------------------------------------------------------------------------------------ units


def weak_units(units: list[Unit], leads: set[int]) -> set[int]:
    """A few units that are late and incomplete again and again: one county-level unit and three
    departments that lead no task (the campaign is on the edge of their work)."""
    rng = random.Random("demo:weak-units")
    ordered = sorted(units, key=lambda u: (u.order, u.code))
    counties = [u.pk for u in ordered if u.is_county_level]
    others = [u.pk for u in ordered if not u.is_county_level and u.pk not in leads]
    return {
        *rng.sample(counties, min(WEAK_COUNTY_LEVEL, len(counties))),
        *rng.sample(others, min(WEAK_DEPARTMENTS, len(others))),
    }


def demo_as_of(today: dt.date | None = None) -> dt.datetime:
    """The moment the demo's history stops: the start of ``today``, so every step lies in the past and
    running setup_demo again the same day adds nothing."""
    today = today or timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today, dt.time.min))


# ----------------------------------------------------------------------------------------------- filling


def populate_demo_reports(
    *, campaign: Campaign, today: dt.date | None = None, as_of: dt.datetime | None = None, stdout=None
) -> int:
    """Fill every started period with demo reports as they stand at ``as_of`` (default: the start of
    ``today``); returns how many were added."""
    today = today or timezone.localdate()
    as_of = min(as_of or demo_as_of(today), timezone.now())  # a --today ahead of the clock adds no future
    periods = list(
        ReportingPeriod.objects.filter(campaign=campaign, starts_on__lte=today)
        .exclude(state=ReportingPeriod.State.UPCOMING)
        .order_by("year", "quarter")
    )
    if not periods:
        return 0
    responsibilities = list(
        Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True)
        .exclude(unit__code__startswith="scale-")  # generate_scale_data's units have their own data
        .select_related("task", "unit")
        .order_by("unit__order", "task__number")
    )
    units = {r.unit_id: r.unit for r in responsibilities}
    leads = {r.unit_id for r in responsibilities if r.role == Responsibility.Role.LEAD}
    weak = weak_units(list(units.values()), leads)
    habits = {pk: WEAK if pk in weak else RELIABLE for pk in units}
    existing = set(
        ProgressReport.objects.filter(period__in=periods).values_list("period_id", "unit_id", "task_id")
    )
    common = {m.code: m for m in Metric.objects.filter(is_common=True)}
    targets = list(
        Target.objects.filter(task__campaign=campaign)
        .select_related("task", "metric")
        .prefetch_related("units")
        .order_by("task__number", "order")
    )
    paced: dict[int, list[Target]] = defaultdict(list)
    by_date_metrics: dict[int, list[Metric]] = defaultdict(list)
    sites = SitePlan(campaign=campaign, units=units, habits=habits)
    demo_targets = [
        t for t in targets if t.metric.code == DEMO_SITES and t.period_kind == Target.PeriodKind.BY_DATE
    ]
    if demo_targets:
        sites.add_demo_sites(demo_targets, responsibilities, demo_targets[0].metric)
    for target in targets:
        if target.period_kind == Target.PeriodKind.BY_DATE:
            if target.metric.code != DEMO_SITES:
                sites.add_by_date(target, responsibilities)
            if target.metric not in by_date_metrics[target.task_id]:
                by_date_metrics[target.task_id].append(target.metric)
        elif target.scope == Target.Scope.EACH_RESPONSIBLE:
            paced[target.task_id].append(target)

    liaisons = dict(
        Membership.objects.filter(role=Membership.Role.LIAISON, is_active=True)
        .order_by("-pk")
        .values_list("unit_id", "user_id")
    )
    office_id = (
        CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE)
        .order_by("pk")
        .values_list("user_id", flat=True)
        .first()
    )
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[*liaisons.values(), office_id])}
    office = users.get(office_id)

    plans: list[tuple[ProgressReport, list[tuple[Metric, Decimal]], list[Step]]] = []
    for period in periods:
        schedule = {pk: unit_quarter(period, unit, habits[pk]) for pk, unit in units.items()}
        for resp in responsibilities:
            if (period.pk, resp.unit_id, resp.task_id) in existing:
                continue
            unit, unit_habits = units[resp.unit_id], habits[resp.unit_id]
            rng = random.Random(f"demo:{period.year}Q{period.quarter}:{unit.code}:{resp.task.number}")
            steps = report_history(
                rng, period=period, habits=unit_habits, uq=schedule[resp.unit_id], as_of=as_of
            )
            if not steps:
                continue
            frng = random.Random(
                f"demo:figures:{period.year}Q{period.quarter}:{unit.code}:{resp.task.number}"
            )
            picks = report_figures(
                frng,
                period=period,
                resp=resp,
                unit=unit,
                paced=paced.get(resp.task_id, []),
                by_date_metrics=by_date_metrics.get(resp.task_id, []),
                sites=sites,
                common=common,
            )
            liaison = users.get(liaisons.get(resp.unit_id))
            plans.append(
                (_report(rng, period, resp, unit_habits, steps, picks, liaison, office), picks, steps)
            )

    with transaction.atomic():
        ProgressReport.objects.bulk_create([p[0] for p in plans], batch_size=500)
        # Re-read the ids: not every backend returns them from a bulk insert.
        ids = {
            key[:3]: key[3]
            for key in ProgressReport.objects.filter(period__in=periods).values_list(
                "period_id", "unit_id", "task_id", "pk"
            )
        }
        values, events = [], []
        for report, picks, steps in plans:
            report.pk = ids[(report.period_id, report.unit_id, report.task_id)]
            values += [MetricValue(report_id=report.pk, metric=m, value=v) for m, v in picks]
            previous = ""
            for version, step in enumerate(steps, start=1):
                events.append(
                    ReportEvent(
                        report_id=report.pk,
                        action=step.action,
                        actor=office if step.by_office else report.created_by,
                        at=step.at,
                        comment=step.comment,
                        from_state=previous,
                        to_state=step.to_state,
                        version=version,
                    )
                )
                previous = step.to_state
            report.updated_at = steps[-1].at
        MetricValue.objects.bulk_create(values, batch_size=1000)
        ReportEvent.objects.bulk_create(events, batch_size=1000)
        # updated_at is auto_now, so bulk_create stamped it with the clock: put the last step's time back.
        ProgressReport.objects.bulk_update([p[0] for p in plans], ["updated_at"], batch_size=500)
    if stdout is not None and plans:
        stdout.write(f"已生成演示报告 {len(plans)} 份（含各状态、指标与审核记录）。")
    return len(plans)


def _report(rng, period, resp, habits: Habits, steps: list[Step], picks, liaison, office) -> ProgressReport:
    """The report row as the services would have left it after ``steps``."""
    submitted = [s.at for s in steps if s.action == Action.SUBMITTED]
    reviews = [s for s in steps if s.action in (Action.RETURNED, Action.APPROVED)]
    returns = [s for s in steps if s.action == Action.RETURNED]
    status = rng.choices(
        [
            ProgressReport.ProgressStatus.ON_TRACK,
            ProgressReport.ProgressStatus.DONE,
            ProgressReport.ProgressStatus.BEHIND,
            ProgressReport.ProgressStatus.NOT_STARTED,
        ],
        weights=[70, 15, habits.behind, 3],
    )[0]
    return ProgressReport(
        period=period,
        unit_id=resp.unit_id,
        task=resp.task,
        progress=progress_text(rng, resp.task.title, figures_text(picks)),
        problems=rng.choice(PROBLEMS),
        next_steps=rng.choice(NEXT_STEPS),
        progress_status=status,
        state=steps[-1].to_state,
        version=len(steps),
        return_reason=returns[-1].comment if returns else "",  # kept after a resubmission, as services do
        created_at=steps[0].at,
        created_by=liaison,
        updated_by=liaison,
        first_submitted_at=submitted[0] if submitted else None,
        submitted_at=submitted[-1] if submitted else None,
        submitted_by=liaison if submitted else None,
        reviewed_at=reviews[-1].at if reviews else None,
        reviewed_by=office if reviews else None,
    )
