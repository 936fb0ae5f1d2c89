"""Test data builders. Reports made here bypass the services on purpose: for selector and rendering tests
that need a report in a given state at a given time. Workflow tests go through reports.services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from campaign.models import ReportingPeriod
from reports import figures
from reports.models import MetricValue, ProgressReport
from tasks.models import Metric, Task
from units.models import Membership, Unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "测"
    first_name = factory.Sequence(lambda n: f"试{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "test-pass-123")
        if create:
            obj.save(update_fields=["password"])


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"unit{n}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    kind = Unit.Kind.DEPARTMENT
    order = factory.Sequence(lambda n: 1000 + n)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Membership.Role.LIAISON
    phone = "13900000000"


# (period id, unit id, task id, state) of the reports made inside ``many_reports()``, else None.
_moved: list[tuple[int, int, int, str]] | None = None


@contextmanager
def many_reports() -> Iterator[None]:
    """Make many reports with ``make_report`` and recount the figures' read model once, at the end, for all
    of them, rather than once per report (~8 queries each: 500 reports took seconds). What is read after the
    block is the same as with one recount per report."""
    global _moved
    outer, _moved = _moved, []
    try:
        yield
        moved = _moved
    finally:
        _moved = outer
    figures.refresh(
        pairs=[(p, u) for p, u, _, _ in moved],
        reports=[(p, u, t) for p, u, t, state in moved if state == ProgressReport.State.APPROVED],
    )


def local_dt(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, 0))


def make_report(
    *,
    period: ReportingPeriod,
    unit: Unit,
    task: Task | int,
    state: str = ProgressReport.State.SUBMITTED,
    submitted_on: dt.date | None = None,
    metrics: dict[str, float | int | Decimal] | None = None,
    progress: str = "按计划推进各项工作。",
    problems: str = "",
    next_steps: str = "",
    progress_status: str = ProgressReport.ProgressStatus.ON_TRACK,
) -> ProgressReport:
    """A report in ``state``; submitted/approved/returned ones get first_submitted_at on ``submitted_on``
    (default: the period's due date, i.e. on time)."""
    if isinstance(task, int):
        task = Task.objects.get(campaign=period.campaign, number=task)
    report = ProgressReport.objects.create(
        period=period,
        unit=unit,
        task=task,
        state=state,
        progress=progress,
        problems=problems,
        next_steps=next_steps,
        progress_status=progress_status,
    )
    if state != ProgressReport.State.DRAFT:
        when = local_dt(submitted_on or period.due_on)
        report.first_submitted_at = when
        report.submitted_at = when
        if state in (ProgressReport.State.APPROVED, ProgressReport.State.RETURNED):
            report.reviewed_at = when + dt.timedelta(days=1)
        if state == ProgressReport.State.RETURNED:
            report.return_reason = "请补充佐证材料。"
        report.save()
    for code, value in (metrics or {}).items():
        MetricValue.objects.create(
            report=report, metric=Metric.objects.get(code=code), value=Decimal(str(value))
        )
    if _moved is None:
        figures.report_moved(report)
    else:
        _moved.append((report.period_id, report.unit_id, report.task_id, report.state))
    return report


def task(number: int) -> Task:
    return Task.objects.get(number=number)


def metric(code: str) -> Metric:
    return Metric.objects.get(code=code)


def fill_url(period: ReportingPeriod, unit: Unit, number: int) -> str:
    """The report form of ``unit``'s report on task ``number`` in ``period``."""
    return f"/reports/fill/{period.pk}/{unit.pk}/{task(number).pk}/"
