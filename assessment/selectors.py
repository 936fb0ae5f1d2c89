"""Reading an indicator system: the tree, with a branch's points the sum of its leaves' (never stored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .models import Indicator, IndicatorSystem


@dataclass
class Node:
    indicator: Indicator
    children: list[Node] = field(default_factory=list)
    points: Decimal = Decimal("0")  # the leaf's own points, or the sum over the branch's leaves

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def leaves(self) -> list[Node]:
        if self.is_leaf:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def walk(self):
        """This node, then its descendants, depth first in order (the contents' order)."""
        yield self
        for child in self.children:
            yield from child.walk()


def indicator_tree(system: IndicatorSystem) -> list[Node]:
    """The system's roots (一级指标) with their subtrees, in ``order``; one query."""
    indicators = list(Indicator.objects.filter(system=system).order_by("order", "id"))
    nodes = {indicator.pk: Node(indicator) for indicator in indicators}
    roots: list[Node] = []
    for indicator in indicators:
        node = nodes[indicator.pk]
        parent = nodes.get(indicator.parent_id)
        (parent.children if parent else roots).append(node)

    def total(node: Node) -> Decimal:
        node.points = (
            node.indicator.points if node.is_leaf else sum((total(c) for c in node.children), Decimal(0))
        )
        return node.points

    for root in roots:
        total(root)
    return roots


def leaves(system: IndicatorSystem) -> list[Node]:
    """Every leaf (the scored indicators), in contents order."""
    return [leaf for root in indicator_tree(system) for leaf in root.leaves()]


def system_points(system: IndicatorSystem) -> Decimal:
    """The system's total: the sum of its leaves' points (should equal ``system.full_score``)."""
    return sum((leaf.points for leaf in leaves(system)), Decimal(0))
