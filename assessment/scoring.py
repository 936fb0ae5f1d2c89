"""Self-scoring: a rule-based hint per leaf from coverage, the office's score with its justification (every
change leaves a ``ScoreEntry``), and the system's score board (totals per branch, the gap to the pass score,
and the leaves that would close it most cheaply).

The hint (``HINT_RULE`` says it in words on the pages) reads, over a chosen window of quarters:

* reporting — of the (task, unit) responsibilities of the leaf's CONFIRMED-linked tasks, the share with at
  least one APPROVED report in the window (``ProgressReport.State.APPROVED``; lead units per
  ``Responsibility.objects.leads()`` are named apart);
* evidence — of those approved reports, the share carrying at least one evidence file (and the file count);
* targets — of the linked tasks' targets (only the link's metric when the link names one), the rows whose
  light is green (met or on pace) as ``reports.dashboards.selectors.target_progress`` computes them as of the
  window's end. Target progress is never computed here.

readiness = 0.5 × reporting + 0.2 × evidence + 0.3 × targets (without targets: 0.7 × reporting + 0.3 ×
evidence); hint = the leaf's points × readiness, rounded down to 0.5. A leaf without confirmed links gets
no hint: nothing in the portal speaks for it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaign.errors import DomainError
from campaign.lights import GREEN, RED
from campaign.models import ReportingPeriod
from reports.dashboards.selectors import target_progress
from reports.models import Evidence, ProgressReport
from reports.services import clean_text
from tasks.models import Responsibility
from units.access import get_access
from units.models import display_name

from . import picks
from .access import require_edit
from .models import Indicator, IndicatorAccount, IndicatorLink, IndicatorSystem, ScoreEntry
from .selectors import Node, indicator_tree

ZERO = Decimal("0")
HALF = Decimal("0.5")
CENT = Decimal("0.01")
WEIGHTS = {"reporting": Decimal("0.5"), "evidence": Decimal("0.2"), "targets": Decimal("0.3")}
WEIGHTS_NO_TARGETS = {"reporting": Decimal("0.7"), "evidence": Decimal("0.3")}
JUSTIFICATION_MAX = ProgressReport.REMARK_MAX_LENGTH
RECENT_ENTRIES = 30

HINT_RULE = (
    "建议分只依据平台内已有的数据，按所选时段计算：① 报告覆盖——本指标已确认对应任务的责任分工（任务×单位）中，"
    "在所选时段内有审核通过报告的比例；② 佐证——这些报告中附有佐证文件的比例；③ 量化目标——对应任务的量化目标"
    "（对应关系指定了量化指标的，只看该指标）截至时段末为绿灯（已达标或进度正常）的比例，按看板的同一口径计算。"
    "完备度 = 0.5×报告覆盖 + 0.2×佐证 + 0.3×目标（没有量化目标时为 0.7×报告覆盖 + 0.3×佐证），"
    "建议分 = 分值 × 完备度，按 0.5 分向下取整。未确认对应任务的指标不给建议分。建议分只是参考，得分以创建办评定为准。"
)
CHEAPEST_RULE = (
    "“最省力补分”按每补 1 分所需的补充工作量排序：一个指标还差的分 = 分值 − 自评得分（未评分按 0 计）；"
    "每分所需工作量按 (1 − 完备度) 估计——完备度高，说明平台内的报告、佐证和目标进度已支撑大部分分值，"
    "补分主要是整理材料、写好说明；完备度低，则需要补做工作。按工作量从低到高（相同时先列差分多的）依次累加差分，"
    "直到补足与申报分数线的差距。在这一估计下，这是补足差距总工作量最小的顺序。"
)


# ---------------------------------------------------------------- the window


@dataclass(frozen=True)
class HintWindow:
    """The quarters a hint reads: every period of the campaign begun by ``as_of`` between ``first`` and
    ``last`` (both optional)."""

    periods: tuple[ReportingPeriod, ...]
    as_of: dt.date
    first: ReportingPeriod | None = None
    last: ReportingPeriod | None = None
    choices: tuple[ReportingPeriod, ...] = field(default=(), compare=False)  # every period of the campaign

    @property
    def period_ids(self) -> list[int]:
        return [p.pk for p in self.periods]

    @property
    def label(self) -> str:
        if not self.periods:
            return "（所选时段内没有报告期）"
        start, end = self.periods[0], self.periods[-1]
        return start.label if start == end else f"{start.label}至{end.label}"

    def query(self) -> dict[str, str]:
        out = {}
        if self.first is not None:
            out["from"] = str(self.first.pk)
        if self.last is not None:
            out["to"] = str(self.last.pk)
        return out


def hint_window(campaign, *, first=None, last=None, today: dt.date | None = None) -> HintWindow:
    """The window from two period ids (unknown or reversed ones are ignored or swapped; 1 query). Without
    ``last`` the window runs to today; with it, to that quarter's end (``ReportingPeriod.as_of``)."""
    today = today or timezone.localdate()
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter"))
    by_id = {str(p.pk): p for p in periods}
    first_p = by_id.get(str(first or "").strip())
    last_p = by_id.get(str(last or "").strip())
    if first_p and last_p and (first_p.year, first_p.quarter) > (last_p.year, last_p.quarter):
        first_p, last_p = last_p, first_p
    as_of = min(today, last_p.as_of) if last_p else today
    chosen = [
        p
        for p in periods
        if p.starts_on <= as_of
        and (first_p is None or p.starts_on >= first_p.starts_on)
        and (last_p is None or p.starts_on <= last_p.starts_on)
    ]
    return HintWindow(tuple(chosen), as_of, first_p, last_p, tuple(periods))


