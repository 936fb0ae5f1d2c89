"""Suggested links leaf → task (and metric) from the words they share. Reads only; ``services.suggest_links``
writes the suggestions and leaves the office's decisions alone.

Words are Chinese character pairs (bigrams) inside runs of Chinese text, minus the pairs of words every
indicator and task uses (民族团结, 进步, 工作, 开展 …). The score says how much of the indicator's wording is
found in the task, weighting each shared pair by how rare it is among the plan's tasks:

    similarity = Σ over pairs the indicator shares with the task of  w_indicator · w_task · idf
                 ───────────────────────────────────────────────────────────────────────────
                 Σ over all pairs of the indicator of  w_indicator · idf

where w_indicator is 1 for a pair of the indicator's title and 0.5 for one only in its scoring rule or
evidence, w_task is 1 for a pair of the task's title and 0.7 for one only in its text, and
idf = ln((N + 1) / (tasks with the pair + 1)) + 1 over the N tasks of the plan. 0 shares nothing; 1 means every
pair of the indicator's title is in the task's title. A leaf gets at most ``per_leaf`` suggestions of at least
``threshold`` sharing at least ``min_shared`` pairs. When one of the task's target metrics shares words with the
leaf, the suggestion names that metric too.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from tasks.models import Metric, Target, Task

from .models import IndicatorSystem
from .selectors import leaves

THRESHOLD = 0.15
PER_LEAF = 3
MIN_SHARED = 2

# Words nearly every indicator and task says: their character pairs carry no meaning for the match.
STOP_TEXT = (
    "铸牢中华民族共同体意识 民族团结进步 民族团结 中华民族 各民族 少数民族 "
    "民族 团结 进步 创建示范 示范市 示范州 示范区 创建 工作 开展 加强 "
    "推进 推动 深入 全面 积极 建立 健全 完善 落实 组织 实施 情况 有关 "
    "相关 部门 单位 各级 全市 本地 地区 我市 市州 坚持 持续 不断 进一步 "
    "切实 有效 广泛 充分 做好 提高 提升 形成 制定 机制 体系 建设 加大 "
    "力度 以上 以下 每年 年度 定期 及时 得分 不得分 满分 分值 评分 佐证 "
    "材料 资料 文件 相关材料 是否 达到 要求 符合 按照 根据 通过 围绕 "
    "结合 打造 发挥 作用 重要 主要 工作方案 活动 不少于 至少 "
)
STOP_WORDS = tuple(STOP_TEXT.split())

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


STOP_RE = re.compile("|".join(sorted(STOP_WORDS, key=len, reverse=True)))
# Characters that glue words together: a pair with one of them is not a word ("的和", "等活").
STOP_CHARS = frozenset("的和与及等在对为把将是有中上下各个项好并或")


def _pairs(text: str) -> set[str]:
    return {run[i : i + 2] for run in CJK_RUN.findall(text or "") for i in range(len(run) - 1)}


def words(text: str) -> set[str]:
    """The meaningful character pairs of ``text``: the stop words cut out first (so 民族工作 leaves no 族工),
    then no pair with a glue character."""
    return {
        pair
        for pair in _pairs(STOP_RE.sub(" ", text or ""))
        if not (pair[0] in STOP_CHARS or pair[1] in STOP_CHARS)
    }


def weighted(primary: str, secondary: str, secondary_weight: float) -> dict[str, float]:
    found = dict.fromkeys(words(secondary), secondary_weight)
    found.update(dict.fromkeys(words(primary), 1.0))
    return found


def readable(text: str, shared: set[str]) -> list[str]:
    """The shared pairs as the longest runs of ``text`` they cover: {宣传, 传阵, 阵地} in 宣传阵地 → 宣传阵地."""
    found: list[str] = []
    for run in CJK_RUN.findall(text or ""):
        i = 0
        while i < len(run) - 1:
            if run[i : i + 2] in shared:
                j = i + 1
                while j < len(run) - 1 and run[j : j + 2] in shared:
                    j += 1
                word = run[i : j + 1]
                if word not in found:
                    found.append(word)
                i = j
            i += 1
    return found


@dataclass
class Suggestion:
    indicator: object  # Indicator
    task: Task
    metric: Metric | None
    similarity: float
    shared: list[str]  # the shared words, readable, in the indicator's wording

    @property
    def shared_text(self) -> str:
        text = "、".join(self.shared)
        return text if len(text) <= 300 else text[:299] + "…"


@dataclass
class _TaskWords:
    task: Task
    words: dict[str, float]
    metrics: list[tuple[Metric, set[str]]]


def _task_words(campaign_id: int) -> list[_TaskWords]:
    tasks = list(Task.objects.filter(campaign_id=campaign_id).order_by("number"))
    metrics: dict[int, list[Metric]] = {}
    for target in (
        Target.objects.filter(task__campaign_id=campaign_id).select_related("metric").order_by("id")
    ):
        found = metrics.setdefault(target.task_id, [])
        if target.metric not in found:
            found.append(target.metric)
    return [
        _TaskWords(
            task=task,
            words=weighted(task.title, task.text, 0.7),
            metrics=[(m, words(m.name)) for m in metrics.get(task.pk, [])],
        )
        for task in tasks
    ]


def idf_table(task_words: list[_TaskWords]) -> dict[str, float]:
    df = Counter(pair for t in task_words for pair in t.words)
    n = len(task_words)
    return {pair: math.log((n + 1) / (count + 1)) + 1 for pair, count in df.items()}


def score(
    leaf_words: dict[str, float], task_words: dict[str, float], idf: dict[str, float]
) -> tuple[float, set]:
    default = math.log(len(idf) + 1) + 1 if idf else 1.0
    total = sum(w * idf.get(p, default) for p, w in leaf_words.items())
    shared = leaf_words.keys() & task_words.keys()
    if not total or not shared:
        return 0.0, set()
    found = sum(leaf_words[p] * task_words[p] * idf.get(p, default) for p in shared)
    return found / total, shared


def suggestions(
    system: IndicatorSystem,
    *,
    threshold: float = THRESHOLD,
    per_leaf: int = PER_LEAF,
    min_shared: int = MIN_SHARED,
) -> list[Suggestion]:
    """For every leaf, the best-matching tasks above ``threshold``, best first."""
    task_words = _task_words(system.campaign_id)
    idf = idf_table(task_words)
    found: list[Suggestion] = []
    for node in leaves(system):
        leaf = node.indicator
        leaf_text = f"{leaf.scoring_rule} {leaf.evidence_expected}"
        leaf_words = weighted(leaf.title, leaf_text, 0.5)
        ranked = []
        for t in task_words:
            similarity, shared = score(leaf_words, t.words, idf)
            if similarity >= threshold and len(shared) >= min_shared:
                ranked.append((similarity, t, shared))
        ranked.sort(key=lambda item: (-item[0], item[1].task.number))
        for similarity, t, shared in ranked[:per_leaf]:
            metric = None
            best = 0
            for m, m_words in t.metrics:
                overlap = len(m_words & leaf_words.keys())
                if overlap > best and overlap >= max(1, len(m_words) // 2):
                    metric, best = m, overlap
            found.append(
                Suggestion(
                    indicator=leaf,
                    task=t.task,
                    metric=metric,
                    similarity=round(similarity, 3),
                    shared=readable(f"{leaf.title} {leaf_text}", shared),
                )
            )
    return found
