"""The register's reads. ``sites_as_of`` is the one rule for "which sites, in which status and level, on a
day"; every count (the 八进 table, the site targets, the 台账, the API) goes through it or ``site_counts``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaign.search import search_words

from .models import Site, SiteNaming

# ``by`` names a caller may group on → the column (status and level are the ones as of the day)
GROUPS = {
    "category": "category",
    "level": "level_on",
    "status": "status_on",
    "unit": "owner_id",
    "unit_kind": "owner__kind",
    "county": "county_id",
    "task": "task_id",
}


def _end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in local time: what existed "as of the day" came before it."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def sites_as_of(
    day: dt.date | None = None,
    *,
    unit=None,
    county=None,
    category: str | None = None,
    level: str | None = None,
    status: str | None = None,
) -> QuerySet[Site]:
    """Distinct sites that existed at the end of ``day`` (created by then, not yet merged into another), each
    annotated with ``status_on`` and ``level_on``: 命名 at the level of the latest naming approved with a
    naming date on or before the day, else 培育 (at its intended level); and, of that naming, ``named_date``,
    ``named_document`` and ``named_document_name``. Filters apply to those values."""
    day = day or timezone.localdate()
    end = _end_of(day)
    named = SiteNaming.objects.filter(site=OuterRef("pk"), state=SiteNaming.State.APPROVED, named_on__lte=day)
    qs = (
        Site.objects.filter(created_at__lt=end)
        .filter(Q(merged_into__isnull=True) | Q(merged_at__gte=end))
        .annotate(
            named_level=Subquery(named.order_by("-named_on", "-id").values("level")[:1]),
            named_date=Subquery(named.order_by("-named_on", "-id").values("named_on")[:1]),
            # the document of that same naming (stored name, the name it was uploaded under)
            named_document=Subquery(named.order_by("-named_on", "-id").values("document")[:1]),
            named_document_name=Subquery(named.order_by("-named_on", "-id").values("document_name")[:1]),
        )
        .annotate(
            status_on=Case(
                When(Exists(named), then=Value(Site.Status.NAMED)), default=Value(Site.Status.CULTIVATING)
            ),
            level_on=Coalesce(F("named_level"), F("level")),
        )
    )
    if unit is not None:
        qs = qs.filter(owner=unit)
    if county is not None:
        qs = qs.filter(county=county)
    if category:
        qs = qs.filter(category=category)
    if level:
        qs = qs.filter(level_on=level)
    if status:
        qs = qs.filter(status_on=status)
    return qs


def site_counts(
    as_of: dt.date | None = None, by: Sequence[str] = ("category", "level", "status"), **filters
) -> dict[tuple, int]:
    """How many distinct sites per combination of ``by`` (names in ``GROUPS``) as of the day, in one query."""
    columns = [GROUPS[name] for name in by]
    rows = sites_as_of(as_of, **filters).order_by().values(*columns).annotate(n=Count("pk", distinct=True))
    return {tuple(row[c] for c in columns): row["n"] for row in rows}


def register_page_sites(
    *, as_of: dt.date | None = None, search: str | None = None, **filters
) -> QuerySet[Site]:
    """The register list: as ``sites_as_of`` plus a search in name and address, with what a row shows."""
    qs = sites_as_of(as_of, **filters).select_related("owner", "county", "task").prefetch_related("photos")
    words = search_words(search)
    if words:
        qs = qs.filter(Q(name__icontains=words) | Q(address__icontains=words))
    return qs.order_by("county__order", "category", "name", "id")


def pending_namings() -> QuerySet[SiteNaming]:
    return (
        SiteNaming.objects.filter(state=SiteNaming.State.REQUESTED, site__merged_into__isnull=True)
        .select_related("site", "site__owner", "site__county", "requested_by")
        .order_by("requested_at", "id")
    )