# ---------------------------------------------------------------- the hint


@dataclass
class Coverage:
    tasks: list[tuple[int, str]] = field(default_factory=list)  # (number, title) of the confirmed links
    expected: int = 0  # (task, unit) responsibilities of active units
    reported: int = 0  # of those, with an approved report in the window
    leads_expected: int = 0
    leads_reported: int = 0
    reports: int = 0  # approved reports in the window
    with_evidence: int = 0  # of those, carrying at least one evidence file
    files: int = 0  # evidence files on them
    targets: int = 0  # target rows (per unit or scope) of the linked tasks
    targets_green: int = 0
    targets_red: int = 0

    @property
    def reporting_share(self) -> Decimal:
        if self.expected:
            return Decimal(self.reported) / Decimal(self.expected)
        return Decimal(1) if self.reports else ZERO

    @property
    def evidence_share(self) -> Decimal:
        return Decimal(self.with_evidence) / Decimal(self.reports) if self.reports else ZERO

    @property
    def targets_share(self) -> Decimal | None:
        return Decimal(self.targets_green) / Decimal(self.targets) if self.targets else None


@dataclass
class Hint:
    points: Decimal
    score: Decimal | None  # None: no confirmed link, nothing to go on
    readiness: Decimal  # 0..1
    coverage: Coverage
    reasons: list[str]
    window_label: str

    @property
    def readiness_percent(self) -> str:
        return _pct(self.readiness)


def _pct(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('1'))}%"


def points_text(value: Decimal | None) -> str:
    """12.50 → 12.5, 15.00 → 15"""
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(CENT):f}".rstrip("0").rstrip(".")
    return text or "0"


def _round_down_half(value: Decimal) -> Decimal:
    return ((value * 2).to_integral_value(rounding=ROUND_FLOOR) / 2).quantize(CENT)


