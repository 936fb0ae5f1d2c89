"""Demo reports for a fresh install: every quarter up to today filled the way a real office sees it.

A real office's quarter looks like this: most units hand in during the last days before the due date, a
few "weak" units are late again and again or leave tasks out, the office approves a few days after
submission and returns a few reports, which the unit fixes and resubmits. The open quarter has only just
begun: some drafts, a few early submissions. Every step is dated, in order, and before "now".

Figures are the plan's targets (``Target`` rows) as a real office sees them met: a unit holds the one or
two study sessions a year the plan asks for, every year; a county opens about the plan's number of
demonstration sites (示范点) per 八进 category by the end of 2025, spread over the campaign's quarters
(few in its first half-year, a few after the plan's end); the city's departments reach its 7 provincial and
20 city-level 互嵌式 sites. The figures sit on reports that end up approved, because the dashboards count
only those, so the target lights are mostly green; the few weak units miss most of the numbers that are
missed, and now and then a reliable unit falls one short (``FigurePlan``).

The phrases are drawn from the example summaries in ``fixtures/source/example-summary-*.txt``. Everything
is deterministic (seeded by natural keys: year, quarter, unit code, task number) and idempotent: a
(period, unit, task) that already has a report is left alone, so running ``setup_demo`` again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import random
from collections import Counter, defaultdict
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

from .models import Evidence, MetricValue, ProgressReport, ReportEvent

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

# Every by-date number of the plan is what the units reach over the plan period: a reliable unit about the
# plan's number, now and then one more, a weak one often falls short. The campaign's first quarter (宣传动员)
# and the next one see little; most comes in 2024–2025. (示范点 are not typed figures: sites/demo.py seeds
# the register.)
FIRST_QUARTERS_WEIGHT = (0.3, 0.6)
# A 市区联合 number (the city's departments together with named counties): the named counties build this
# share of it, the task's departments the rest.
CITY_DISTRICT_COUNTY_SHARE = 0.5
ABOVE_BY_DATE = 0.06  # a reliable unit's extra over a by-date number (Poisson, × the number)
# Per-year and per-semester targets ("每年不少于2次"): units do a bit more than the minimum on average.
PACE_ABOVE_MINIMUM = 1.3
# A unit holds what the plan asks of a year mostly before the year-end quarter (年底 is for 总结 and 考核).
REQUIRED_QUARTER_WEIGHT = {4: 0.3}
SHORT_OF = (0.3, 0.9)  # what a unit that falls short of a number reaches of it


@dataclass(frozen=True)
class Habits:
    """How a unit reports. Most units are reliable; a few weak ones account for most of the late and
    missing reports and the targets missed, as in any office's ledger."""

    late_quarters: float  # share of quarters in which the unit hands in after the due date
    max_days_late: int
    skip: float  # share of its tasks the unit never reports in a quarter
    quarter_missed: float  # share of quarters the unit reports nothing at all
    abandoned: float  # share of reports started and never submitted
    returned: float  # share of submissions the office returns
    fixes: float  # share of returned reports the unit fixes and resubmits before the period closes
    short: float  # share of its numbers (a year's, a semester's, a category's sites) the unit falls short of
    behind: int  # weight of "滞后" among progress statuses


RELIABLE = Habits(0.06, 5, 0.01, 0.0, 0.01, 0.05, 0.9, 0.03, 6)
WEAK = Habits(0.45, 15, 0.10, 0.12, 0.05, 0.15, 0.6, 0.75, 25)
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


# Far enough ahead that every report's history has run its course.
_EVENTUALLY = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _report_rng(period: ReportingPeriod, unit: Unit, task_number: int) -> random.Random:
    return random.Random(f"demo:{period.year}Q{period.quarter}:{unit.code}:{task_number}")


class Fates:
    """Whether a unit's report for a quarter ends up approved once its history has run its course.

    Figures only count on the dashboards once approved, so a unit that meets a number carries its figures
    on reports that are approved in the end. The same draws as ``populate_demo_reports`` (same seeds) but
    with no "now": the answer does not depend on the day setup_demo runs, and a quarter not yet begun gets
    its default calendar.
    """

    def __init__(
        self, *, periods: list[ReportingPeriod], units: dict[int, Unit], habits: dict[int, Habits], tasks
    ):
        self.periods = {(p.year, p.quarter): p for p in periods}
        self.units, self.habits, self.tasks = units, habits, tasks  # tasks: task id → number
        self._schedules: dict[tuple[int, int, int], UnitQuarter] = {}
        self._approved: dict[tuple[int, int, int, int], bool] = {}

    def period(self, year: int, quarter: int) -> ReportingPeriod:
        period = self.periods.get((year, quarter))
        if period is None:
            starts, ends, due = ReportingPeriod.bounds_for(year, quarter)
            period = self.periods[(year, quarter)] = ReportingPeriod(
                year=year, quarter=quarter, starts_on=starts, ends_on=ends, due_on=due
            )
        return period

    def schedule(self, period: ReportingPeriod, unit_id: int) -> UnitQuarter:
        key = (period.year, period.quarter, unit_id)
        if key not in self._schedules:
            self._schedules[key] = unit_quarter(period, self.units[unit_id], self.habits[unit_id])
        return self._schedules[key]

    def approved(self, year: int, quarter: int, unit_id: int, task_id: int) -> bool:
        key = (year, quarter, unit_id, task_id)
        if key not in self._approved:
            period = self.period(year, quarter)
            steps = report_history(
                _report_rng(period, self.units[unit_id], self.tasks[task_id]),
                period=period,
                habits=self.habits[unit_id],
                uq=self.schedule(period, unit_id),
                as_of=_EVENTUALLY,
            )
            self._approved[key] = bool(steps) and steps[-1].to_state == S.APPROVED
        return self._approved[key]


def owed(rng: random.Random, habits: Habits, number: int, *, above: float) -> int:
    """What a unit reaches of a number it owes: the number and a little more (Poisson, ``above`` × the
    number), or — in ``habits.short`` of the cases — less than the number."""
    if rng.random() < habits.short:
        return math.floor(number * rng.uniform(*SHORT_OF))
    return number + _poisson(rng, number * above)


