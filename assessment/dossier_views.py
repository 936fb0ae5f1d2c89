"""The dossier page (``assessment:dossier``): what goes into the 申报材料 — per leaf its account, score and picked
items — what is still missing, and the buttons that build the PDF and the zip through the compilations
machinery. Leadership reads the page and downloads finished files; only the office builds."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from campaign.decorators import readers_required
from campaign.errors import DomainError
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request
from units.access import get_access

from . import dossier, services
from .access import can_edit

RECENT = 10


@readers_required
def dossier_page(request, pk: int):
    system = services.system_for(request.user, pk)
    contents = dossier.dossier_sections(system)
    rows = []
    for section in contents.sections:
        kinds = [
            item.kind for item in section.items if not item.sub
        ]  # a site's own files count with the site
        rows.append(
            {
                "section": section,
                "indicator": section.indicator,
                "points": section.leaf.points,
                "score": section.score,
                "has_account": bool(section.account and section.account.account.strip()),
                "reports": kinds.count("report"),
                "images": kinds.count("image"),
                "pdfs": kinds.count("pdf"),
                "others": kinds.count("other") + kinds.count("link"),
                "sites": kinds.count("site"),
                "items": section.pick_count,
            }
        )
    builds = list(
        Compilation.objects.filter(kind=dossier.KIND, subject_id=system.pk)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:RECENT]
    )
    today = dossier.content_digest(contents)
    for build in builds:
        build.outdated = bool(build.has_file and build.source_digest and build.source_digest != today)
    return render(
        request,
        "assessment/dossier/page.html",
        {
            "system": system,
            "active": "dossier",
            "rows": rows,
            "contents": contents,
            "no_account": sum(1 for r in rows if not r["has_account"]),
            "no_score": sum(1 for r in rows if r["score"] is None),
            "no_items": sum(1 for r in rows if not r["items"]),
            "item_count": sum(r["items"] for r in rows),
            "builds": builds,
            "can_build": can_edit(get_access(request.user)),
        },
    )


@require_POST
@readers_required
def dossier_build(request, pk: int):
    """Ask for the PDF or the zip; an identical one already on its way is opened instead."""
    system = services.system_for(request.user, pk)
    try:
        compilation, created = compilation_request(
            kind=dossier.KIND,
            format=request.POST.get("format", ""),
            extra_scope={"system": system.pk},
            by=request.user,
        )
    except DomainError as error:
        if error.http_status == 403:
            raise
        messages.error(request, error.message)
        return redirect("assessment:dossier", pk=system.pk)
    if created:
        messages.success(request, f"已提交生成：{compilation.title}（{compilation.get_format_display()}）。")
    else:
        messages.info(request, "相同的申报材料正在生成中，已为您打开该任务。")
    return redirect("compilations:detail", pk=compilation.pk)