def _hint(points: Decimal, cov: Coverage, window: HintWindow) -> Hint:
    if not cov.tasks:
        reasons = [
            "尚未确认对应任务：平台内没有可依据的报告，不给建议分。请先在“对应任务”中确认本指标对应的任务。"
        ]
        return Hint(points, None, ZERO, cov, reasons, window.label)
    tasks = "、".join(f"任务{n}" for n, _ in cov.tasks)
    reasons = [f"已确认对应任务 {len(cov.tasks)} 项：{tasks}。"]
    lead = (
        f"；牵头单位 {cov.leads_reported}/{cov.leads_expected} 有审核通过的报告" if cov.leads_expected else ""
    )
    if cov.expected:
        reasons.append(
            f"报告覆盖：责任分工 {cov.expected} 项（任务×责任单位）中，{cov.reported} 项在{window.label}有审核通过的报告"
            f"（{_pct(cov.reporting_share)}）{lead}。"
        )
    else:
        reasons.append(f"报告覆盖：对应任务没有在册的责任单位，按{window.label}是否有审核通过的报告计。")
    if cov.reports:
        reasons.append(
            f"佐证：审核通过的报告 {cov.reports} 份，其中 {cov.with_evidence} 份附有佐证文件"
            f"（{_pct(cov.evidence_share)}），佐证文件共 {cov.files} 个。"
        )
    else:
        reasons.append(f"佐证：{window.label}没有审核通过的报告，也就没有可用的佐证文件。")
    targets = cov.targets_share
    if targets is None:
        reasons.append("量化目标：对应任务没有量化目标，本项不计入（其权重并入报告覆盖和佐证）。")
        weights = WEIGHTS_NO_TARGETS
        readiness = weights["reporting"] * cov.reporting_share + weights["evidence"] * cov.evidence_share
        formula = f"0.7×{_pct(cov.reporting_share)} + 0.3×{_pct(cov.evidence_share)}"
    else:
        behind = cov.targets - cov.targets_green - cov.targets_red
        reasons.append(
            f"量化目标：截至{window.as_of.year}年{window.as_of.month}月{window.as_of.day}日，对应任务的目标 {cov.targets} 项中"
            f" {cov.targets_green} 项已达标或进度正常（{_pct(targets)}），{behind} 项滞后，{cov.targets_red} 项逾期未完成。"
        )
        weights = WEIGHTS
        readiness = (
            weights["reporting"] * cov.reporting_share
            + weights["evidence"] * cov.evidence_share
            + weights["targets"] * targets
        )
        formula = f"0.5×{_pct(cov.reporting_share)} + 0.2×{_pct(cov.evidence_share)} + 0.3×{_pct(targets)}"
    readiness = min(max(readiness, ZERO), Decimal(1))
    score = min(_round_down_half(points * readiness), points)
    reasons.append(
        f"完备度 = {formula} = {_pct(readiness)}；建议分 = {points_text(points)} × {_pct(readiness)}"
        f"，按 0.5 分向下取整为 {points_text(score)} 分。"
    )
    return Hint(points, score, readiness, cov, reasons, window.label)


