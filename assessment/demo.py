"""Demo indicator system: the example table in ``fixtures/indicators-example.txt`` loaded through the importer,
its links suggested from shared words and the clear ones confirmed as an office would, then the scores
(``scoring_demo.seed_scores``). Idempotent: a second run finds the example system and changes nothing the office
decided."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from units.models import CampaignRole

from . import services
from .importer import parse_file
from .models import IndicatorLink, IndicatorSystem

EXAMPLE_FILE = Path(settings.BASE_DIR) / "fixtures" / "indicators-example.txt"
EXAMPLE_NAME = "全国民族团结进步示范州（市）测评指标体系（示例）"
EXAMPLE_NOTICE = "示例，须以国家民委正式印发的指标体系替换"
EXAMPLE_SOURCE = (
    "据国家民委《全国民族团结进步示范测评指标体系（试行）》（2020）及2023年修订的公开介绍整理，非正式文本"
)
EXAMPLE_DESCRIPTION = (
    f"{EXAMPLE_NOTICE}。本体系按公开资料对示范州（地、市、盟）测评内容的介绍自行编写，"
    "八个一级指标、二十五个二级指标、五十个三级指标，满分100分，申报需达到90分。"
)
# A suggestion the office would confirm without a second look: the best match of a leaf at this similarity,
# or any match at the higher one.
CONFIRM_BEST_AT = 0.2
CONFIRM_ANY_AT = 0.3


def load_example(campaign, *, by=None) -> tuple[IndicatorSystem, bool]:
    """The example system of ``campaign`` (made from the fixture file when missing) and whether it was made."""
    system = IndicatorSystem.objects.filter(campaign=campaign, is_example=True, name=EXAMPLE_NAME).first()
    if system is not None:
        return system, False
    parsed = parse_file(EXAMPLE_FILE.name, EXAMPLE_FILE.read_bytes(), full_score=Decimal(100))
    system = services.import_system(
        by=by,
        campaign=campaign,
        parsed=parsed,
        name=EXAMPLE_NAME,
        scope=IndicatorSystem.Scope.NATIONAL,
        source=EXAMPLE_SOURCE,
        description=EXAMPLE_DESCRIPTION,
        full_score=Decimal(100),
        pass_score=Decimal(90),
        is_example=True,
    )
    return system, True


def confirm_clear_links(system: IndicatorSystem, *, by=None) -> int:
    """Confirm the suggestions an office would accept at a glance; decided links are left as they are."""
    suggested = IndicatorLink.objects.filter(
        indicator__system=system, state=IndicatorLink.State.SUGGESTED
    ).order_by("indicator_id", "-similarity", "task__number")
    has_confirmed = set(
        IndicatorLink.objects.filter(
            indicator__system=system, state=IndicatorLink.State.CONFIRMED
        ).values_list("indicator_id", flat=True)
    )
    now = timezone.now()
    confirmed = 0
    for link in suggested:
        best = link.indicator_id not in has_confirmed and link.similarity >= CONFIRM_BEST_AT
        if best or link.similarity >= CONFIRM_ANY_AT:
            link.state = IndicatorLink.State.CONFIRMED
            link.decided_by = by
            link.decided_at = now
            link.save(update_fields=["state", "decided_by", "decided_at"])
            has_confirmed.add(link.indicator_id)
            confirmed += 1
    return confirmed


def seed_assessment(campaign) -> dict:
    """The example system with its links (and scores, when ``scoring_demo`` is there), for ``setup_demo``."""
    office = (
        CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE)
        .select_related("user")
        .order_by("id")
        .first()
    )
    by = office.user if office else None
    with transaction.atomic():
        system, created = load_example(campaign)
        result = {"system": system, "created": created, "suggested": {}, "confirmed": 0}
        if created:
            result["suggested"] = services.suggest_links(by=None, system=system)
            result["confirmed"] = confirm_clear_links(system, by=by)
    from .scoring_demo import seed_scores

    result["scores"] = seed_scores(system)
    return result
