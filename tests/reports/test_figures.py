"""The read model for figures (``reports.figures``): kept by the services in the step's own transaction, equal
to a rebuild from the reports after every step, read by the dashboards, and checked by ``rebuild_figures``.

Runs on SQLite with the suite and on PostgreSQL with ``DATABASE_URL=postgres://…`` (the concurrency test needs
PostgreSQL's row locks and is skipped elsewhere).
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from campaign.models import ReportingPeriod
from reports import figures, services
from reports.dashboards import selectors as sel
from reports.models import FigureCount, FigureKindTotal, FigureTotal, ProgressReport
from tasks import services as plan_services
from tasks.models import Metric, Task
from tests.conftest import make_user
from units.models import Membership

S = ProgressReport.State


def task(number: int) -> Task:
    return Task.objects.get(number=number)


def values(**codes) -> list[dict]:
    return [{"metric": Metric.objects.get(code=code).pk, "value": value} for code, value in codes.items()]


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(
        timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour)), tick=False
    )


def counts(period, unit) -> tuple[int, int, int, int, int]:
    row = FigureCount.objects.get(period=period, unit=unit)
    return (row.submitted, row.approved, row.returned, row.draft, row.on_time)


def assert_equal_to_a_rebuild() -> None:
    assert figures.differences() == []


@pytest.fixture
def leader_b(unit_b):
    """崆峒区 requires its 分管领导's sign-off."""
    unit_b.requires_signoff = True
    unit_b.save()
    user = make_user("leader_b", surname="陈", given="崆领")
    Membership.objects.create(user=user, unit=unit_b, role=Membership.Role.LEADER)
    return user


@pytest.fixture
def closed_q3(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


def test_rebuild_equals_incremental_after_a_realistic_sequence_of_steps(
    open_period, closed_q3, unit_a, unit_b, liaison_a, liaison_b, leader_b, office_user
):
    due = open_period.due_on  # 2026-01-10
    steps = 0

    def step(result):
        nonlocal steps
        steps += 1
        assert_equal_to_a_rebuild()  # after every single step, not only at the end
        return result

    with at(due - dt.timedelta(days=6)):
        mine = {
            n: step(
                services.report_create(
                    period=open_period,
                    unit=unit_a,
                    task=task(n),
                    by=liaison_a,
                    progress=f"任务{n}进展。",
                    metrics=values(lectures=n, materials=100 * n),
                )
            )
            for n in (3, 4, 5, 6)
        }
        theirs = {
            n: step(
                services.report_save(
                    period=open_period,
                    unit=unit_b,
                    task=task(n),
                    by=liaison_b,
                    version=None,
                    fields={"progress": f"崆峒区任务{n}。"},
                    metrics=values(participants=20),
                    submit=True,  # to the unit's leader first
                )
            )
            for n in (1, 2, 8)
        }
    assert counts(open_period, unit_b) == (0, 0, 0, 3, 0)  # waiting for the leader: not yet reported

    with at(due - dt.timedelta(days=2)):
        step(services.report_submit(report=mine[3], by=liaison_a))
        step(services.report_submit(report=mine[4], by=liaison_a))
        step(services.report_signoff(report=theirs[1], by=leader_b))
        step(services.report_return(report=theirs[2], by=leader_b, reason="请补充数据。"))  # the leader's
        step(services.report_return(report=mine[4], by=office_user, reason="请补充佐证。"))
    with at(due + dt.timedelta(days=2)):  # late
        step(services.report_submit(report=mine[5], by=liaison_a))
        again = ProgressReport.objects.get(pk=mine[4].pk)
        step(
            services.report_save_draft(
                report=again, by=liaison_a, version=again.version, metrics=values(lectures=40)
            )
        )
        step(services.report_submit(report=mine[4], by=liaison_a))  # resubmitted: on time by its first
        step(services.report_submit(report=theirs[2], by=liaison_b))
        step(services.report_signoff(report=theirs[2], by=leader_b))
        step(services.report_approve(report=mine[3], by=office_user))
        step(services.reports_approve_many(report_ids=[mine[4].pk, mine[5].pk, theirs[1].pk], by=office_user))
        # a unit given a reopening in a closed quarter files, and is approved
        step(services.period_reopen_for_unit(period=closed_q3, unit=unit_a, by=office_user, reason="补报"))
        late = step(
            services.report_create(
                period=closed_q3,
                unit=unit_a,
                task=task(7),
                by=liaison_a,
                progress="补报。",
                metrics=values(lectures=1),
            )
        )
        step(services.report_submit(report=late, by=liaison_a))
        step(services.report_approve(report=late, by=office_user))
    assert steps == 23

    # submitted, approved, returned, draft (or waiting for sign-off), on time
    assert counts(open_period, unit_a) == (0, 3, 0, 1, 2)  # 3 and 4 on time, 5 late; 6 a draft
    assert counts(open_period, unit_b) == (1, 1, 0, 1, 1)  # 2 signed off late; 8 waits for the leader
    assert counts(closed_q3, unit_a) == (0, 1, 0, 0, 0)
    lectures = Metric.objects.get(code="lectures")
    approved = dict(
        FigureTotal.objects.filter(period=open_period, unit=unit_a, metric=lectures).values_list(
            "task__number", "value"
        )
    )
    assert approved == {
        3: Decimal("3"),
        4: Decimal("40"),
        5: Decimal("5"),
    }  # the draft's 6 counts for nothing
    assert FigureKindTotal.objects.get(period=open_period, kind=unit_a.kind, metric=lectures).value == 48

    incremental = figures.snapshot()
    figures.rebuild()
    assert figures.snapshot() == incremental


def test_the_dashboards_read_the_read_model(open_period, unit_a, liaison_a, office_user):
    report = services.report_create(
        period=open_period,
        unit=unit_a,
        task=task(3),
        by=liaison_a,
        progress="进展。",
        metrics=values(lectures=7),
    )
    services.report_submit(report=report, by=liaison_a)
    services.report_approve(report=report, by=office_user)
    row = next(r for r in sel.completeness(open_period).units if r.unit == unit_a)
    assert (row.approved, row.reported) == (1, 1)

    # A figure changed behind the services' back is what the dashboards show: they read the read model, and
    # rebuild_figures --check finds the difference.
    FigureCount.objects.filter(period=open_period, unit=unit_a).update(approved=5)
    FigureKindTotal.objects.filter(period=open_period, metric__code="lectures").update(value=70)
    row = next(r for r in sel.completeness(open_period, with_cells=False).units if r.unit == unit_a)
    point = next(
        p
        for p in sel.trends(open_period.campaign, as_of=open_period.ends_on).points
        if p.period == open_period
    )
    assert (row.approved, row.reported) == (5, 5)
    assert point.metrics["lectures"] == 70
    with pytest.raises(CommandError, match="不一致，共 2 处"):
        call_command("rebuild_figures", check=True, stdout=io.StringIO())

    out = io.StringIO()
    call_command("rebuild_figures", stdout=out)
    assert "已重建看板统计数据" in out.getvalue()
    call_command("rebuild_figures", check=True, stdout=out)
    assert "一致" in out.getvalue()
    row = next(r for r in sel.completeness(open_period).units if r.unit == unit_a)
    assert (row.approved, row.reported) == (1, 1)


def test_a_report_on_a_task_the_unit_no_longer_carries_is_not_counted(open_period, unit_a, liaison_a):
    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="x")
    assert counts(open_period, unit_a) == (0, 0, 0, 1, 0)
    unit_a.responsibilities.filter(task=task(3)).delete()  # as the admin could, behind the plan's own rules
    figures.report_moved(report)
    assert counts(open_period, unit_a) == (0, 0, 0, 0, 0)
    assert_equal_to_a_rebuild()