def hints_for(leaves: list[Indicator], window: HintWindow) -> dict[int, Hint]:
    """leaf id → its hint, for any number of leaves of one system in a fixed number of queries (links,
    responsibilities, leads, approved reports with their evidence counted, and ``target_progress``'s 5–7)."""
    if not leaves:
        return {}
    leaf_ids = [leaf.pk for leaf in leaves]
    links: dict[int, list[tuple[int, int | None, int, str]]] = defaultdict(list)
    for indicator_id, task_id, metric_id, number, title in (
        IndicatorLink.objects.filter(indicator_id__in=leaf_ids, state=IndicatorLink.State.CONFIRMED)
        .order_by("task__number", "id")
        .values_list("indicator_id", "task_id", "metric_id", "task__number", "task__title")
    ):
        links[indicator_id].append((task_id, metric_id, number, title))
    task_ids = {task_id for rows in links.values() for task_id, *_ in rows}

    responsible: dict[int, set[int]] = defaultdict(set)
    leads: dict[int, set[int]] = defaultdict(set)
    # per (task, unit): approved reports, those with evidence files, files
    done: dict[tuple[int, int], tuple[int, int, int]] = {}
    target_rows: dict[int, list[tuple[int, str]]] = defaultdict(list)  # task → (metric id, light)
    if task_ids:
        active = Responsibility.objects.filter(task_id__in=task_ids, unit__is_active=True)
        for task_id, unit_id in active.values_list("task_id", "unit_id"):
            responsible[task_id].add(unit_id)
        for task_id, unit_id in active.leads().values_list("task_id", "unit_id"):
            leads[task_id].add(unit_id)
        if window.periods:
            has_file = Q(evidence__kind=Evidence.Kind.FILE)
            for task_id, unit_id, n, with_files, files in (
                ProgressReport.objects.filter(
                    state=ProgressReport.State.APPROVED, task_id__in=task_ids, period_id__in=window.period_ids
                )
                .values_list("task_id", "unit_id")
                .annotate(
                    n=Count("id", distinct=True),
                    with_files=Count("id", filter=has_file, distinct=True),
                    files=Count("evidence", filter=has_file),
                )
                .order_by()
            ):
                done[(task_id, unit_id)] = (n, with_files, files)
        campaign = leaves[0].system.campaign
        for row in target_progress(campaign, as_of=window.as_of):
            if row.target.task_id in task_ids:
                target_rows[row.target.task_id].append((row.target.metric_id, row.light))

    per_task: dict[int, tuple[int, int, int]] = {}
    for (task_id, _unit_id), counts in done.items():
        before = per_task.get(task_id, (0, 0, 0))
        per_task[task_id] = tuple(a + b for a, b in zip(before, counts, strict=True))

    out = {}
    for leaf in leaves:
        cov = Coverage()
        seen_tasks: set[int] = set()
        whole_task: set[int] = set()
        metrics_of: dict[int, set[int]] = defaultdict(set)
        for task_id, metric_id, number, title in links.get(leaf.pk, ()):
            if task_id not in seen_tasks:
                seen_tasks.add(task_id)
                cov.tasks.append((number, title))
            if metric_id is None:
                whole_task.add(task_id)
            else:
                metrics_of[task_id].add(metric_id)
        for task_id in seen_tasks:
            units = responsible.get(task_id, set())
            cov.expected += len(units)
            cov.leads_expected += len(leads.get(task_id, ()))
            for unit_id in units:
                if (task_id, unit_id) in done:
                    cov.reported += 1
                    if unit_id in leads.get(task_id, ()):
                        cov.leads_reported += 1
            n, with_files, files = per_task.get(task_id, (0, 0, 0))
            cov.reports += n
            cov.with_evidence += with_files
            cov.files += files
            for metric_id, light in target_rows.get(task_id, ()):
                if task_id in whole_task or metric_id in metrics_of[task_id]:
                    cov.targets += 1
                    cov.targets_green += light == GREEN
                    cov.targets_red += light == RED
        out[leaf.pk] = _hint(leaf.points, cov, window)
    return out


def hint_for(indicator: Indicator, window: HintWindow) -> Hint:
    return hints_for([indicator], window)[indicator.pk]


# ---------------------------------------------------------------- the office's score


def parse_score(raw, points: Decimal) -> Decimal | None:
    """What the office typed as a score: empty clears it; otherwise a number from 0 to the leaf's points
    with at most two decimals (full-width digits and a trailing 分 are accepted)."""
    if raw is None:
        return None
    if isinstance(raw, Decimal | int | float):
        text = str(raw)
    else:
        text = str(raw).strip()
        text = (
            text.translate(str.maketrans("０１２３４５６７８９．", "0123456789.")).removesuffix("分").strip()
        )
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"得分“{raw}”不是数字，请填写如 12 或 12.5 的分数。", code="score") from None
    if not value.is_finite():
        raise DomainError(f"得分“{raw}”不是数字，请填写如 12 或 12.5 的分数。", code="score")
    if value < 0 or value > points:
        raise DomainError(
            f"得分须在 0 到 {points_text(points)} 分（本指标分值）之间，您填写的是 {raw}。", code="score"
        )
    if value != value.quantize(CENT):
        raise DomainError("得分最多保留两位小数（如 12.5 或 12.25）。", code="score")
    return value.quantize(CENT)


def needs_justification(score: Decimal | None, hint: Decimal | None, points: Decimal) -> bool:
    """A score below full points, or one that differs from the hint (or given where there is no hint),
    needs its reason written down."""
    if score is None:
        return False
    return score < points or hint is None or score != hint


def justification_required_message(score: Decimal, hint: Decimal | None, points: Decimal) -> str:
    why = []
    if score < points:
        why.append(f"低于本指标分值 {points_text(points)} 分")
    if hint is None:
        why.append("本指标没有系统建议分")
    elif score != hint:
        why.append(f"与系统建议分 {points_text(hint)} 分不同")
    return f"得分 {points_text(score)} 分{'，'.join(why)}，请填写评分理由（说明依据哪些材料、扣分在哪里）。"


