"""The score dashboard: totals per branch, unscored leaves, the gap to the pass score, the leaves that would
close it most cheaply, recent score rows; leadership reads it, unit people and strangers do not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import scoring
from campaign.models import ReportingPeriod
from reports.models import ProgressReport
from tasks.models import Responsibility
from tests.assessment.conftest import node
from tests.assessment.test_evidence_picks import add_file
from tests.factories import make_report

APPROVED = ProgressReport.State.APPROVED


def period(year, quarter) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=year, quarter=quarter)


def score(system, code, value, by, reason="依据材料评定"):
    leaf = node(system, code)
    account = getattr(leaf, "account", None)
    scoring.score_save(
        indicator=leaf, by=by, score=value, justification=reason, version=account.version if account else 0
    )


@pytest.fixture
def scored(small_system, office_user):
    """1.1.1 = 15/15, 1.1.2 = 10/15, 2.1.1 = 12/20, 2.1.2 unscored (20), 3 = 20/30; total 57, gap 33.
    2.1.1's task 3 reported, with files, by all its 9 units in 2024 Q1: readiness 100 %, hint 20."""
    for r in Responsibility.objects.filter(task__number=3):
        add_file(make_report(period=period(2024, 1), unit=r.unit, task=3, state=APPROVED))
    for code, value in [("1.1.1", "15"), ("1.1.2", "10"), ("2.1.1", "12"), ("3", "20")]:
        score(small_system, code, value, office_user)
    return small_system


def board_of(system):
    return scoring.score_board(system, scoring.hint_window(system.campaign))


def test_totals_per_branch_and_the_gap(scored):
    board = board_of(scored)
    rows = {b.indicator.code: (b.points, b.score, b.unscored, b.leaves) for b in board.branches}
    assert rows == {
        "1": (Decimal(30), Decimal(25), 0, 2),
        "1.1": (Decimal(30), Decimal(25), 0, 2),
        "2": (Decimal(40), Decimal(12), 1, 2),
        "2.1": (Decimal(40), Decimal(12), 1, 2),
        "3": (Decimal(30), Decimal(20), 0, 1),  # a 一级 indicator that is itself a leaf
    }
    assert (board.total, board.total_points, board.scored, board.unscored) == (
        Decimal(57),
        Decimal(100),
        4,
        1,
    )
    assert board.gap == Decimal(33) and not board.passes
    # what the data supports: each leaf's higher of score and hint (2.1.1: hint 20 > score 12)
    assert board.hinted_total == Decimal(15 + 10 + 20 + 0 + 20)


def test_cheapest_leaves_come_by_work_per_point_then_missing_points(scored):
    board = board_of(scored)
    rows = [(c.leaf.indicator.code, c.leaf.missing, c.cumulative, c.closes_gap) for c in board.cheapest]
    # 2.1.1 first: its evidence already supports all its points (work per point 0); then, all at readiness 0,
    # the most missing points first: 2.1.2 (20), 3 (10), 1.1.2 (5). 8 + 20 + 10 = 38 ≥ 33 closes the gap.
    assert rows == [
        ("2.1.1", Decimal(8), Decimal(8), True),
        ("2.1.2", Decimal(20), Decimal(28), True),
        ("3", Decimal(10), Decimal(38), True),
        ("1.1.2", Decimal(5), Decimal(43), False),
    ]
    assert board.cheapest[0].leaf.supported == Decimal(8)
    assert board.cheapest_closes


def test_no_gap_once_the_pass_score_is_reached(scored, office_user):
    score(scored, "2.1.2", "20", office_user)
    score(scored, "2.1.1", "20", office_user)
    board = board_of(scored)
    assert board.total == Decimal(85) and board.gap == Decimal(5)
    score(scored, "3", "30", office_user)
    board = board_of(scored)
    assert board.total == Decimal(95) and board.gap == 0 and board.passes
    assert [c.closes_gap for c in board.cheapest] == [False]  # 1.1.2 still short, listed, not needed


def test_board_takes_a_fixed_number_of_queries(scored, office_user, unit_b):
    window = scoring.hint_window(scored.campaign)
    with CaptureQueriesContext(connection) as before:
        scoring.score_board(scored, window)
    for number in (1, 2):
        for p in (period(2024, 2), period(2024, 3)):
            add_file(make_report(period=p, unit=unit_b, task=number, state=APPROVED))
    score(scored, "2.1.2", "5", office_user)
    with CaptureQueriesContext(connection) as after:
        scoring.score_board(scored, window)
    assert len(after) == len(before)


def test_office_page_shows_totals_cheapest_and_history(as_office, scored):
    response = as_office.get(f"/assessment/systems/{scored.pk}/scores/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="total">57' in html
    assert 'data-testid="gap">33' in html
    assert "“最省力补分”按每补 1 分所需的补充工作量排序" in html
    assert html.count('data-testid="cheap-row"') == 4
    assert "张主任" in html and "依据材料评定" in html  # who scored what, when
    assert f'href="/assessment/indicators/{node(scored, "2.1.1").pk}/"' in html


def test_leadership_reads_the_board(as_leader, scored):
    response = as_leader.get(f"/assessment/systems/{scored.pk}/scores/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="total">57' in html and "领导账号只能查看" in html


def test_window_choice_changes_the_hints(as_office, scored):
    q1 = period(2024, 1)
    later = as_office.get(
        f"/assessment/systems/{scored.pk}/scores/?from={period(2024, 2).pk}&to={period(2024, 4).pk}"
    )
    board = later.context["board"]
    leaf = next(r for r in board.leaves if r.indicator.code == "2.1.1")
    assert leaf.hint.score == Decimal("0.00")  # the 2024 Q1 reports fall outside the chosen window
    whole = as_office.get(f"/assessment/systems/{scored.pk}/scores/?from={q1.pk}")
    leaf = next(r for r in whole.context["board"].leaves if r.indicator.code == "2.1.1")
    assert leaf.hint.score == Decimal("20.00")