def test_moving_an_open_periods_due_date_recounts_on_time(open_period, unit_a, liaison_a, office_user):
    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="x")
    with at(open_period.due_on - dt.timedelta(days=1)):
        services.report_submit(report=report, by=liaison_a)
    assert counts(open_period, unit_a)[4] == 1

    ReportingPeriod.objects.filter(pk=open_period.pk).update(due_on=open_period.due_on - dt.timedelta(days=3))
    figures.period_due_changed(period=open_period)
    assert counts(open_period, unit_a)[4] == 0  # now submitted after the due day
    assert_equal_to_a_rebuild()


def test_the_plan_editor_moving_a_due_date_keeps_the_figures(open_period, unit_a, liaison_a, office_user):
    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="x")
    with at(open_period.due_on - dt.timedelta(days=1)):
        services.report_submit(report=report, by=liaison_a)

    plan_services.period_update(period=open_period, by=office_user, due_on=open_period.ends_on)

    assert_equal_to_a_rebuild()


@pytest.mark.django_db(transaction=True)
def test_two_steps_on_one_units_reports_committed_together_are_both_counted(
    open_period, unit_a, liaison_a, office_user
):
    """The second step waits on the (period, unit) row the first one locked, then counts both. Without the
    lock it would count from what it saw before the first committed, and one approval would be lost."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite runs one writer at a time)")
    with at(open_period.due_on):
        first, second = (
            services.report_submit(
                report=services.report_create(
                    period=open_period,
                    unit=unit_a,
                    task=task(n),
                    by=liaison_a,
                    progress="x",
                    metrics=values(lectures=n),
                ),
                by=liaison_a,
            )
            for n in (3, 4)
        )
    first_done = threading.Event()
    errors: list[BaseException] = []

    def approve_first_and_hold():
        try:
            with transaction.atomic():
                services.report_approve(report=first, by=office_user)
                first_done.set()
                threading.Event().wait(0.5)  # the second step starts while this one is not committed
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            first_done.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=approve_first_and_hold)
    holder.start()
    first_done.wait(10)
    services.report_approve(report=second, by=office_user)  # waits for the holder's commit
    holder.join(10)

    assert errors == []
    assert counts(open_period, unit_a) == (0, 2, 0, 0, 2)
    assert (
        FigureKindTotal.objects.get(period=open_period, kind=unit_a.kind, metric__code="lectures").value == 7
    )
    assert_equal_to_a_rebuild()


def test_a_report_changed_in_the_admin_keeps_the_figures(client, open_period, unit_a, liaison_a, office_user):
    from django.contrib.auth import get_user_model

    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="x")
    services.report_submit(report=report, by=liaison_a)
    staff = get_user_model().objects.create_superuser("admin_f", password="pw-admin-f-2024")
    client.force_login(staff)
    page = client.get(f"/admin/reports/progressreport/{report.pk}/change/")
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if not isinstance(v, (list, dict))}
    data.update({"period": open_period.pk, "unit": unit_a.pk, "task": report.task_id, "state": "approved"})
    for inline in page.context["inline_admin_formsets"]:
        for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{inline.formset.prefix}-{key}"] = "0"
    response = client.post(f"/admin/reports/progressreport/{report.pk}/change/", data)
    assert response.status_code == 302
    assert_equal_to_a_rebuild()
