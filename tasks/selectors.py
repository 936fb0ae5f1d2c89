"""Reads of the plan. Each returns what a page needs in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from units.models import Unit

from .models import Responsibility, Section, Target, Task


def responsibilities_prefetch() -> Prefetch:
    return Prefetch(
        "responsibilities",
        queryset=Responsibility.objects.select_related("unit").order_by("order", "id"),
    )


def targets_prefetch() -> Prefetch:
    return Prefetch(
        "targets",
        queryset=Target.objects.select_related("metric").prefetch_related(
            Prefetch("units", queryset=Unit.objects.order_by("order"))
        ),
    )


def tasks_with_details(campaign) -> QuerySet[Task]:
    return (
        Task.objects.filter(campaign=campaign)
        .select_related("section")
        .prefetch_related(responsibilities_prefetch(), targets_prefetch())
        .order_by("number")
    )


def sections_with_tasks(campaign) -> list[Section]:
    """Sections, each with ``.task_list`` carrying responsibilities and targets (4 queries).

    Each task gets ``.named_responsibilities``: the units the plan names for it (not the by-rule ones), in the
    plan's order, lead first; templates tell the lead by ``r.is_lead``.
    """
    sections = list(Section.objects.filter(campaign=campaign).order_by("order"))
    by_section: dict[int, list[Task]] = {s.pk: [] for s in sections}
    for task in tasks_with_details(campaign):
        task.named_responsibilities = [r for r in task.responsibilities.all() if not r.by_rule]
        by_section[task.section_id].append(task)
    for section in sections:
        section.task_list = by_section[section.pk]
    return sections


def task_detail(campaign, number: int) -> Task:
    return tasks_with_details(campaign).get(number=number)


def unit_tasks(unit: Unit, campaign) -> list[Responsibility]:
    """The unit's responsibilities in the campaign, with their tasks and the tasks' leads."""
    return list(
        Responsibility.objects.filter(unit=unit, task__campaign=campaign)
        .select_related("task", "task__section")
        .prefetch_related(
            Prefetch(
                "task__responsibilities",
                queryset=Responsibility.objects.leads().select_related("unit"),
                to_attr="lead_list",
            )
        )
        .order_by("task__number")
    )


def units_directory(*, query: str = "", kind: str = "") -> QuerySet[Unit]:
    from django.db.models import Count, Q

    qs = Unit.objects.filter(is_active=True).annotate(
        task_count=Count("responsibilities", distinct=True),
        lead_count=Count(
            "responsibilities", filter=Responsibility.lead_q("responsibilities__"), distinct=True
        ),
    )
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__icontains=query))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("order", "id")
