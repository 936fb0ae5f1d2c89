"""Who may do what in 测评 and 申报. The office writes (maps, picks, scores, builds the dossier, grants access);
leadership reads everything; unit people (liaisons, unit leaders) see none of it — the accounts and scores are
the office's drafts. Third-party evaluators never log in: they hold an ``InspectorGrant`` (``inspector.py``)."""

from __future__ import annotations

from campaign.errors import PermissionDenied

EDIT_ONLY = "只有创建办可以编辑测评与申报材料。"
READ_ONLY = "测评与申报材料仅供创建办和领导查看。"


def can_read(access) -> bool:
    return access.sees_everything


def can_edit(access) -> bool:
    return access.is_office


def require_read(access) -> None:
    if not can_read(access):
        raise PermissionDenied(READ_ONLY)


def require_edit(access) -> None:
    if not can_edit(access):
        raise PermissionDenied(EDIT_ONLY)
