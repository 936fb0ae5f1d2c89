"""Reads of the plan. Each returns what a page needs in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, QuerySet

from campaign.models import Campaign, Phase, ReportingPeriod
from campaign.search import search_words
from units.models import Unit, display_name

from .models import PlanChange, Responsibility, Section, Target, Task


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
    if query := search_words(query):
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(code__icontains=query))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("order", "id")


# ------------------------------------------------------------------------------- plans in the portal


def _counts_by_campaign(qs, field: str = "campaign_id", count: str = "id", distinct: bool = False) -> dict:
    rows = qs.values(field).annotate(n=Count(count, distinct=distinct)).order_by()
    return {row[field]: row["n"] for row in rows}


def plans_overview() -> list[Campaign]:
    """Every campaign, current first, then the ones waiting to be activated, then the archived; each with
    ``.counts`` (phases, sections, tasks, units, targets, periods, reports, compilations). 9 queries."""
    campaigns = list(
        Campaign.objects.select_related("office_unit").order_by("-is_active", "archived_at", "-id")
    )
    counts = {
        "phases": _counts_by_campaign(Phase.objects.all()),
        "sections": _counts_by_campaign(Section.objects.all()),
        "tasks": _counts_by_campaign(Task.objects.all()),
        "units": _counts_by_campaign(
            Responsibility.objects.all(), field="task__campaign_id", count="unit_id", distinct=True
        ),
        "targets": _counts_by_campaign(Target.objects.all(), field="task__campaign_id"),
        "periods": _counts_by_campaign(ReportingPeriod.objects.all()),
        # Reports and compilations are reached through their relations: tasks does not import reports.
        "reports": _counts_by_campaign(ReportingPeriod.objects.all(), count="reports"),
        "compilations": _counts_by_campaign(Campaign.objects.all(), field="id", count="compilations"),
    }
    for campaign in campaigns:
        campaign.counts = {name: by_campaign.get(campaign.pk, 0) for name, by_campaign in counts.items()}
    # Archived ones last, most recently archived first.
    waiting = [c for c in campaigns if not c.is_active and not c.is_archived]
    archived = sorted((c for c in campaigns if c.is_archived), key=lambda c: c.archived_at, reverse=True)
    return [c for c in campaigns if c.is_active] + waiting + archived


def plan_periods(campaign: Campaign) -> list[ReportingPeriod]:
    """The campaign's periods in order, each with ``.report_count`` (1 query)."""
    return list(
        ReportingPeriod.objects.filter(campaign=campaign)
        .annotate(report_count=Count("reports"))
        .order_by("year", "quarter")
    )


def plan_compilations(campaign: Campaign, limit: int = 20) -> list:
    """The campaign's most recent compilations (1 query)."""
    return list(
        campaign.compilations.select_related("period", "unit", "task").order_by("-created_at", "-id")[:limit]
    )


def period_reports(period: ReportingPeriod):
    """The reports filed in ``period``, by task and unit, for browsing an archived plan's reports."""
    return period.reports.select_related("unit", "task").order_by("task__number", "unit__order", "unit_id")


def plan_changes(
    *,
    campaign: Campaign | None = None,
    task: Task | None = None,
    by_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[PlanChange]:
    """The plan's change history, newest first, filtered as the history page asks."""
    qs = PlanChange.objects.select_related("by", "task", "campaign").order_by("-at", "-id")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if task is not None:
        qs = qs.filter(task=task)
    if by_id is not None:
        qs = qs.filter(by_id=by_id)
    if date_from is not None:
        qs = qs.filter(at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(at__date__lte=date_to)
    return qs


def plan_change_people(campaign: Campaign | None = None) -> list:
    """The people who have changed the plan, for the history page's filter (1 query)."""
    qs = PlanChange.objects.filter(by__isnull=False)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    ids = qs.values("by_id").distinct()
    people = list(get_user_model().objects.filter(pk__in=ids).order_by("last_name", "first_name", "username"))
    for person in people:
        person.display = display_name(person)
    return people
