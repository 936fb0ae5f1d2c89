"""The read model for figures: per (period, unit) report counts (``FigureCount``) and per (period, unit, task,
metric) approved values (``FigureTotal``), which every dashboard selector reads — and through them the API,
the compiled documents and the notifications — instead of scanning every report on every page.

The rows store what the report rules compute; nothing here defines a rule:

* counts: ``ProgressReport.REPORTED_STATES`` / ``UNSENT_STATES`` / ``ON_TIME`` over the reports on tasks the
  unit carries (a ``Responsibility``: what ``completeness`` expects), as ``Tally`` counts them;
* values: APPROVED reports' metric values, what target figures and metric trends add up (how a metric adds
  up over periods, ``Metric.add_up``, stays with the selectors; 示范点 metrics still count the register).

Kept current in the transaction that moves a report: ``reports.services`` calls ``report_moved`` (one
report) or ``reports_moved`` (bulk approval) after each step that changes what is counted (create, submit,
sign-off, return, approve). A (period, unit) row is recomputed from its reports under a row lock taken
before the reports are read, so two steps on reports of the same unit and period, committed concurrently,
both end up counted. ``period_due_changed`` recounts a period whose due date moved (on time depends on it).
Writes that bypass the services (``generate_scale_data``, the demo, fixtures) call ``rebuild``; so can
anyone with ``manage.py rebuild_figures`` (``--check`` says whether the rows equal a rebuild).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from functools import reduce
from operator import or_

from django.apps import apps as live_apps
from django.db import connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from reports.models import FigureCount, FigureKindTotal, FigureTotal, MetricValue, ProgressReport
from units.models import Unit

State = ProgressReport.State
COUNT_FIELDS = ("submitted", "approved", "returned", "draft", "on_time")
TOTAL_COLUMNS = ("period_id", "unit_id", "task_id", "metric_id", "value")
KIND_COLUMNS = ("period_id", "kind", "metric_id", "value")

Pair = tuple[int, int]  # (period id, unit id)
Key = tuple[int, int, int]  # (period id, unit id, task id): one report


def count_expressions() -> dict[str, Count]:
    """A report queryset's tallies as SQL aggregates, by the report rules: the read model's columns, and the
    completeness of a section or a task (below the read model's grain) counted the same way."""
    return {
        "submitted": Count("id", filter=Q(state=State.SUBMITTED)),
        "approved": Count("id", filter=Q(state=State.APPROVED)),
        "returned": Count("id", filter=Q(state=State.RETURNED)),
        "draft": Count("id", filter=Q(state__in=ProgressReport.UNSENT_STATES)),
        "on_time": Count("id", filter=ProgressReport.ON_TIME),
    }


def carried(reports, *, apps=live_apps):
    """Only reports on tasks their unit carries: what ``completeness`` expects (a report on a task the unit
    no longer carries is neither expected nor counted)."""
    Responsibility = apps.get_model("tasks", "Responsibility")
    return reports.filter(
        Exists(Responsibility.objects.filter(unit_id=OuterRef("unit_id"), task_id=OuterRef("task_id")))
    )


def _counted(reports, *, apps=live_apps):
    return (
        carried(reports, apps=apps).values("period_id", "unit_id").annotate(**count_expressions()).order_by()
    )


def _approved_values(values):
    return values.filter(report__state=State.APPROVED).values_list(
        "report__period_id", "report__unit_id", "report__task_id", "metric_id", "value"
    )


def _pairs_q(pairs: Iterable[Pair], prefix: str = "") -> Q:
    by_period: dict[int, set[int]] = {}
    for period_id, unit_id in pairs:
        by_period.setdefault(period_id, set()).add(unit_id)
    return reduce(
        or_,
        (Q(**{f"{prefix}period_id": p, f"{prefix}unit_id__in": sorted(u)}) for p, u in by_period.items()),
    )


def _keys_q(keys: Iterable[Key], prefix: str = "") -> Q:
    return reduce(
        or_,
        (Q(**{f"{prefix}period_id": p, f"{prefix}unit_id": u, f"{prefix}task_id": t}) for p, u, t in keys),
    )


# ------------------------------------------------------------------------------- kept by the services


def report_moved(report: ProgressReport, *, previous: str = "") -> None:
    """``report`` has just been created or moved from ``previous`` (same transaction): recount its unit in
    its period, and when it is or was approved, rewrite its approved values."""
    approved = State.APPROVED in (report.state, previous)
    refresh(
        pairs=[(report.period_id, report.unit_id)],
        reports=[(report.period_id, report.unit_id, report.task_id)] if approved else (),
    )


def reports_moved(reports: Iterable[ProgressReport], *, previous: str = "") -> None:
    """Several reports moved in one step (bulk approval)."""
    reports = list(reports)
    refresh(
        pairs=[(r.period_id, r.unit_id) for r in reports],
        reports=[
            (r.period_id, r.unit_id, r.task_id) for r in reports if State.APPROVED in (r.state, previous)
        ],
    )


def refresh(*, pairs: Iterable[Pair], reports: Iterable[Key] = ()) -> None:
    """Recount ``pairs`` from their reports and rewrite the approved values of ``reports``, inside the
    caller's transaction. The count rows are locked (in (period, unit) order, so concurrent callers never
    wait on each other in a circle) before the reports are read: a concurrent step on the same unit and
    period waits here until this one commits, then counts it too."""
    pairs = sorted(set(pairs))
    keys = sorted(set(reports))
    if not pairs and not keys:
        return
    with transaction.atomic(savepoint=False):  # the caller's transaction, or one of its own
        if pairs:
            _recount(pairs)
        if keys:
            _rewrite_values(keys)


def _rewrite_values(keys: list[Key]) -> None:
    """Replace the approved values of ``keys`` and add the change to the per-kind totals."""
    stored = FigureTotal.objects.filter(_keys_q(keys))
    old = list(stored.values_list("period_id", "unit_id", "metric_id", "value"))
    new = list(_approved_values(MetricValue.objects.filter(_keys_q(keys, "report__"))))
    stored.delete()
    FigureTotal.objects.bulk_create(FigureTotal(**dict(zip(TOTAL_COLUMNS, row, strict=True))) for row in new)
    kinds = dict(Unit.objects.filter(pk__in={key[1] for key in keys}).values_list("pk", "kind"))
    change: dict[tuple[int, str, int], Decimal] = defaultdict(Decimal)
    for period_id, unit_id, metric_id, value in old:
        change[(period_id, kinds[unit_id], metric_id)] -= value
    for period_id, unit_id, _task_id, metric_id, value in new:
        change[(period_id, kinds[unit_id], metric_id)] += value
    change = {key: delta for key, delta in sorted(change.items()) if delta}
    if not change:
        return
    FigureKindTotal.objects.bulk_create(
        [FigureKindTotal(period_id=p, kind=k, metric_id=m) for p, k, m in change], ignore_conflicts=True
    )
    for (period_id, kind, metric_id), delta in change.items():  # in key order: no waiting in a circle
        FigureKindTotal.objects.filter(period_id=period_id, kind=kind, metric_id=metric_id).update(
            value=F("value") + delta
        )


def _recount(pairs: list[Pair]) -> None:
    where = _pairs_q(pairs)
    rows = _lock(where)
    if len(rows) < len(pairs):  # a unit's first report in the period
        have = {(r.period_id, r.unit_id) for r in rows}
        FigureCount.objects.bulk_create(
            [FigureCount(period_id=p, unit_id=u) for p, u in pairs if (p, u) not in have],
            ignore_conflicts=True,
        )
        rows = _lock(where)
    counted = {
        (row["period_id"], row["unit_id"]): row for row in _counted(ProgressReport.objects.filter(where))
    }
    for row in rows:
        found = counted.get((row.period_id, row.unit_id), {})
        for name in COUNT_FIELDS:
            setattr(row, name, found.get(name, 0))
    FigureCount.objects.bulk_update(rows, COUNT_FIELDS)


def _lock(where: Q) -> list[FigureCount]:
    return list(FigureCount.objects.select_for_update().filter(where).order_by("period_id", "unit_id"))


def period_due_changed(*, period, **_) -> None:
    """A period's due date moved (only an open or upcoming one may): recount who was on time in it."""
    rebuild(periods=[period], totals=False)


# ------------------------------------------------------------------------------------------ rebuild


def rebuild(*, periods=None, totals: bool = True, apps=live_apps, using: str = "default") -> tuple[int, int]:
    """Rebuild the read model from the reports (of ``periods``, default all) in two INSERT … SELECTs: what
    ``generate_scale_data``, the demo and ``manage.py rebuild_figures`` call after writing reports without
    the services. Returns (count rows, value rows). ``apps``: a migration's historical models."""
    Counts, Totals = apps.get_model("reports", "FigureCount"), apps.get_model("reports", "FigureTotal")
    KindTotals = apps.get_model("reports", "FigureKindTotal")
    Report, Value = apps.get_model("reports", "ProgressReport"), apps.get_model("reports", "MetricValue")
    period_ids = None if periods is None else [getattr(p, "pk", p) for p in periods]

    def scoped(qs, field="period_id"):
        return qs if period_ids is None else qs.filter(**{f"{field}__in": period_ids})

    with transaction.atomic(using=using):
        # Lock the rows a concurrent step would recount, so it waits for the rebuilt ones (see ``refresh``).
        list(
            scoped(Counts.objects.using(using))
            .select_for_update()
            .order_by("period_id", "unit_id")
            .values("pk")
        )
        scoped(Counts.objects.using(using)).delete()
        counts = _insert_select(
            Counts,
            ("period_id", "unit_id", *COUNT_FIELDS),
            _counted(scoped(Report.objects.using(using)), apps=apps),
        )
        values = 0
        if totals:
            scoped(Totals.objects.using(using)).delete()
            values = _insert_select(
                Totals,
                TOTAL_COLUMNS,
                _approved_values(scoped(Value.objects.using(using), "report__period_id")),
            )
            scoped(KindTotals.objects.using(using)).delete()
            _insert_select(KindTotals, KIND_COLUMNS, _by_kind(scoped(Totals.objects.using(using))))
    return counts, values


def _by_kind(totals):
    return totals.values("period_id", "unit__kind", "metric_id").annotate(total=Sum("value")).order_by()


def _insert_select(model, columns: tuple[str, ...], queryset) -> int:
    """INSERT INTO ``model`` (``columns``) the rows of ``queryset``, whose select list is in that order."""
    sql, params = queryset.query.sql_with_params()
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    target = f"{quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)})"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {target} {sql}", params)
        return cursor.rowcount


# ------------------------------------------------------------------------------------------- checks


def snapshot() -> dict[str, dict]:
    """The read model as plain values (rows of zeros left out: a unit whose reports all moved away)."""
    return {
        "counts": {
            (row[0], row[1]): tuple(row[2:])
            for row in FigureCount.objects.values_list("period_id", "unit_id", *COUNT_FIELDS)
            if any(row[2:])
        },
        "values": {tuple(row[:4]): row[4] for row in FigureTotal.objects.values_list(*TOTAL_COLUMNS)},
        "by_kind": {
            tuple(row[:3]): row[3] for row in FigureKindTotal.objects.values_list(*KIND_COLUMNS) if row[3]
        },
    }


def fresh() -> dict[str, dict]:
    """What a rebuild would store, computed from the reports without writing anything."""
    counts = {
        (row["period_id"], row["unit_id"]): tuple(row[name] for name in COUNT_FIELDS)
        for row in _counted(ProgressReport.objects.all())
    }
    values = {tuple(row[:4]): row[4] for row in _approved_values(MetricValue.objects.all())}
    kinds = dict(Unit.objects.values_list("pk", "kind"))
    by_kind: dict[tuple, Decimal] = defaultdict(Decimal)
    for (period_id, unit_id, _task_id, metric_id), value in values.items():
        by_kind[(period_id, kinds[unit_id], metric_id)] += value
    return {
        "counts": {key: row for key, row in counts.items() if any(row)},
        "values": values,
        "by_kind": {key: value for key, value in by_kind.items() if value},
    }


LABELS = {"counts": "报送计数", "values": "指标数值", "by_kind": "指标分类合计"}


def differences() -> list[str]:
    """How the stored rows differ from a rebuild from the reports, in words (empty: they agree)."""
    stored, expected = snapshot(), fresh()
    out = []
    for part, label in LABELS.items():
        for key in sorted(stored[part].keys() | expected[part].keys(), key=str):
            have, want = stored[part].get(key), expected[part].get(key)
            if have != want:
                out.append(f"{label} {key}：存 {have}，应为 {want}")
    return out