class FigurePlan:
    """Which report carries how much of a target's metric: (year, quarter, unit id, task id, metric id) →
    count, for the plan's by-date numbers (示范点 and the like) and its per-year and per-semester ones.

    Each number is placed on reports that end up approved, at most one per report while the quarters last,
    from seeds that do not depend on today, so a quarter's share never changes when setup_demo runs again
    later. A reliable unit meets its numbers (now and then it falls short of one), a weak one often does not.
    """

    def __init__(
        self,
        *,
        campaign: Campaign,
        units: dict[int, Unit],
        habits: dict[int, Habits],
        responsibilities: list[Responsibility],
        fates: Fates,
        last_year: int,
    ):
        self.counts: dict[tuple[int, int, int, int, int], int] = defaultdict(int)
        self.units, self.habits, self.fates = units, habits, fates
        first = campaign.periods.order_by("year", "quarter").first()
        self.first = (first.year, first.quarter) if first else quarter_of(campaign.starts_on)
        self.plan_quarters = _quarters(self.first, quarter_of(campaign.ends_on))
        self.quarter_weights = [
            FIRST_QUARTERS_WEIGHT[i] if i < len(FIRST_QUARTERS_WEIGHT) else 1.0
            for i in range(len(self.plan_quarters))
        ]
        self.end_year, self.last_year = campaign.ends_on.year, last_year
        self.responsible: dict[int, list[Responsibility]] = defaultdict(list)
        for r in responsibilities:
            self.responsible[r.task_id].append(r)
        self.planned: set[tuple[int, int, int | None]] = set()  # (task, metric, unit or None: the city)

    def _first(self, target: Target, unit_id: int | None) -> bool:
        """True the first time a unit's (or the city's) figure of a task's metric is planned: a second
        target on the same figure is met or missed by the same reports."""
        key = (target.task_id, target.metric_id, unit_id)
        if key in self.planned:
            return False
        self.planned.add(key)
        return True

    def count(self, period: ReportingPeriod, unit_id: int, task_id: int, metric_id: int) -> int:
        return self.counts.get((period.year, period.quarter, unit_id, task_id, metric_id), 0)

    def _carries(self, unit_id: int, task_id: int) -> bool:
        return any(r.unit_id == unit_id for r in self.responsible.get(task_id, ()))

    def _place(self, rng: random.Random, slots: list[tuple[tuple, float]], metric_id: int, n: int) -> None:
        """``n`` on the slots ((year, quarter, unit id, task id), weight) whose report ends up approved:
        at most one per slot until every slot has one, then round again."""
        if n <= 0:
            return
        slots = [(key, w) for key, w in slots if w > 0 and self.fates.approved(*key)]
        pool: list[tuple[tuple, float]] = []
        for _ in range(n if slots else 0):
            pool = pool or list(slots)
            i = pool.index(_pick_weighted(rng, pool, [w for _, w in pool]))
            key, _ = pool.pop(i)
            self.counts[(*key, metric_id)] += 1

    def _plan_slots(self, unit_id: int, task_id: int, weight: float = 1.0) -> list[tuple[tuple, float]]:
        return [
            ((year, quarter, unit_id, task_id), weight * w)
            for (year, quarter), w in zip(self.plan_quarters, self.quarter_weights, strict=True)
        ]

    def add_by_date(self, target: Target) -> None:
        """A number "by 2025": each named county (or each responsible unit) its own; a city-wide one (市上)
        the task's city departments between them, the lead most; a 市区联合 one the named counties a share
        and the departments the rest."""
        number = math.ceil(target.value)
        seed = f"demo:by-date:{target.task.number}:{target.metric.code}:{target.order}"
        named = [u.pk for u in target.units.all() if u.pk in self.units]
        owners: list[tuple[int, int]] = []  # (unit id, its number)
        city_number = 0
        if target.scope == Target.Scope.EACH_UNIT:
            owners = [(pk, number) for pk in named]
        elif target.scope == Target.Scope.EACH_RESPONSIBLE:
            owners = [(r.unit_id, number) for r in self.responsible.get(target.task_id, ())]
        elif target.scope == Target.Scope.CITY_DISTRICT and named:
            share = math.floor(number * CITY_DISTRICT_COUNTY_SHARE / len(named))
            owners = [(pk, share) for pk in named]
            city_number = number - share * len(named)
        else:
            city_number = number
        for unit_id, n in owners:
            if n and self._carries(unit_id, target.task_id) and self._first(target, unit_id):
                unit = self.units[unit_id]
                rng = random.Random(f"{seed}:{unit.code}")
                reached = owed(rng, self.habits[unit_id], n, above=ABOVE_BY_DATE)
                self._place(rng, self._plan_slots(unit_id, target.task_id), target.metric_id, reached)
        if city_number and self._first(target, None):
            # The city as a whole meets its number: the departments that fall behind are made up for by
            # the lead.
            rng = random.Random(seed)
            slots = [
                slot
                for r in self.responsible.get(target.task_id, ())
                if not self.units[r.unit_id].is_county_level
                for slot in self._plan_slots(
                    r.unit_id,
                    target.task_id,
                    (3.0 if r.is_lead else 1.0) * (0.3 if self.habits[r.unit_id] is WEAK else 1.0),
                )
            ]
            reached = city_number + _poisson(rng, city_number * ABOVE_BY_DATE)
            self._place(rng, slots, target.metric_id, reached)

    def add_paced(self, target: Target) -> None:
        """A per-year or per-semester number ("每年不少于2次", "每学期1次") for every unit responsible for
        the task, in every year from the campaign's first to the current one (the city keeps its
        routine after the plan period)."""
        number = math.ceil(target.value)
        halves = ((1, 2), (3, 4)) if target.period_kind == Target.PeriodKind.PER_SEMESTER else ((1, 2, 3, 4),)
        for r in self.responsible.get(target.task_id, ()):
            unit = self.units[r.unit_id]
            if not self._first(target, r.unit_id):
                continue
            for year in range(self.first[0], self.last_year + 1):
                for i, quarters in enumerate(halves):
                    quarters = [q for q in quarters if (year, q) >= self.first]
                    if not quarters:
                        continue
                    rng = random.Random(
                        f"demo:pace:{target.task.number}:{target.metric.code}:{target.order}:{unit.code}:{year}:{i}"
                    )
                    reached = owed(rng, self.habits[r.unit_id], number, above=PACE_ABOVE_MINIMUM - 1)
                    slots = [((year, q, r.unit_id, target.task_id), 1.0) for q in quarters]
                    # What the plan asks is mostly done before the year's last quarter; more, any time.
                    required = [(key, REQUIRED_QUARTER_WEIGHT.get(key[1], 1.0)) for key, _ in slots]
                    self._place(rng, required, target.metric_id, min(reached, number))
                    self._place(rng, slots, target.metric_id, reached - min(reached, number))


