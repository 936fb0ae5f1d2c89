"""The demo's example system: loaded from fixtures/ through the importer, marked as an example, its clear
links confirmed, idempotent."""

from decimal import Decimal

import pytest

from assessment.demo import EXAMPLE_NAME, EXAMPLE_NOTICE, seed_assessment
from assessment.models import Indicator, IndicatorLink, IndicatorSystem
from assessment.selectors import indicator_tree, system_points

pytestmark = pytest.mark.django_db


def test_seed_loads_the_example_and_confirms_clear_links(plan, office_user):
    result = seed_assessment(plan)
    system = result["system"]
    assert result["created"]
    assert system.name == EXAMPLE_NAME and system.is_example and EXAMPLE_NOTICE in system.description
    assert system_points(system) == Decimal(100) == system.full_score and system.pass_score == Decimal(90)
    roots = indicator_tree(system)
    assert len(roots) == 8 and sum(r.points for r in roots) == Decimal(100)
    levels = [Indicator.objects.filter(system=system, level=n).count() for n in (1, 2, 3)]
    assert levels == [8, 25, 50]
    confirmed = IndicatorLink.objects.filter(indicator__system=system, state=IndicatorLink.State.CONFIRMED)
    assert result["confirmed"] == confirmed.count() >= 35
    assert set(confirmed.values_list("decided_by", flat=True)) == {office_user.pk}
    assert confirmed.filter(indicator__code="5.3.1", task__number=20).exists()
    assert IndicatorLink.objects.filter(
        indicator__system=system, state=IndicatorLink.State.SUGGESTED
    ).exists()
    assert not confirmed.filter(indicator__code="1.3.1").exists()  # 经费预算: nothing in the plan says so


def test_seed_is_idempotent_and_keeps_the_office_s_decisions(plan, office_user):
    system = seed_assessment(plan)["system"]
    link = IndicatorLink.objects.filter(indicator__system=system, state=IndicatorLink.State.CONFIRMED).first()
    link.state = IndicatorLink.State.REJECTED
    link.save()
    links = IndicatorLink.objects.filter(indicator__system=system).count()
    again = seed_assessment(plan)
    assert not again["created"] and again["system"] == system
    assert IndicatorSystem.objects.filter(is_example=True).count() == 1
    assert IndicatorLink.objects.filter(indicator__system=system).count() == links
    link.refresh_from_db()
    assert link.state == IndicatorLink.State.REJECTED
