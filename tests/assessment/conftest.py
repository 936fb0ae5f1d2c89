"""Shared fixtures for the issue-17 tests (测评 and 申报). Kept stable: other test modules build on them.

From ``tests/conftest.py`` (available here as everywhere): ``plan``, ``office_user``, ``leadership_user``,
``liaison_a`` (市委宣传部, leads tasks 3–7), ``liaison_b`` (崆峒区), ``as_office``, ``as_leader``,
``as_liaison_a``, ``api_client``, ``open_period``. Added here: ``unit_leader`` (市委宣传部's 分管领导) and
``small_system``, a 100-point system of the plan with this tree (leaves marked *, links in brackets)::

    1   组织领导              30
      1.1 工作机制              30
        1.1.1* 领导小组        15   [task 1 confirmed]
        1.1.2* 党建考核        15   [task 2 confirmed]
    2   宣传教育              40
      2.1 主题宣传              40
        2.1.1* 宣传阵地        20   [task 3 confirmed, metric of task 3 if any; task 9 suggested]
        2.1.2* 国民教育        20   [task 9 suggested]
    3*  交往交流交融          30   (a leaf at level 1, no links)

``node(system, code)`` fetches one indicator by its code.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assessment.models import Indicator, IndicatorLink, IndicatorSystem
from tasks.models import Task
from tests.conftest import make_user
from units.models import Membership

SMALL_TREE = [
    # code, title, points (leaves only), scoring rule, evidence expected
    ("1", "组织领导", None, "", ""),
    ("1.1", "工作机制", None, "", ""),
    (
        "1.1.1",
        "成立创建工作领导小组，主要领导任组长",
        "15",
        "成立得 10 分，定期研究得 5 分。",
        "成立文件、会议纪要",
    ),
    ("1.1.2", "将创建工作纳入党建考核", "15", "纳入考核得 15 分。", "考核办法"),
    ("2", "宣传教育", None, "", ""),
    ("2.1", "主题宣传", None, "", ""),
    ("2.1.1", "建设民族团结进步宣传阵地", "20", "每建成一处得 2 分，最高 20 分。", "阵地照片、名录"),
    ("2.1.2", "开展国民教育和学校民族团结教育", "20", "覆盖全部学校得 20 分。", "课程安排、活动照片"),
    ("3", "促进各民族交往交流交融", "30", "按互嵌式社区建设情况评分。", "工作台账"),
]


def node(system: IndicatorSystem, code: str) -> Indicator:
    return Indicator.objects.get(system=system, code=code)


def build_small_system(campaign, *, name: str = "测试指标体系") -> IndicatorSystem:
    system = IndicatorSystem.objects.create(
        campaign=campaign, name=name, full_score=Decimal("100"), pass_score=Decimal("90")
    )
    by_code: dict[str, Indicator] = {}
    for order, (code, title, points, rule, evidence) in enumerate(SMALL_TREE):
        parent = by_code.get(code.rpartition(".")[0])
        by_code[code] = Indicator.objects.create(
            system=system,
            parent=parent,
            code=code,
            title=title,
            level=code.count(".") + 1,
            points=Decimal(points or "0"),
            scoring_rule=rule,
            evidence_expected=evidence,
            order=order,
        )
    tasks = {t.number: t for t in Task.objects.filter(campaign=campaign, number__in=[1, 2, 3, 9])}
    confirmed, suggested = IndicatorLink.State.CONFIRMED, IndicatorLink.State.SUGGESTED
    for code, number, state in [
        ("1.1.1", 1, confirmed),
        ("1.1.2", 2, confirmed),
        ("2.1.1", 3, confirmed),
        ("2.1.1", 9, suggested),
        ("2.1.2", 9, suggested),
    ]:
        IndicatorLink.objects.create(
            indicator=by_code[code], task=tasks[number], state=state, similarity=0.2, shared_words="宣传"
        )
    return system


@pytest.fixture
def small_system(plan) -> IndicatorSystem:
    return build_small_system(plan)


@pytest.fixture
def unit_leader(unit_a):
    user = make_user("leader_a", surname="孙", given="分管")
    Membership.objects.create(user=user, unit=unit_a, role=Membership.Role.LEADER, phone="13800000003")
    return user