def report_figures(
    rng: random.Random,
    *,
    period: ReportingPeriod,
    resp: Responsibility,
    unit: Unit,
    paced: list[Metric],
    by_date: list[Metric],
    plan: FigurePlan,
    common: dict[str, Metric],
) -> list[tuple[Metric, Decimal]]:
    """The figures one report carries: its task's own target metrics, then perhaps some publicity."""
    picks: dict[int, tuple[Metric, Decimal]] = {}
    for metric in paced:  # "每年不少于2次": this quarter's part of the year's
        count = plan.count(period, resp.unit_id, resp.task_id, metric.pk)
        if count or rng.random() < 0.5:
            picks[metric.pk] = (metric, Decimal(count))
    for metric in by_date:
        count = plan.count(period, resp.unit_id, resp.task_id, metric.pk)
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
    leads = {r.unit_id for r in responsibilities if r.is_lead}
    weak = weak_units(list(units.values()), leads)
    habits = {pk: WEAK if pk in weak else RELIABLE for pk in units}
    existing = set(
        ProgressReport.objects.filter(period__in=periods).values_list("period_id", "unit_id", "task_id")
    )
    common = {m.code: m for m in Metric.objects.filter(is_common=True)}
    # 示范点 are not typed into reports (sites/demo.py seeds the register): only the other targets' figures.
    targets = [
        t
        for t in Target.objects.filter(task__campaign=campaign)
        .select_related("task", "metric")
        .prefetch_related("units")
        .order_by("task__number", "order")
        if not t.metric.is_counted_from_register
    ]
    fates = Fates(
        periods=list(ReportingPeriod.objects.filter(campaign=campaign)),
        units=units,
        habits=habits,
        tasks={r.task_id: r.task.number for r in responsibilities},
    )
    plan = FigurePlan(
        campaign=campaign,
        units=units,
        habits=habits,
        responsibilities=responsibilities,
        fates=fates,
        last_year=periods[-1].year,
    )
    paced: dict[int, list[Metric]] = defaultdict(list)
    by_date: dict[int, list[Metric]] = defaultdict(list)
    for target in targets:
        if target.period_kind == Target.PeriodKind.BY_DATE:
            plan.add_by_date(target)
            kept = by_date[target.task_id]
        elif target.scope == Target.Scope.EACH_RESPONSIBLE:
            plan.add_paced(target)
            kept = paced[target.task_id]
        else:
            continue
        if target.metric not in kept:
            kept.append(target.metric)

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
        for resp in responsibilities:
            if (period.pk, resp.unit_id, resp.task_id) in existing:
                continue
            unit, unit_habits = units[resp.unit_id], habits[resp.unit_id]
            rng = _report_rng(period, unit, resp.task.number)
            steps = report_history(
                rng, period=period, habits=unit_habits, uq=fates.schedule(period, resp.unit_id), as_of=as_of
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
                by_date=by_date.get(resp.task_id, []),
                plan=plan,
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
    populate_demo_evidence(campaign=campaign, stdout=stdout)
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


# ------------------------------------------------------------------------------- the unit leader's sign-off

# Units whose reports go through their 分管领导 before the office in the demo; their leaders log in as
# ``<code>-leader``.
SIGNOFF_UNITS = ("kongtong", "xuanchuanbu", "jiaoyuju")
SIGNOFF_WAITING_PER_UNIT = 2


def leader_username(unit: Unit) -> str:
    return f"{unit.code}-leader"


def populate_demo_signoff(*, campaign: Campaign, today: dt.date | None = None, stdout=None) -> int:
    """A few reports of the sign-off units waiting for their leader in the current quarter: their drafts
    with text (else new reports on tasks they carry) are sent for sign-off, as ``report_submit`` would have
    left them. Idempotent: a unit that already has reports waiting gets no more. Returns how many were sent."""
    today = today or timezone.localdate()
    period = ReportingPeriod.current_open(campaign)
    if period is None:
        return 0
    units = list(Unit.objects.filter(code__in=SIGNOFF_UNITS, requires_signoff=True).order_by("order"))
    liaisons = dict(
        Membership.objects.filter(unit__in=units, role=Membership.Role.LIAISON, is_active=True)
        .order_by("-pk")
        .values_list("unit_id", "user_id")
    )
    users = get_user_model().objects.in_bulk(list(liaisons.values()))
    now = min(timezone.now(), demo_as_of(today) + dt.timedelta(hours=10))
    sent = 0
    with transaction.atomic():
        for unit in units:
            reports = list(ProgressReport.objects.filter(period=period, unit=unit))
            waiting = [r for r in reports if r.state == S.AWAITING_SIGNOFF]
            want = SIGNOFF_WAITING_PER_UNIT - len(waiting)
            if want <= 0:
                continue
            liaison = users.get(liaisons.get(unit.pk))
            picked = [r for r in reports if r.state == S.DRAFT and r.progress.strip()][:want]
            have = {r.task_id for r in reports}
            fresh = (
                Responsibility.objects.filter(unit=unit, task__campaign=campaign)
                .exclude(task_id__in=have)
                .select_related("task")
                .order_by("task__number")[: want - len(picked)]
            )
            for resp in fresh:
                rng = _report_rng(period, unit, resp.task.number)
                report = ProgressReport.objects.create(
                    period=period,
                    unit=unit,
                    task=resp.task,
                    progress=progress_text(rng, resp.task.title),
                    problems=rng.choice(PROBLEMS),
                    next_steps=rng.choice(NEXT_STEPS),
                    created_at=now - dt.timedelta(hours=2),
                    created_by=liaison,
                    updated_by=liaison,
                )
                ReportEvent.objects.create(
                    report=report,
                    action=Action.CREATED,
                    actor=liaison,
                    at=report.created_at,
                    to_state=S.DRAFT,
                    version=report.version,
                )
                picked.append(report)
            for report in picked:
                previous = report.state
                report.state = S.AWAITING_SIGNOFF
                report.sent_for_signoff_at = now
                report.submitted_by = liaison
                report.version += 1
                report.save()
                ReportEvent.objects.create(
                    report=report,
                    action=Action.SENT_FOR_SIGNOFF,
                    actor=liaison,
                    at=now,
                    from_state=previous,
                    to_state=S.AWAITING_SIGNOFF,
                    version=report.version,
                )
                sent += 1
    if stdout is not None and sent:
        stdout.write(f"已有 {sent} 份演示报告等待分管领导审核（{period.label}）。")
    return sent


# ------------------------------------------------------------------------------------------ evidence files

# Files on a few approved reports of every task, as liaisons attach them while writing: mostly activity
# photos (JPEG), stamped notices and meeting minutes and signed sign-in sheets as scanned PDFs (a picture of
# the page in a PDF, how a unit sends a signed paper), and Word 台账/工作方案. Drawn with Pillow and
# python-docx in the faces ``render/fonts.py`` resolves (no WeasyPrint: its start-up and font subsetting
# alone would cost setup_demo about two seconds). The files go through ``reports/evidence.py`` as an upload
# does: its checks, checksum, stored name and thumbnail.
EVIDENCE_REPORTS_PER_TASK = (1, 1, 2)
EVIDENCE_FILES_PER_REPORT = (1, 1, 1, 2)
EVIDENCE_KINDS = {"notice": 0.1, "scan": 0.08, "word": 0.12}  # shares of the files; the rest are photos
PHOTO_SIZES = ((1280, 960), (1280, 720), (1440, 1080))  # as a phone sends a photo over WeChat
UPLOAD_MINUTES_AFTER = (2, 70)  # after the step before: the liaison uploads while writing the report

SKIN = ((241, 194, 160), (226, 175, 138), (203, 152, 115), (234, 188, 152))
HAIR = ((28, 24, 22), (42, 34, 30), (62, 52, 46), (105, 100, 98))
SUITS = ((34, 40, 56), (30, 30, 36), (56, 62, 78), (84, 84, 90), (236, 236, 230), (120, 30, 36))
CLOTHES = (
    (196, 40, 42), (32, 92, 170), (238, 196, 64), (40, 140, 92), (232, 232, 228), (122, 62, 142),
    (52, 52, 62), (226, 120, 48), (20, 150, 170),
)  # fmt: skip
COSTUMES = ((214, 32, 60), (250, 190, 30), (30, 130, 200), (240, 240, 240), (40, 170, 110), (170, 40, 160))
RED = (178, 26, 32)
GOLD = (255, 214, 90)

HALL_TOPICS = (
    "{task}工作推进会",
    "铸牢中华民族共同体意识专题宣讲报告会",
    "民族团结进步创建工作专题会议",
    "《甘肃省促进民族团结进步条例》学习会",
)
OUTDOOR_TOPICS = (
    "民族团结进步宣传月集中宣传活动",
    "“民族团结一家亲”主题宣传活动",
    "铸牢中华民族共同体意识宣传进{place}",
)
STAGE_TOPICS = ("“民族团结一家亲”文艺演出", "民族团结进步文艺汇演", "“石榴籽”同心文艺展演")
SLOGANS = (
    "铸牢中华民族共同体意识",
    "各民族像石榴籽一样紧紧抱在一起",
    "共建民族团结进步示范市",
    "民族团结一家亲 同心共筑中国梦",
)
PLACES = ("社区", "乡镇", "学校", "企业", "景区", "机关")


@dataclass
class DemoFile:
    """One file a liaison attached to a report: what it is, what they called it and when they uploaded it."""

    report: ProgressReport
    kind: str  # a key of EVIDENCE_KINDS
    original_name: str
    caption: str
    topic: str
    held: dt.datetime  # when the activity took place (the photo's time, the notice's date)
    uploaded: dt.datetime
    version: int  # the report's version at the upload (an upload does not change it)
    state: str
    seed: str
    content: bytes = b""


def _quoted(title: str) -> str:
    """A task's title in quotation marks; quotation marks inside it become the inner ones (‘’)."""
    return "“" + title.replace("“", "‘").replace("”", "’") + "”"


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _evidence_reports(campaign: Campaign) -> list[tuple[int, int]]:
    """(report id, files) for the reports that get demo files: per task, one or two approved reports of
    different units in different quarters, drawn from the task's own seed. A task that already has files on an
    approved report is left alone, so a second run adds nothing."""
    rows = list(
        ProgressReport.objects.filter(period__campaign=campaign, state=S.APPROVED, created_by__isnull=False)
        .exclude(unit__code__startswith="scale-")
        .order_by("task__number", "period__year", "period__quarter", "unit__order", "unit__code")
        .values_list("pk", "task_id", "task__number", "unit_id", "period_id")
    )
    done = set(
        Evidence.objects.filter(
            kind=Evidence.Kind.FILE, report__state=S.APPROVED, report__period__campaign=campaign
        ).values_list("report__task_id", flat=True)
    )
    by_task: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for pk, task_id, number, unit_id, period_id in rows:
        if task_id not in done:
            by_task[(number, task_id)].append((pk, unit_id, period_id))
    chosen = []
    for (number, _), reports in sorted(by_task.items()):
        rng = random.Random(f"demo:evidence:task{number}")
        wanted = rng.choice(EVIDENCE_REPORTS_PER_TASK)
        units, periods = set(), set()
        for pk, unit_id, period_id in rng.sample(reports, len(reports)):
            if unit_id in units or period_id in periods:
                continue
            chosen.append((pk, rng.choice(EVIDENCE_FILES_PER_REPORT)))
            units.add(unit_id)
            periods.add(period_id)
            if len(units) == wanted:
                break
    return chosen


def _plan_files(campaign: Campaign) -> list[DemoFile]:
    chosen = dict(_evidence_reports(campaign))
    if not chosen:
        return []
    reports = ProgressReport.objects.select_related("task", "unit", "period").in_bulk(list(chosen))
    events = defaultdict(list)
    for event in ReportEvent.objects.filter(report_id__in=list(chosen)).order_by("at", "pk"):
        events[event.report_id].append(event)
    planned = []
    for pk in sorted(chosen):
        report, history = reports[pk], events[pk]
        key = f"{report.period.year}Q{report.period.quarter}:{report.unit.code}:{report.task.number}"
        rng = random.Random(f"demo:evidence:{key}")
        submitted = next((i for i, e in enumerate(history) if e.action == Action.SUBMITTED), None)
        if not submitted:
            continue
        # Uploaded in one sitting after one of the draft's steps, a few minutes apart, before the next step.
        gap = rng.randrange(submitted)
        after, before = history[gap], history[gap + 1]
        count = chosen[pk]
        uploaded = [after.at + dt.timedelta(minutes=rng.randint(*UPLOAD_MINUTES_AFTER))]
        for _ in range(count - 1):
            uploaded.append(
                uploaded[-1] + dt.timedelta(minutes=rng.randint(1, 4), seconds=rng.randint(0, 59))
            )
        if uploaded[-1] >= before.at:  # steps close together: spread the uploads evenly between them
            step = (before.at - after.at) / (count + 1)
            uploaded = [after.at + step * (i + 1) for i in range(count)]
        for i, at in enumerate(uploaded):
            first = max(report.period.starts_on, at.date() - dt.timedelta(days=12))
            day = first + dt.timedelta(days=rng.randint(0, max((at.date() - first).days - 1, 0)))
            minutes = rng.randint(9 * 60, 16 * 60 + 30)
            held = timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))
            held = min(held, at - dt.timedelta(minutes=30))
            planned.append(
                DemoFile(
                    report=report,
                    kind="",
                    original_name="",
                    caption="",
                    topic="",
                    held=held,
                    uploaded=at,
                    version=after.version,
                    state=after.to_state,
                    seed=f"{key}:{i}",
                )
            )
    # The kinds in their shares of all the files, dealt out in a shuffled order.
    kinds = [kind for kind, share in EVIDENCE_KINDS.items() for _ in range(round(share * len(planned)))]
    kinds += ["photo"] * (len(planned) - len(kinds))
    random.Random(f"demo:evidence:kinds:{len(planned)}").shuffle(kinds)
    for item, kind in zip(planned, kinds, strict=False):
        item.kind = kind
        _name_file(item)
    return planned


