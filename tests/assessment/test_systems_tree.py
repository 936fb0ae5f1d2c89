"""The tree's points add up: a branch is the sum of its leaves, the system the sum of all leaves."""

from decimal import Decimal

from assessment.selectors import indicator_tree, leaves, system_points


def test_small_system_adds_up(small_system):
    roots = indicator_tree(small_system)
    assert [r.indicator.code for r in roots] == ["1", "2", "3"]
    assert [r.points for r in roots] == [Decimal(30), Decimal(40), Decimal(30)]
    assert roots[0].children[0].points == Decimal(30)
    assert [leaf.indicator.code for leaf in leaves(small_system)] == ["1.1.1", "1.1.2", "2.1.1", "2.1.2", "3"]
    assert system_points(small_system) == small_system.full_score == Decimal(100)
