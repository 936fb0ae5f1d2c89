"""Kinds of compiled documents that other apps add to the compilations machinery.

The built-in kinds (quarterly, unit, task, annual, ledger) are about reports: ``BuiltInKind`` here, which the
model takes as ``Compilation.Kind`` (so this module needs nothing from ``models``).
An app further down the dependency arrows (``assessment``: the 申报 dossier) registers its kind here from its
``AppConfig.ready()``, so that ``reports`` never imports it: the kind's formats, the name of the one request
parameter that names what it covers (``system``), who may ask for it, how to resolve and label that object, and
the function that writes the file. Such a kind then goes through the same requests (identity, in-flight limit),
jobs, progress, retries, reaper, list and download as the built-in ones; the object's id is kept in
``Compilation.subject_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from campaign.models import Campaign


class BuiltInKind(models.TextChoices):
    QUARTERLY = "quarterly", _("季度汇总")
    UNIT = "unit", _("单位报告")
    TASK = "task", _("任务报告")
    ANNUAL = "annual", _("年度工作总结")
    LEDGER = "ledger", _("台账")


@dataclass(frozen=True)
class Subject:
    """What one compilation of an extra kind covers (e.g. an indicator system), resolved from the request."""

    pk: int
    campaign: Campaign
    label: str


@dataclass(frozen=True)
class ExtraKind:
    value: str  # stored in Compilation.kind, e.g. "dossier"
    label: str  # 申报材料
    formats: tuple[str, ...]  # values of Compilation.Format, e.g. ("pdf", "zip")
    scope: str  # the request parameter naming the subject, e.g. "system"
    scope_label: str  # 指标体系
    help: str  # how to ask for it, in one sentence (forms, errors, API docs)
    # (value, *, by) -> Subject: the subject for a request's parameter; raises campaign.errors.DomainError with a
    # message in Chinese (400 for an id that is malformed or names nothing).
    resolve: Callable[..., Subject]
    # (access) -> bool: who may ask for (and rebuild) one. Reading finished ones follows
    # ``selectors.compilations_visible_to``.
    can_request: Callable[[Any], bool]
    # (ids) -> {id: label}: the subjects' labels for lists, in one query.
    labels: Callable[[Iterable[int]], dict[int, str]]
    # (compilation, directory, progress) -> Path: writes the file into ``directory``.
    render: Callable[[models.Model, Path, Callable[[int, str], None]], Path]
    # () -> [(id, label)]: what the request form offers for ``scope``.
    options: Callable[[], list[tuple[int, str]]] = field(default=lambda: [])
    refusal: str = "您没有生成该类汇编文件的权限。"
    api_help: str = ""  # more words for the API docs: what the file holds, who may ask


_registry: dict[str, ExtraKind] = {}


def register(kind: ExtraKind) -> None:
    """Add (or replace, on a reload) an extra kind. Called from an app's ``ready()``."""
    _registry[kind.value] = kind


def get(value: str | None) -> ExtraKind | None:
    return _registry.get(value or "")


def extra() -> list[ExtraKind]:
    return list(_registry.values())


def kind_choices() -> list[tuple[str, str]]:
    """``Compilation.kind``'s choices: the built-in kinds, then the registered ones. A callable, so that the
    field's choices (labels, admin, API enums) include kinds registered after the model was defined, and the
    migration refers to this function instead of freezing a list."""
    return [*BuiltInKind.choices, *((k.value, k.label) for k in _registry.values())]


def kind_labels() -> dict[str, str]:
    return {value: str(label) for value, label in kind_choices()}


def subject_labels(compilations: Iterable[models.Model]) -> None:
    """Give each compilation of an extra kind its subject's label (``_subject_label``), one query per kind, so
    that a list's ``scope_label`` reads nothing more."""
    rows = [c for c in compilations if c.kind in _registry and c.subject_id]
    by_kind: dict[str, list[models.Model]] = {}
    for compilation in rows:
        by_kind.setdefault(compilation.kind, []).append(compilation)
    for value, items in by_kind.items():
        labels = _registry[value].labels({c.subject_id for c in items})
        for compilation in items:
            compilation._subject_label = labels.get(compilation.subject_id, "")