def _name_file(item: DemoFile) -> None:
    """The file's topic, the name the liaison's phone or computer gave it, and their caption."""
    rng = random.Random(f"demo:evidence:name:{item.seed}")
    unit, task, held = item.report.unit, item.report.task, timezone.localtime(item.held)
    short = unit.short_name or unit.name
    stamp = held.strftime("%Y%m%d_%H%M%S")
    if item.kind == "photo":
        scene = rng.choice(("hall", "hall", "outdoor", "outdoor", "stage"))
        pool = {"hall": HALL_TOPICS, "outdoor": OUTDOOR_TOPICS, "stage": STAGE_TOPICS}[scene]
        item.topic = f"{scene}|" + rng.choice(pool).format(task=_quoted(task.title), place=rng.choice(PLACES))
        topic = item.topic.split("|", 1)[1]
        item.original_name = rng.choice(
            (f"IMG_{stamp}.jpg", f"微信图片_{stamp.replace('_', '')}.jpg", f"{short}{topic}.jpg")
        )
        item.caption = rng.choice(
            (f"{short}{topic}现场", f"{topic}（{_cn_date(held.date())}）", f"{topic}活动照片")
        )
    elif item.kind == "notice":
        minutes = rng.random() < 0.5
        item.topic = "minutes" if minutes else "notice"
        if minutes:
            item.original_name = f"{short}创建工作专题会议纪要（{held:%Y.%m.%d}）.pdf"
            item.caption = f"{short}研究部署{_quoted(task.title)}工作专题会议纪要"
        else:
            item.original_name = f"关于扎实推进{_quoted(task.title)}工作的通知.pdf"
            item.caption = f"{short}关于扎实推进{_quoted(task.title)}工作的通知"
    elif item.kind == "scan":
        item.topic = rng.choice(HALL_TOPICS).format(task=_quoted(task.title))
        item.original_name = rng.choice((f"签到表{held:%m%d}.pdf", f"{short}活动签到表（扫描件）.pdf"))
        item.caption = f"{item.topic}签到表（扫描件）"
    else:
        ledger = rng.random() < 0.55
        item.topic = "ledger" if ledger else "plan"
        if ledger:
            period = item.report.period
            item.original_name = f"{short}{period.year}年第{period.quarter}季度创建工作台账.docx"
            item.caption = f"{_quoted(task.title)}工作台账（{period.year}年第{period.quarter}季度）"
        else:
            item.original_name = f"{short}{_quoted(task.title)}工作方案.docx"
            item.caption = f"{short}{_quoted(task.title)}工作方案"


