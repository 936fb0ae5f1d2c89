"""Demo data for self-assessment: for each leaf of a system, a few approved reports and evidence files picked
into the dossier (a photo, a PDF and another file where the leaf's reports have them), a short account marked
as demo text, and a score taken from the leaf's hint with its justification. Called by ``assessment/demo.py``;
idempotent — a leaf that already has picks, an account or a score keeps them, so running it again changes
nothing and never overwrites the office's own work."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from reports.models import Evidence
from units.models import CampaignRole

from . import picks, scoring
from .models import EvidencePick, Indicator, IndicatorAccount, IndicatorSystem, ScoreEntry
from .selectors import leaves as system_leaves

REPORTS_PER_LEAF = 2
FILES_PER_LEAF = 3
SITES_PER_LEAF = 2  # on a leaf whose 佐证材料 asks for 示范点 material: named sites of its linked tasks
# Every UNSCORED_EVERY-th scorable leaf is left unscored, so the dashboard shows unscored leaves and a gap.
UNSCORED_EVERY = 6


@dataclass
class Seeded:
    picks: int = 0
    accounts: int = 0
    scores: int = 0


def _office_user():
    role = (
        CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return role.user if role else None


def _file_group(content_type: str) -> str:
    if content_type.startswith("image/"):
        return "image"
    return "pdf" if content_type == "application/pdf" else "other"


def _mixed_files(files) -> list[int]:
    """Up to FILES_PER_LEAF of ``files`` ((pk, content type), newest first): the newest photo, PDF and other
    file first, so the dossier shows each kind a leaf has, then the newest of the rest."""
    files = list(files)
    chosen: list[int] = []
    for group in ("image", "pdf", "other"):
        chosen += [pk for pk, content_type in files if _file_group(content_type) == group][:1]
    chosen += [pk for pk, _ in files if pk not in chosen]
    return chosen[:FILES_PER_LEAF]


def _pick_some(leaf: Indicator, by) -> int:
    candidates = picks.candidate_queryset(leaf).order_by(
        "-period__year", "-period__quarter", "unit__order", "id"
    )
    reports = list(candidates.values_list("pk", flat=True)[:REPORTS_PER_LEAF])
    files = _mixed_files(
        Evidence.objects.filter(report__in=candidates, kind=Evidence.Kind.FILE)
        .order_by("-report__period__year", "-report__period__quarter", "id")
        .values_list("pk", "content_type")
    )
    sites = []
    if "示范点" in leaf.evidence_expected:
        sites = list(
            picks.site_candidates(leaf, picks.SiteFilters())
            .annotate(photo_count=Count("photos"))
            .order_by("-photo_count", "name", "id")  # as an office would: the sites with photos first
            .values_list("pk", flat=True)[:SITES_PER_LEAF]
        )
    now = timezone.now()
    rows = [EvidencePick(indicator=leaf, report_id=pk, picked_by=by, picked_at=now) for pk in reports]
    rows += [EvidencePick(indicator=leaf, evidence_id=pk, picked_by=by, picked_at=now) for pk in files]
    rows += [EvidencePick(indicator=leaf, site_id=pk, picked_by=by, picked_at=now) for pk in sites]
    for order, row in enumerate(rows):
        row.order = order
    EvidencePick.objects.bulk_create(rows)
    return len(rows)


def _account_text(leaf: Indicator, hint: scoring.Hint) -> str:
    cov = hint.coverage
    tasks = "、".join(f"任务{n}“{title}”" for n, title in cov.tasks)
    return (
        f"（演示文字，请按实际情况改写）围绕“{leaf.title}”，全市对照实施方案{tasks}推进相关工作。"
        f"{hint.window_label}，{cov.reported}个责任分工有审核通过的进展报告，共{cov.reports}份，"
        f"附佐证文件{cov.files}个。主要做法和成效见所附报告及佐证材料。"
    )


def seed_scores(system: IndicatorSystem, *, by=None) -> Seeded:
    """Pick, write and score the leaves of ``system`` that have none of it yet (see the module's note)."""
    by = by or _office_user()
    window = scoring.hint_window(system.campaign)
    nodes = system_leaves(system)
    leaves = [n.indicator for n in nodes]
    for leaf in leaves:
        leaf.system = system
    hints = scoring.hints_for(leaves, window)
    picked = set(EvidencePick.objects.filter(indicator__system=system).values_list("indicator_id", flat=True))
    accounts = {a.indicator_id: a for a in IndicatorAccount.objects.filter(indicator__system=system)}
    done = Seeded()
    scorable = 0
    with transaction.atomic():
        for leaf in leaves:
            hint = hints[leaf.pk]
            if hint.score is None:
                continue  # no confirmed link: nothing in the portal to pick or score from
            if leaf.pk not in picked:
                done.picks += _pick_some(leaf, by)
            account = accounts.get(leaf.pk) or IndicatorAccount(indicator=leaf, version=0)
            changed = False
            if not account.account:
                account.account = _account_text(leaf, hint)
                done.accounts += 1
                changed = True
            scorable += 1
            score_it = account.score is None and scorable % UNSCORED_EVERY != 0
            if score_it:
                account.score = hint.score
                account.justification = (
                    f"按系统建议分评定：{hint.reasons[1] if len(hint.reasons) > 1 else hint.reasons[0]}"
                    f"（完备度{hint.readiness_percent}；演示数据）"
                )
                changed = True
            if changed:
                account.version += 1
                account.updated_by = by
                account.save()
            if score_it:
                ScoreEntry.objects.create(
                    indicator=leaf,
                    score=account.score,
                    hint=hint.score,
                    justification=account.justification,
                    by=by,
                    at=timezone.now(),
                )
                done.scores += 1
    return done
