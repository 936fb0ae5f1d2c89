"""Reads of compiled documents."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse

from campaign.errors import DomainError, NotFound
from units.access import get_access

from . import kinds
from .models import Compilation

NOT_FOUND = "该汇编不存在，或您无权查看。"


def latest_compilations(limit: int = 5) -> list[Compilation]:
    rows = list(
        Compilation.objects.filter(state=Compilation.State.DONE)
        .select_related("period", "unit", "task")
        .order_by("-finished_at", "-id")[:limit]
    )
    kinds.subject_labels(rows)  # a dossier's scope label (its indicator system) without a query per row
    return rows


def compilations_visible_to(user) -> QuerySet[Compilation]:
    """Who sees which compilation, the one rule: office and leadership see every one; a unit's people see
    their own units' unit reports."""
    access = get_access(user)
    qs = Compilation.objects.select_related("period", "unit", "task", "requested_by", "campaign").order_by(
        "-created_at", "-id"
    )
    if access.sees_everything:
        return qs
    return qs.filter(kind=Compilation.Kind.UNIT, unit_id__in=access.unit_ids)


def compilation_visible_to(*, user, pk: int) -> Compilation:
    """The compilation ``pk`` if ``user`` may see it. One NotFound for "no such row" and "not yours", so a
    page never confirms that another unit's compilation exists."""
    compilation = compilations_visible_to(user).filter(pk=pk).first()
    if compilation is None:
        raise NotFound(NOT_FOUND)
    return compilation


def compilation_file_response(compilation: Compilation) -> FileResponse:
    """The finished file as a download, for the page and the API alike; a DomainError (409 / 410) says why
    there is none. The caller has checked that the person may see the compilation."""
    if not compilation.is_done:
        raise DomainError("文件尚未生成完成。", code="not_ready", http_status=409)
    if not compilation.has_file:
        raise DomainError("文件已超过保存期限被清理，请重新生成。", code="purged", http_status=410)
    try:
        handle = compilation.file.open("rb")
    except FileNotFoundError:
        raise DomainError("文件已不存在，请重新生成。", code="missing", http_status=410) from None
    return FileResponse(
        handle, as_attachment=True, filename=compilation.download_name, content_type=compilation.content_type
    )