# What the files look like: drawn, not downloaded, so the demo needs no network and no stock photos.


@functools.lru_cache(maxsize=8)
def _face(role: str) -> tuple[str, int] | None:
    """The file and collection index of the role's face (``render/fonts.py``: the one the documents use)."""
    from PIL import ImageFont

    from .compilations.render import fonts

    face = fonts.primary(role)
    if not face.path:
        return None
    if face.path.lower().endswith((".ttc", ".otc")):
        for index in range(16):
            try:
                if ImageFont.truetype(face.path, 12, index=index).getname()[0] == face.family:
                    return face.path, index
            except OSError:
                break
    return face.path, 0


@functools.lru_cache(maxsize=64)
def _font(role: str, size: int):
    """The role's face at ``size`` px; None where no CJK face is installed."""
    from PIL import ImageFont

    found = _face(role)
    return ImageFont.truetype(found[0], size, index=found[1]) if found else None


def _text(draw, box, text: str, *, role: str = "hei", fill=(255, 255, 255), size: int | None = None) -> None:
    """``text`` centred in ``box``, as large as fits (at most ``size``)."""
    left, top, right, bottom = (int(v) for v in box)
    size = size or int((bottom - top) * 0.7)
    while size > 8:
        font = _font(role, size)
        if font is None:
            return
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
        if x1 - x0 <= (right - left) * 0.94:
            break
        size = int(size * 0.9) // 2 * 2
    draw.text(
        ((left + right - (x1 - x0)) / 2 - x0, (top + bottom - (y1 - y0)) / 2 - y0), text, font=font, fill=fill
    )


def _gradient(image, box, top, bottom) -> None:
    """A vertical gradient from ``top`` to ``bottom`` over ``box``: two pixels stretched by Pillow."""
    from PIL import Image

    left, y0, right, y1 = (int(v) for v in box)
    ends = Image.new("RGB", (1, 2))
    ends.putdata([tuple(top), tuple(bottom)])
    image.paste(ends.resize((right - left, max(y1 - y0, 1)), Image.Resampling.BILINEAR), (left, y0))


def _person(draw, rng, x: float, y: float, s: float, *, clothes, facing: bool = True) -> None:
    """A person whose head is centred at (x, y) with radius ``s``: seen from the front or from behind."""
    draw.rounded_rectangle(
        (x - 2.1 * s, y + 0.9 * s, x + 2.1 * s, y + 5.5 * s), radius=int(s), fill=rng.choice(clothes)
    )
    hair = rng.choice(HAIR)
    draw.ellipse((x - s, y - 1.15 * s, x + s, y + 1.15 * s), fill=rng.choice(SKIN) if facing else hair)
    if facing:
        draw.chord((x - 1.02 * s, y - 1.2 * s, x + 1.02 * s, y + 0.3 * s), 180, 360, fill=hair)


def _scene_hall(image, draw, rng, w: int, h: int, banner: str) -> None:
    """A meeting room: the red banner, a screen with the slogan, the 主席台 and rows seen from behind."""
    _gradient(image, (0, 0, w, h * 0.58), rng.choice(((236, 229, 214), (222, 228, 236))), (206, 198, 184))
    _gradient(image, (0, h * 0.58, w, h), (150, 44, 44), (112, 30, 32))
    draw.rectangle((w * 0.06, h * 0.05, w * 0.94, h * 0.14), fill=RED)
    _text(draw, (w * 0.06, h * 0.05, w * 0.94, h * 0.14), banner)
    _gradient(image, (w * 0.22, h * 0.17, w * 0.78, h * 0.42), (24, 70, 150), (10, 36, 96))
    _text(draw, (w * 0.22, h * 0.22, w * 0.78, h * 0.33), rng.choice(SLOGANS), fill=GOLD)
    seats = rng.randint(4, 7)
    for i in range(seats):
        _person(draw, rng, w * (0.2 + 0.6 * (i + 0.5) / seats), h * 0.47, h * 0.026, clothes=SUITS)
    draw.rectangle((w * 0.12, h * 0.52, w * 0.88, h * 0.6), fill=rng.choice(((30, 110, 60), (160, 30, 36))))
    for row in range(4):
        s = h * (0.028 + 0.01 * row)
        y = h * (0.66 + 0.09 * row)
        for i in range(int(w / (5.2 * s))):
            if rng.random() < 0.88:
                _person(
                    draw, rng, (i + 0.5 + rng.uniform(-0.1, 0.1)) * 5.2 * s, y, s, clothes=SUITS, facing=False
                )


