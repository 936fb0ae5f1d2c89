"""Reads of compiled documents."""

from __future__ import annotations

from django.http import FileResponse

from campaign.errors import DomainError

from .models import Compilation


def latest_compilations(limit: int = 5) -> list[Compilation]:
    return list(
        Compilation.objects.filter(state=Compilation.State.DONE)
        .select_related("period", "unit", "task")
        .order_by("-finished_at", "-id")[:limit]
    )


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