@transaction.atomic
def score_save(
    *,
    indicator: Indicator,
    by,
    score,
    justification: str,
    version: int | str,
    window: HintWindow | None = None,
) -> IndicatorAccount:
    """Set (or clear) the office's score of a leaf with its justification. Refused with a message, writing
    nothing: a score outside 0..points or with more than two decimals, a missing justification where one is
    required (``needs_justification``), a stale ``version``. Every change writes a ``ScoreEntry`` (who, when,
    the score, the hint at that moment, the justification); saving the same again writes nothing."""
    require_edit(get_access(by))
    picks.require_leaf(indicator)
    value = parse_score(score, indicator.points)
    reason = clean_text(justification, label="评分理由", limit=JUSTIFICATION_MAX)
    window = window or hint_window(indicator.system.campaign)
    hint = hint_for(indicator, window).score
    if needs_justification(value, hint, indicator.points) and not reason:
        raise DomainError(justification_required_message(value, hint, indicator.points), code="justification")
    row = picks.locked_account(indicator, picks.parse_version(version))
    if row.pk is not None and row.score == value and row.justification == reason:
        return row
    if row.pk is None and value is None and not reason:
        return row
    return _write_score(row, indicator, by, value, hint, reason)


def _write_score(
    row: IndicatorAccount, indicator: Indicator, by, value, hint, reason: str
) -> IndicatorAccount:
    row.score = value
    row.justification = reason
    row = picks.save_account_row(row, by)
    ScoreEntry.objects.create(
        indicator=indicator, score=value, hint=hint, justification=reason, by=by, at=timezone.now()
    )
    return row


def _named(entries: list[ScoreEntry]) -> list[ScoreEntry]:
    for entry in entries:
        entry.by_name = display_name(entry.by) if entry.by is not None else "—"
    return entries


def score_history(indicator: Indicator, limit: int = 50) -> list[ScoreEntry]:
    """The leaf's score changes, newest first, each with ``by_name`` (1 query)."""
    return _named(
        list(
            ScoreEntry.objects.filter(indicator=indicator).select_related("by").order_by("-at", "-id")[:limit]
        )
    )


# ---------------------------------------------------------------- the board


@dataclass
class BranchRow:
    indicator: Indicator
    level: int
    points: Decimal
    score: Decimal
    leaves: int
    unscored: int

    @property
    def missing(self) -> Decimal:
        return self.points - self.score

    @property
    def any_scored(self) -> bool:
        """At least one of its leaves is scored (otherwise its score is shown as —, not 0)."""
        return self.unscored < self.leaves


@dataclass
class LeafRow:
    indicator: Indicator
    points: Decimal
    score: Decimal | None
    hint: Hint
    account: IndicatorAccount | None

    @property
    def missing(self) -> Decimal:
        return self.points - (self.score or ZERO)

    @property
    def effort(self) -> Decimal:
        """Estimated work per missing point: 1 − readiness."""
        return Decimal(1) - self.hint.readiness

    @property
    def supported(self) -> Decimal:
        """Of the missing points, those the hint already finds backed by the portal's data."""
        if self.hint.score is None:
            return ZERO
        return max(ZERO, min(self.hint.score, self.points) - (self.score or ZERO))


@dataclass
class CheapRow:
    leaf: LeafRow
    cumulative: Decimal
    closes_gap: bool  # part of the set that closes the gap


@dataclass
class ScoreBoard:
    system: IndicatorSystem
    window: HintWindow
    roots: list[Node]
    branches: list[BranchRow]
    leaves: list[LeafRow]
    total_points: Decimal
    total: Decimal
    scored: int
    unscored: int
    hinted_total: Decimal  # Σ max(score, hint): what the data already supports with the scores given
    cheapest: list[CheapRow]
    recent: list[ScoreEntry]

    @property
    def pass_score(self) -> Decimal:
        return self.system.pass_score

    @property
    def gap(self) -> Decimal:
        return gap_to_pass(self.pass_score, self.total)

    @property
    def passes(self) -> bool:
        return not self.gap

    @property
    def cheapest_closes(self) -> bool:
        return any(row.closes_gap for row in self.cheapest) and self.cheapest[-1].cumulative >= self.gap