def _scene_outdoor(image, draw, rng, w: int, h: int, banner: str) -> None:
    """A square: tents, boards (展板), the banner and a crowd."""
    _gradient(image, (0, 0, w, h * 0.46), (118, 168, 226), (204, 226, 244))
    x = 0.0
    while x < w:
        bw, bh = rng.uniform(0.06, 0.14) * w, rng.uniform(0.08, 0.26) * h
        grey = rng.randint(150, 205)
        draw.rectangle((x, h * 0.46 - bh, x + bw, h * 0.46), fill=(grey, grey, grey + 6))
        for wy in range(int(h * 0.46 - bh + 8), int(h * 0.46 - 6), 14):
            draw.line((x + 6, wy, x + bw - 6, wy), fill=(grey - 40, grey - 34, grey - 20), width=3)
        x += bw + rng.uniform(0, 0.03) * w
    _gradient(image, (0, h * 0.46, w, h), (192, 186, 176), (150, 146, 140))
    draw.rectangle((w * 0.1, h * 0.16, w * 0.9, h * 0.24), fill=RED)
    _text(draw, (w * 0.1, h * 0.16, w * 0.9, h * 0.24), banner)
    for post in (w * 0.1, w * 0.9):
        draw.rectangle((post - 4, h * 0.16, post + 4, h * 0.5), fill=(90, 90, 96))
    for i in range(rng.randint(2, 3)):
        cx, colour = (
            w * (0.2 + 0.3 * i + rng.uniform(-0.05, 0.05)),
            rng.choice(((32, 92, 170), RED, (240, 240, 236))),
        )
        draw.polygon(
            [
                (cx - w * 0.12, h * 0.4),
                (cx - w * 0.08, h * 0.31),
                (cx + w * 0.08, h * 0.31),
                (cx + w * 0.12, h * 0.4),
            ],
            fill=colour,
        )
        draw.rectangle((cx - w * 0.12, h * 0.4, cx + w * 0.12, h * 0.44), fill=colour)
        for px in (cx - w * 0.115, cx + w * 0.11):
            draw.rectangle((px, h * 0.44, px + 5, h * 0.6), fill=(170, 170, 176))
    for i in range(rng.randint(3, 5)):
        bx = w * (0.06 + 0.19 * i + rng.uniform(0, 0.03))
        board = (bx, h * 0.43, bx + w * 0.15, h * 0.66)
        draw.rectangle(board, fill=(248, 246, 240), outline=(120, 120, 120), width=2)
        draw.rectangle((bx, h * 0.43, bx + w * 0.15, h * 0.47), fill=RED)
        _text(
            draw,
            (bx, h * 0.43, bx + w * 0.15, h * 0.47),
            rng.choice(("民族团结", "石榴籽", "同心圆", "一家亲")),
        )
        draw.rectangle((bx + 8, h * 0.49, bx + w * 0.07, h * 0.56), fill=rng.choice(CLOTHES))
        for ly in range(int(h * 0.5), int(h * 0.64), 9):
            draw.line((bx + w * 0.075, ly, bx + w * 0.145, ly), fill=(150, 150, 150), width=2)
    people = sorted((rng.uniform(0.62, 0.93), rng.uniform(0, 1)) for _ in range(rng.randint(14, 28)))
    for py, px in people:
        _person(draw, rng, px * w, py * h, h * 0.022 * py / 0.62, clothes=CLOTHES, facing=rng.random() < 0.6)


def _scene_stage(image, draw, rng, w: int, h: int, banner: str) -> None:
    """A stage: the screen with the show's name, dancers in bright costumes and the audience's heads."""
    draw.rectangle((0, 0, w, h), fill=(18, 16, 26))
    _gradient(image, (w * 0.05, h * 0.05, w * 0.95, h * 0.5), (196, 22, 36), (236, 128, 30))
    _text(draw, (w * 0.08, h * 0.12, w * 0.92, h * 0.26), banner, fill=GOLD)
    _text(draw, (w * 0.2, h * 0.3, w * 0.8, h * 0.38), rng.choice(SLOGANS))
    _gradient(image, (0, h * 0.5, w, h * 0.7), (120, 70, 50), (70, 40, 30))
    for i in range(6):
        lx = w * (0.1 + 0.16 * i)
        draw.ellipse((lx - 14, h * 0.02, lx + 14, h * 0.05), fill=(255, 246, 200))
    dancers = rng.randint(4, 8)
    for i in range(dancers):
        x, y, s = w * (0.12 + 0.76 * (i + 0.5) / dancers), h * rng.uniform(0.45, 0.5), h * 0.024
        costume = rng.choice(COSTUMES)
        draw.polygon([(x - 3.6 * s, y + 7 * s), (x + 3.6 * s, y + 7 * s), (x, y + 1.2 * s)], fill=costume)
        draw.line((x - 3 * s, y + 1.5 * s, x + 3 * s, y + 1.5 * s), fill=costume, width=max(int(s * 0.6), 2))
        draw.ellipse((x - s, y - 1.1 * s, x + s, y + 1.1 * s), fill=rng.choice(SKIN))
        draw.rectangle((x - 1.1 * s, y - 1.6 * s, x + 1.1 * s, y - 0.8 * s), fill=rng.choice(COSTUMES))
    for row in range(3):
        s = h * (0.03 + 0.008 * row)
        for i in range(int(w / (4.6 * s)) + 1):
            x, y = (i + rng.uniform(0.3, 0.7)) * 4.6 * s, h * (0.8 + 0.08 * row)
            draw.ellipse((x - s, y - 1.15 * s, x + s, y + 1.15 * s), fill=(40, 38, 46))
            draw.rounded_rectangle((x - 2 * s, y + s, x + 2 * s, y + 5 * s), radius=int(s), fill=(32, 30, 38))


def _photo(item: DemoFile) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(f"demo:evidence:photo:{item.seed}")
    w, h = rng.choice(PHOTO_SIZES)
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    scene, topic = item.topic.split("|", 1)
    unit = item.report.unit
    banner = topic if topic.startswith(("“", "《", "铸牢")) else f"{unit.short_name or unit.name}{topic}"
    {"hall": _scene_hall, "outdoor": _scene_outdoor, "stage": _scene_stage}[scene](
        image, draw, rng, w, h, banner
    )
    if rng.random() < 0.4:  # the date stamp some cameras print in the corner
        font = _font("hei", h // 30)
        if font is not None:
            draw.text(
                (w * 0.78, h * 0.93),
                f"{timezone.localtime(item.held):%Y/%m/%d %H:%M}",
                font=font,
                fill=(255, 150, 20),
            )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=rng.choice((82, 86, 90)))
    return out.getvalue()


def site_photo_jpeg(banner: str, seed: str) -> bytes:
    """A photo of a 示范点's activity square under its banner, as the units send them (960×720 JPEG). For the
    demo's site register (``sites/demo.py``)."""
    from PIL import Image, ImageDraw

    rng = random.Random(f"demo:site-photo:{seed}")
    w, h = 960, 720
    image = Image.new("RGB", (w, h))
    _scene_outdoor(image, ImageDraw.Draw(image), rng, w, h, banner)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=84)
    return out.getvalue()


PAPER = (246, 244, 238)
INK = (28, 28, 28)
SEAL_RED = (206, 36, 40)
A4_100DPI = (827, 1169)


def _scanned_pdf(image, rng, *, grey: bool) -> bytes:
    """The page as a scanner returns it: a picture inside a PDF, a grey shadow along one edge."""
    from PIL import ImageDraw

    edge = rng.choice((0, image.width - 6))
    ImageDraw.Draw(image).rectangle((edge, 0, edge + 5, image.height), fill=(214, 212, 206))
    out = io.BytesIO()
    (image.convert("L") if grey else image).save(out, format="PDF", resolution=100.0, quality=78)
    return out.getvalue()


def _wrapped(draw, x: int, y: int, width: int, text: str, *, size: int, indent: bool = True) -> int:
    """``text`` set in the body face (仿宋) line by line from (x, y), two characters in; the next line's y."""
    font = _font("fangsong", size)
    text = ("\u3000\u3000" if indent else "") + text
    while text:
        end = len(text)
        if font is not None:
            end = width // size
            while end < len(text) and font.getlength(text[: end + 1]) <= width:
                end += 1
            draw.text((x, y), text[:end], font=font, fill=INK)
        text = text[end:]
        y += int(size * 1.75)
    return y


def _seal(image, rng, centre: tuple[int, int], name: str) -> None:
    """The unit's round red seal: a ring, a star and the name along the upper arc, pressed a little unevenly."""
    from PIL import Image, ImageDraw

    r = 78
    seal = Image.new("RGBA", (2 * r + 8, 2 * r + 8), (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    c = r + 4
    draw.ellipse((4, 4, 2 * r + 4, 2 * r + 4), outline=SEAL_RED + (215,), width=6)
    star = [
        (
            c + (26 if i % 2 == 0 else 10) * math.sin(i * math.pi / 5),
            c - (26 if i % 2 == 0 else 10) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw.polygon(star, fill=SEAL_RED + (215,))
    font = _font("song", 22)
    if font is not None:
        span = min(220, 22 * len(name))
        for i, ch in enumerate(name):
            angle = -span / 2 + span * (i + 0.5) / len(name)
            glyph = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((4, 2), ch, font=font, fill=SEAL_RED + (215,))
            glyph = glyph.rotate(-angle, resample=Image.Resampling.BILINEAR)
            x = c + (r - 26) * math.sin(math.radians(angle)) - 15
            y = c - (r - 26) * math.cos(math.radians(angle)) - 15
            seal.alpha_composite(glyph, (int(x), int(y)))
    seal = seal.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
    image.paste(seal, (centre[0] - c, centre[1] - c), seal)


def _notice(item: DemoFile) -> bytes:
    """A notice or a set of minutes of the unit, printed in the 公文 layout, stamped and scanned (the form in
    which a unit usually sends a signed document): 版头 in red, title, body, signature and seal."""
    from PIL import Image, ImageDraw

    rng = random.Random(f"demo:evidence:notice:{item.seed}")
    unit, task, held = item.report.unit, item.report.task, timezone.localtime(item.held)
    details = rng.sample(PROGRESS_DETAILS, 2)
    if item.topic == "minutes":
        mark, title, recipients = f"{unit.name}会议纪要", "创建全国民族团结进步示范市工作专题会议纪要", ""
        body = [
            f"{_cn_date(held.date())}，{unit.name}召开创建全国民族团结进步示范市工作专题会议，传达学习上级有关会议"
            f"精神，研究部署{_quoted(task.title)}任务推进工作。现将会议议定事项纪要如下。",
            (
                "一、统一思想认识",
                "创建全国民族团结进步示范市是一项重大政治任务，必须以铸牢中华民族共同体意识为主线，"
                "与业务工作同部署、同落实、同考核。",
            ),
            ("二、明确工作任务", details[0]),
            ("三、压实工作责任", "明确责任领导和具体责任人，建立工作台账，按季度报送工作进展。"),
        ]
    else:
        mark, title = f"{unit.name}文件", f"关于扎实推进{_quoted(task.title)}工作的通知"
        recipients = rng.choice(
            ("各科室、各直属单位：", "各乡镇人民政府、街道办事处，各相关单位：", "各科室：")
        )
        body = [
            "为深入贯彻落实党的民族政策，按照《平凉市创建全国民族团结进步示范市实施方案》任务分工，现就扎实推进"
            f"{_quoted(task.title)}工作有关事项通知如下。",
            ("一、工作内容", details[0]),
            (
                "二、工作要求",
                f"{details[1]}各单位要于每季度末前将工作开展情况及佐证材料报送{unit.short_name or unit.name}。",
            ),
        ]
    w, h = A4_100DPI
    image = Image.new("RGB", (w, h), PAPER)
    draw = ImageDraw.Draw(image)
    left, right = 110, w - 102  # the 版心 of GB/T 9704 at 100 dpi
    _text(draw, (left, 170, right, 232), mark, role="xbs", fill=(200, 20, 24), size=50)
    draw.line((left, 250, right, 250), fill=(200, 20, 24), width=2)
    _text(draw, (left, 290, right, 330), title, role="xbs", fill=INK, size=30)
    y, size = 368, 21
    if recipients:
        y = _wrapped(draw, left, y, right - left, recipients, size=size, indent=False)
    for part in body:
        if isinstance(part, tuple):
            font = _font("hei", size)
            if font is not None:
                draw.text((left + 2 * size, y), part[0], font=font, fill=INK)
            y = _wrapped(draw, left, y + int(size * 1.75), right - left, part[1], size=size)
        else:
            y = _wrapped(draw, left, y, right - left, part, size=size)
    y += size * 2
    font = _font("fangsong", size)
    if font is not None:
        draw.text((right - 4 * size - len(unit.name) * size, y), unit.name, font=font, fill=INK)
        draw.text(
            (right - 2 * size - 9 * size, y + int(size * 1.75)), _cn_date(held.date()), font=font, fill=INK
        )
    _seal(image, rng, (right - 4 * size - len(unit.name) * size // 2, y + size), unit.name)
    return _scanned_pdf(image, rng, grey=False)


def naming_decision_pdf(*, issuer: str, title: str, names: list[str], day: dt.date, seed: str) -> bytes:
    """A naming decision (命名决定) as the register keeps it: the issuer's 文件 in the 公文 layout listing the
    named 示范点, signed, stamped and scanned. For the demo's site register (``sites/demo.py``)."""
    from PIL import Image, ImageDraw

    rng = random.Random(f"demo:naming:{seed}")
    w, h = A4_100DPI
    image = Image.new("RGB", (w, h), PAPER)
    draw = ImageDraw.Draw(image)
    left, right = 110, w - 102
    _text(draw, (left, 170, right, 232), f"{issuer}文件", role="xbs", fill=(200, 20, 24), size=40)
    draw.line((left, 250, right, 250), fill=(200, 20, 24), width=2)
    cut = title.rfind("为") + 1 if len(title) > 22 and "为" in title else len(title)
    lines = [line for line in (title[:cut], title[cut:]) if line]
    for n, line in enumerate(lines):
        _text(draw, (left, 290 + 44 * n, right, 330 + 44 * n), line, role="xbs", fill=INK, size=26)
    size = 20
    shown = names[:60]  # a page's worth
    listed = "、".join(shown) + (f"等{len(names)}个单位" if len(names) > len(shown) else "")
    y = _wrapped(
        draw,
        left,
        324 + 44 * len(lines),
        right - left,
        "为深入贯彻落实党的民族政策，推进民族团结进步创建活动深入开展，经单位申报、实地考察、集体研究和"
        "公示，决定命名以下单位为民族团结进步示范点。",
        size=size,
    )
    y = _wrapped(draw, left, y, right - left, listed + "。", size=size)
    y = _wrapped(
        draw,
        left,
        y,
        right - left,
        "希望被命名单位珍惜荣誉，发挥示范引领作用，持续深化创建内容，不断巩固创建成果。",
        size=size,
    )
    y += size * 2
    font = _font("fangsong", size)
    if font is not None:
        draw.text((right - 2 * size - len(issuer) * size, y), issuer, font=font, fill=INK)
        draw.text((right - 2 * size - 9 * size, y + int(size * 1.75)), _cn_date(day), font=font, fill=INK)
    _seal(image, rng, (right - 2 * size - len(issuer) * size // 2, y + size), issuer[:12])
    return _scanned_pdf(image, rng, grey=rng.random() < 0.5)


def _scan(item: DemoFile) -> bytes:
    """A sign-in sheet printed, signed by hand and scanned: one A4 page as a picture inside a PDF."""
    from PIL import Image, ImageDraw

    from units.demo_names import GIVEN, SURNAMES

    rng = random.Random(f"demo:evidence:scan:{item.seed}")
    w, h = A4_100DPI
    image = Image.new("RGB", (w, h), PAPER)
    draw = ImageDraw.Draw(image)
    held, unit = timezone.localtime(item.held), item.report.unit
    _text(draw, (66, 70, w - 66, 120), f"{item.topic}签到表", fill=(20, 20, 20), size=32)
    place = rng.choice(("会议室", "多功能厅", "党员活动室"))
    _text(
        draw,
        (66, 130, w - 66, 160),
        f"时间：{_cn_date(held.date())}  地点：{unit.short_name or unit.name}{place}",
        fill=(40, 40, 40),
        size=18,
    )
    columns = (66, 130, 270, 540, w - 66)
    heads = ("序号", "姓名", "单位及职务", "签名")
    rows = rng.randint(12, 20)
    top, pitch = 190, 44
    for i in range(rows + 2):
        draw.line((columns[0], top + i * pitch, columns[-1], top + i * pitch), fill=(30, 30, 30), width=2)
    for x in columns:
        draw.line((x, top, x, top + (rows + 1) * pitch), fill=(30, 30, 30), width=2)
    for x0, x1, head in zip(columns, columns[1:], heads, strict=False):
        _text(draw, (x0, top, x1, top + pitch), head, fill=(20, 20, 20), size=20)
    roles = ("科员", "副科长", "科长", "干部", "副主任", "主任", "联络员")
    for r in range(rows):
        y = top + (r + 1) * pitch
        name = rng.choice(SURNAMES[:60]) + rng.choice(GIVEN)
        cells = (str(r + 1), name, f"{unit.short_name or unit.name}{rng.choice(roles)}")
        for x0, x1, text in zip(columns, columns[1:], cells, strict=False):
            _text(draw, (x0, y, x1, y + pitch), text, role="song", fill=(30, 30, 30), size=18)
        font = _font("kai", rng.randint(22, 27))
        if font is not None:  # the signature, in blue ink, not quite in the middle
            draw.text(
                (columns[3] + rng.randint(16, 90), y + rng.randint(5, 12)),
                name,
                font=font,
                fill=(28, 46, 120),
            )
    return _scanned_pdf(image, rng, grey=True)


def _word(item: DemoFile) -> bytes:
    """A Word 工作台账 (a table of the quarter's activities) or 工作方案, in the faces Word offices have."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    from .compilations.render.docx import FANG, HEI, LATIN, TITLE_FACE

    rng = random.Random(f"demo:evidence:word:{item.seed}")
    unit, task, period = item.report.unit, item.report.task, item.report.period
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = LATIN, Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FANG)

    def line(text: str, *, face: str = FANG, size: float = 14, bold: bool = False, centre: bool = False):
        paragraph = doc.add_paragraph()
        run = paragraph.add_run(text)
        run.font.size, run.font.bold = Pt(size), bold
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face)
        if centre:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        return paragraph

    short = unit.short_name or unit.name
    if item.topic == "ledger":
        line(f"{short}{period.year}年第{period.quarter}季度", face=TITLE_FACE, size=20, centre=True)
        line(f"{_quoted(task.title)}工作台账", face=TITLE_FACE, size=20, centre=True)
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, head in zip(
            table.rows[0].cells, ("序号", "时间", "工作内容", "参与人数", "佐证材料"), strict=True
        ):
            cell.text = head
        first = period.starts_on
        for n in range(rng.randint(4, 8)):
            day = first + dt.timedelta(days=rng.randint(0, 85))
            cells = table.add_row().cells
            cells[0].text = str(n + 1)
            cells[1].text = f"{day.month}月{day.day}日"
            cells[2].text = rng.choice(PROGRESS_DETAILS)[:40].rstrip("，、") + "。"
            cells[3].text = f"{rng.randint(20, 400)}人次"
            cells[4].text = rng.choice(("照片", "会议纪要", "签到表", "照片、简报", "新闻链接"))
        line(
            f"填报人：{unit.short_name or unit.name}联络员    填报日期：{_cn_date(timezone.localtime(item.uploaded).date())}",
            size=12,
        )
    else:
        line(f"{short}{_quoted(task.title)}工作方案", face=TITLE_FACE, size=22, centre=True)
        line(
            "为深入贯彻落实党的民族政策，推动创建全国民族团结进步示范市各项任务落地见效，结合我单位实际，制定本方案。"
        )
        for head, text in (
            ("一、指导思想", "以铸牢中华民族共同体意识为主线，坚持共同团结奋斗、共同繁荣发展。"),
            ("二、工作目标", f"对照实施方案任务分工，全面完成{_quoted(task.title)}各项任务。"),
            ("三、主要措施", "".join(rng.sample(PROGRESS_DETAILS, 2))),
            ("四、工作要求", rng.choice(NEXT_STEPS)),
        ):
            line(head, face=HEI, size=16)
            line(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def populate_demo_evidence(*, campaign: Campaign, stdout=None) -> int:
    """Attach demo files to a few approved reports of each task (see ``EVIDENCE_KINDS``), each stored as an
    upload is (``reports/evidence.py``: its checks, checksum, stored name and thumbnail) and dated while the
    report was being written, with its 添加佐证材料 step. Idempotent: tasks that have files keep them."""
    from django.core.files.base import ContentFile

    from . import evidence as evidence_files

    planned = _plan_files(campaign)
    if not planned:
        return 0
    makers = {"photo": _photo, "scan": _scan, "word": _word, "notice": _notice}
    rows, events = [], []
    with transaction.atomic():
        for item in planned:
            upload = ContentFile(makers[item.kind](item), name=item.original_name)
            kind, sha256, size = evidence_files.check_upload(upload)
            row = Evidence(
                report=item.report,
                kind=Evidence.Kind.FILE,
                original_name=evidence_files.display_name(item.original_name),
                content_type=kind.content_type,
                size=size,
                sha256=sha256,
                caption=item.caption,
                uploaded_by_id=item.report.created_by_id,
            )
            row.file.save(evidence_files.stored_name(kind.extension), upload, save=False)
            if kind.content_type.startswith("image/"):
                thumb = evidence_files.make_thumbnail(upload)
                if thumb is not None:
                    row.thumbnail.save(f"{sha256[:16]}.jpg", thumb, save=False)
            row.save()
            row.uploaded_at = item.uploaded  # auto_now_add stamped the clock: put the upload's time back
            rows.append(row)
            events.append(
                ReportEvent(
                    report=item.report,
                    action=Action.EVIDENCE_ADDED,
                    actor_id=item.report.created_by_id,
                    at=item.uploaded,
                    comment=item.caption,
                    from_state=item.state,
                    to_state=item.state,
                    version=item.version,
                )
            )
        Evidence.objects.bulk_update(rows, ["uploaded_at"])
        ReportEvent.objects.bulk_create(events)
    if stdout is not None:
        kinds = Counter(p.kind for p in planned)
        stdout.write(
            f"已为演示报告附上佐证材料 {len(planned)} 个（照片 {kinds['photo']} 张，"
            f"PDF {kinds['notice'] + kinds['scan']} 份，Word {kinds['word']} 份）。"
        )
    return len(planned)