def gap_to_pass(pass_score: Decimal, total: Decimal) -> Decimal:
    """Points still needed to reach the pass score (0 once reached): the score board's and the dossier's."""
    return max(ZERO, pass_score - total)


def branch_rows(roots: list[Node], scores: dict[int, Decimal | None]) -> list[BranchRow]:
    """The 一级 and 二级 indicators in tree order with their points, the sum of their leaves' scores (``scores``:
    leaf id → the office's score or None) and how many of their leaves are unscored. The one rule for branch
    totals: the score board and the dossier's 自评得分汇总表."""
    rows: list[BranchRow] = []
    for root in roots:
        for node in root.walk():
            if node.indicator.level > 2:
                continue
            given = [scores.get(leaf.indicator.pk) for leaf in node.leaves()]
            rows.append(
                BranchRow(
                    node.indicator,
                    node.indicator.level,
                    node.points,
                    sum((score for score in given if score is not None), ZERO),
                    len(given),
                    sum(1 for score in given if score is None),
                )
            )
    return rows


def cheapest_leaves(leaves: list[LeafRow], gap: Decimal, *, at_least: int = 5) -> list[CheapRow]:
    """Leaves still short of their points, by estimated work per point (1 − readiness), then the most
    missing points first; greedily added until their missing points cover ``gap`` (``CHEAPEST_RULE``).
    Listed: the leaves that close the gap, and at least ``at_least`` rows."""
    short = sorted(
        (leaf for leaf in leaves if leaf.missing > 0),
        key=lambda leaf: (leaf.effort, -leaf.missing, leaf.indicator.order, leaf.indicator.pk),
    )
    rows: list[CheapRow] = []
    total = ZERO
    for leaf in short:
        closing = total < gap
        total += leaf.missing
        if not closing and len(rows) >= at_least:
            break
        rows.append(CheapRow(leaf, total, closing))
    return rows


def score_board(system: IndicatorSystem, window: HintWindow, *, recent: int = RECENT_ENTRIES) -> ScoreBoard:
    """Everything the score dashboard shows, in a fixed number of queries: the tree (1), the accounts (1),
    the hints (``hints_for``) and the latest ``ScoreEntry`` rows (1)."""
    roots = indicator_tree(system)
    for node in roots:  # the hints need the system's campaign; share the one already loaded
        for leaf in node.leaves():
            leaf.indicator.system = system
    leaf_nodes = [leaf for root in roots for leaf in root.leaves()]
    accounts = {
        a.indicator_id: a
        for a in IndicatorAccount.objects.filter(indicator__system=system).select_related("updated_by")
    }
    hints = hints_for([n.indicator for n in leaf_nodes], window)
    leaf_rows = {
        n.indicator.pk: LeafRow(
            n.indicator,
            n.points,
            accounts[n.indicator.pk].score if n.indicator.pk in accounts else None,
            hints[n.indicator.pk],
            accounts.get(n.indicator.pk),
        )
        for n in leaf_nodes
    }

    branches = branch_rows(roots, {pk: row.score for pk, row in leaf_rows.items()})
    ordered = [leaf_rows[n.indicator.pk] for n in leaf_nodes]
    total = sum((r.score for r in ordered if r.score is not None), ZERO)
    hinted = sum((max(r.score or ZERO, r.hint.score or ZERO) for r in ordered), ZERO)
    gap = gap_to_pass(system.pass_score, total)
    entries = _named(
        list(
            ScoreEntry.objects.filter(indicator__system=system)
            .select_related("indicator", "by")
            .order_by("-at", "-id")[:recent]
        )
    )
    return ScoreBoard(
        system=system,
        window=window,
        roots=roots,
        branches=branches,
        leaves=ordered,
        total_points=sum((r.points for r in ordered), ZERO),
        total=total,
        scored=sum(1 for r in ordered if r.score is not None),
        unscored=sum(1 for r in ordered if r.score is None),
        hinted_total=hinted,
        cheapest=cheapest_leaves(ordered, gap),
        recent=entries,
    )
