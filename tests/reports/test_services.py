"""The reporting loop's services: each step allowed and refused, with a message a person can act on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaign.errors import DomainError, PermissionDenied, StaleVersion
from campaign.models import ReportingPeriod
from reports import services
from reports.models import MetricValue, PeriodReopening, ProgressReport, ReportEvent
from tasks.models import Metric, Task

S = ProgressReport.State


def task(number: int) -> Task:
    return Task.objects.get(number=number)


def metric(code: str) -> Metric:
    return Metric.objects.get(code=code)


@pytest.fixture
def draft(open_period, unit_a, liaison_a) -> ProgressReport:
    return services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="开展宣讲活动5场。"
    )


@pytest.fixture
def submitted(draft, liaison_a) -> ProgressReport:
    return services.report_submit(report=draft, by=liaison_a)


@pytest.fixture
def closed_period(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


def actions(report) -> list[str]:
    return list(
        ReportEvent.objects.filter(report=report).order_by("at", "id").values_list("action", flat=True)
    )


# ---------------------------------------------------------------- create


def test_liaison_creates_a_draft_with_metrics_and_an_event(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period,
        unit=unit_a,
        task=task(8),
        by=liaison_a,
        progress="召开专题会议。",
        progress_status="on_track",
        metrics=[
            {"metric": metric("meetings").pk, "value": 2},
            {"metric": metric("materials").pk, "value": "1200"},
        ],
    )

    assert report.state == S.DRAFT
    assert report.version == 1
    assert report.created_by == liaison_a
    assert dict(report.metric_values.values_list("metric__code", "value")) == {
        "meetings": Decimal("2.00"),
        "materials": Decimal("1200.00"),
    }
    assert actions(report) == ["created"]


def test_report_for_a_task_the_unit_does_not_carry_is_refused(open_period, unit_a, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_create(period=open_period, unit=unit_a, task=task(11), by=liaison_a, progress="x")

    assert exc.value.message.startswith("市委宣传部不是任务11")
    assert "不能为该任务填写报告" in exc.value.message
    assert ProgressReport.objects.count() == 0


def test_second_report_for_same_period_unit_and_task_is_refused(draft, open_period, unit_a, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="另一份")

    assert (
        exc.value.message == "市委宣传部2025年第四季度任务3的报告已经存在，请打开原报告修改，不要重复填写。"
    )
    assert ProgressReport.objects.get().progress == "开展宣讲活动5场。"


def test_negative_metric_value_is_refused_and_nothing_is_saved(open_period, unit_a, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_create(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            metrics=[{"metric": metric("boards").pk, "value": -3}],
        )

    assert exc.value.message == "“展板”不能为负数，请填写 0 或正数。"
    assert ProgressReport.objects.count() == 0


def test_non_numeric_metric_value_is_refused_and_the_draft_keeps_its_figures(draft, liaison_a):
    services.report_save_draft(report=draft, by=liaison_a, version=1, metrics={metric("boards").pk: 12})

    with pytest.raises(DomainError) as exc:
        services.report_save_draft(
            report=draft, by=liaison_a, version=2, metrics={metric("boards").pk: "十二"}
        )

    assert exc.value.message == "“展板”应填写数字（单位：块），“十二”不是数字。"
    assert MetricValue.objects.get(report=draft).value == Decimal("12.00")


def test_metric_outside_the_task_and_common_metrics_is_refused(open_period, unit_a, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_create(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            metrics=[{"metric": metric("class_hours").pk, "value": 4}],
        )

    assert exc.value.message == f"任务3没有编号为 {metric('class_hours').pk} 的指标，不能填报。"


def test_value_far_above_the_usual_range_is_kept_and_flagged(draft, liaison_a):
    report = services.report_save_draft(
        report=draft, by=liaison_a, version=1, metrics={metric("lectures").pk: 500}
    )

    value = report.metric_values.select_related("metric").get()
    assert value.value == Decimal("500.00")
    assert value.is_unusual is True


def test_office_and_leadership_cannot_author_reports(open_period, unit_a, office_user, leadership_user):
    with pytest.raises(PermissionDenied) as office:
        services.report_create(period=open_period, unit=unit_a, task=task(3), by=office_user)
    with pytest.raises(PermissionDenied) as leader:
        services.report_create(period=open_period, unit=unit_a, task=task(3), by=leadership_user)

    assert office.value.message == "创建办负责审核，不代替单位填写报告；请由该单位联络员填写和报送。"
    assert leader.value.message == "领导账号只能查看报告，不能填写或修改。"


def test_liaison_cannot_write_another_units_report(draft, open_period, unit_a, liaison_b):
    with pytest.raises(PermissionDenied) as exc:
        services.report_save_draft(report=draft, by=liaison_b, version=1, progress="改写")

    assert exc.value.message == "只能填写和修改本单位的报告。"
    draft.refresh_from_db()
    assert draft.progress == "开展宣讲活动5场。"


def test_upcoming_period_refuses_new_reports(plan, unit_a, liaison_a):
    upcoming = ReportingPeriod.objects.get(year=2025, quarter=4)

    with pytest.raises(DomainError) as exc:
        services.report_create(period=upcoming, unit=unit_a, task=task(3), by=liaison_a)

    assert exc.value.message == "2025年第四季度尚未开始报送，暂不能填写。"


# ---------------------------------------------------------------- save draft, versions


def test_save_draft_bumps_the_version_and_records_the_step(draft, liaison_a):
    report = services.report_save_draft(
        report=draft, by=liaison_a, version=1, progress="  新的进展  ", progress_status="behind"
    )

    report.refresh_from_db()
    assert (report.version, report.progress, report.progress_status) == (2, "新的进展", "behind")
    assert actions(report) == ["created", "saved"]
    assert ReportEvent.objects.filter(action="saved").get().version == 2


def test_stale_version_is_refused_naming_who_saved_and_nothing_is_overwritten(draft, liaison_a, unit_a):
    from tests.conftest import make_user
    from units.models import Membership

    colleague = make_user("colleague", surname="孙", given="同事")
    Membership.objects.create(user=colleague, unit=unit_a, role=Membership.Role.LIAISON)
    services.report_save_draft(report=draft, by=colleague, version=1, progress="同事的内容")

    with pytest.raises(StaleVersion) as exc:
        services.report_save_draft(report=draft, by=liaison_a, version=1, progress="我的内容")

    saved = ProgressReport.objects.get(pk=draft.pk)
    when = timezone.localtime(saved.updated_at)
    assert exc.value.message == (
        f"该报告已被他人修改（孙同事于{when.year}年{when.month}月{when.day}日 {when:%H:%M}保存），"
        "您的内容未丢失，请核对后再保存。"
    )
    assert exc.value.http_status == 409
    assert (saved.progress, saved.version) == ("同事的内容", 2)


def test_edit_of_an_approved_report_is_refused(submitted, liaison_a, office_user):
    services.report_approve(report=submitted, by=office_user)

    with pytest.raises(DomainError) as exc:
        services.report_save_draft(report=submitted, by=liaison_a, version=3, progress="改")

    assert exc.value.message == "该报告已审核通过并锁定，不能再修改。如需更正，请联系创建办。"
    assert ProgressReport.objects.get().progress == "开展宣讲活动5场。"


def test_edit_of_a_submitted_report_waits_for_review(submitted, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_save_draft(report=submitted, by=liaison_a, version=2, progress="改")

    assert exc.value.message == "该报告已报送，正在等待创建办审核，暂不能修改。如需修改，请联系创建办退回。"


# ---------------------------------------------------------------- submit


def test_submit_moves_draft_to_submitted_and_notifies_after_commit(
    draft, liaison_a, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(services, "on_report_submitted", [lambda **kw: calls.append(kw)])

    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_submit(report=draft, by=liaison_a)

    assert report.state == S.SUBMITTED
    assert report.submitted_by == liaison_a
    assert report.first_submitted_at == report.submitted_at
    assert calls == [{"report": report}]
    assert actions(report) == ["created", "submitted"]


def test_submit_without_progress_text_is_refused(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, problems="缺经费"
    )

    with pytest.raises(DomainError) as exc:
        services.report_submit(report=report, by=liaison_a)

    assert exc.value.message == "“工作进展”还没有填写，不能报送。请先填写本季度的工作进展并保存。"
    report.refresh_from_db()
    assert (report.state, report.problems) == (S.DRAFT, "缺经费")


def test_submitting_twice_is_refused(submitted, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.report_submit(report=submitted, by=liaison_a)

    assert exc.value.message == "该报告已报送，正在等待审核，无需重复报送。"


def test_submit_with_a_stale_version_is_refused(draft, liaison_a):
    services.report_save_draft(report=draft, by=liaison_a, version=1, progress="新")

    with pytest.raises(StaleVersion):
        services.report_submit(report=draft, by=liaison_a, version=1)

    assert ProgressReport.objects.get().state == S.DRAFT


# ---------------------------------------------------------------- review


def test_office_returns_with_a_reason_and_the_liaison_is_told(
    submitted, office_user, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(services, "on_report_returned", [lambda **kw: calls.append(kw)])

    with django_capture_on_commit_callbacks(execute=True):
        report = services.report_return(report=submitted, by=office_user, reason="请补充活动照片。")

    assert (report.state, report.return_reason, report.reviewed_by) == (
        S.RETURNED,
        "请补充活动照片。",
        office_user,
    )
    assert calls == [{"report": report, "reason": "请补充活动照片。"}]
    event = ReportEvent.objects.get(action="returned")
    assert (event.comment, event.from_state, event.to_state) == ("请补充活动照片。", "submitted", "returned")


def test_return_with_no_reason_is_refused(submitted, office_user):
    with pytest.raises(DomainError) as exc:
        services.report_return(report=submitted, by=office_user, reason="   ")

    assert exc.value.message == "退回时必须填写退回原因，以便联络员知道如何修改。"
    assert ProgressReport.objects.get().state == S.SUBMITTED


def test_returned_report_is_fixed_and_resubmitted(submitted, liaison_a, office_user):
    returned = services.report_return(report=submitted, by=office_user, reason="请补充数据。")
    fixed = services.report_save_draft(
        report=returned, by=liaison_a, version=returned.version, progress="补充了数据。"
    )

    report = services.report_submit(report=fixed, by=liaison_a)

    assert report.state == S.SUBMITTED
    assert report.return_reason == "请补充数据。"  # kept for the record until reviewed again
    assert actions(report) == ["created", "submitted", "returned", "saved", "submitted"]
    assert ReportEvent.objects.filter(action="submitted").last().comment == "修改后重新报送"


def test_office_approves_and_the_report_is_locked(submitted, office_user):
    report = services.report_approve(report=submitted, by=office_user)

    assert (report.state, report.reviewed_by, report.is_editable) == (S.APPROVED, office_user, False)
    with pytest.raises(DomainError) as exc:
        services.report_return(report=report, by=office_user, reason="再看看")
    assert exc.value.message == "该报告已审核通过，不能重复审核或退回。"


@pytest.mark.parametrize("step", ["approve", "return"])
def test_draft_cannot_be_reviewed(draft, office_user, step):
    with pytest.raises(DomainError) as exc:
        if step == "approve":
            services.report_approve(report=draft, by=office_user)
        else:
            services.report_return(report=draft, by=office_user, reason="x")

    assert exc.value.message == "该报告尚未报送，不能审核。"


def test_returned_report_cannot_be_approved_before_resubmission(submitted, office_user):
    services.report_return(report=submitted, by=office_user, reason="补充")

    with pytest.raises(DomainError) as exc:
        services.report_approve(report=submitted, by=office_user)

    assert exc.value.message == "该报告已退回，正在等待单位修改后重新报送。"


@pytest.mark.parametrize("who", ["liaison_a", "leadership_user"])
def test_only_office_reviews(submitted, request, who):
    user = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        services.report_approve(report=submitted, by=user)
    with pytest.raises(PermissionDenied):
        services.report_return(report=submitted, by=user, reason="x")

    assert ProgressReport.objects.get().state == S.SUBMITTED


def test_approve_many_approves_the_submitted_and_skips_the_rest(open_period, unit_a, liaison_a, office_user):
    reports = [
        services.report_create(period=open_period, unit=unit_a, task=task(n), by=liaison_a, progress="进展")
        for n in (2, 3, 4)
    ]
    services.report_submit(report=reports[0], by=liaison_a)
    services.report_submit(report=reports[1], by=liaison_a)

    approved, skipped = services.reports_approve_many(report_ids=[r.pk for r in reports], by=office_user)

    assert sorted(r.task.number for r in approved) == [2, 3]
    assert [r.task.number for r in skipped] == [4]
    assert dict(ProgressReport.objects.values_list("task__number", "state")) == {
        2: S.APPROVED,
        3: S.APPROVED,
        4: S.DRAFT,
    }
    assert ReportEvent.objects.filter(action="approved", comment="批量审核通过").count() == 2


def test_approve_many_needs_a_selection(office_user):
    with pytest.raises(DomainError) as exc:
        services.reports_approve_many(report_ids=[], by=office_user)

    assert exc.value.message == "请先勾选要通过的报告。"


# ---------------------------------------------------------------- closed periods and reopening


def test_closed_period_refuses_new_reports_and_changes(closed_period, unit_a, liaison_a):
    report = ProgressReport.objects.create(period=closed_period, unit=unit_a, task=task(3), progress="旧")

    with pytest.raises(DomainError) as create:
        services.report_create(period=closed_period, unit=unit_a, task=task(4), by=liaison_a)
    with pytest.raises(DomainError) as edit:
        services.report_save_draft(report=report, by=liaison_a, version=1, progress="新")

    expected = "2025年第三季度已截止报送，报告已锁定。如需补报或修改，请联系创建办为本单位开放补报。"
    assert create.value.message == expected
    assert edit.value.message == expected
    assert ProgressReport.objects.get().progress == "旧"


def test_reopening_lets_that_unit_only_change_a_closed_period(
    closed_period,
    unit_a,
    unit_b,
    liaison_a,
    liaison_b,
    office_user,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    calls = []
    monkeypatch.setattr(services, "on_period_reopened", [lambda **kw: calls.append(kw)])
    old = ProgressReport.objects.create(period=closed_period, unit=unit_a, task=task(3), progress="旧")

    with django_capture_on_commit_callbacks(execute=True):
        reopening = services.period_reopen_for_unit(
            period=closed_period, unit=unit_a, by=office_user, reason="补报漏报任务"
        )
    report = services.report_create(
        period=closed_period, unit=unit_a, task=task(4), by=liaison_a, progress="补报"
    )

    assert report.state == S.DRAFT
    assert calls == [{"reopening": reopening}]
    assert actions(old) == ["reopened"]
    with pytest.raises(DomainError):
        services.report_create(period=closed_period, unit=unit_b, task=task(4), by=liaison_b, progress="x")


def test_expired_or_revoked_reopening_locks_again(closed_period, unit_a, liaison_a, office_user):
    reopening = services.period_reopen_for_unit(
        period=closed_period, unit=unit_a, by=office_user, reason="补报"
    )
    PeriodReopening.objects.filter(pk=reopening.pk).update(until=timezone.localdate() - dt.timedelta(days=1))

    with pytest.raises(DomainError):
        services.report_create(period=closed_period, unit=unit_a, task=task(4), by=liaison_a)


def test_reopening_needs_a_reason_and_a_closed_period(closed_period, open_period, unit_a, office_user):
    with pytest.raises(DomainError) as no_reason:
        services.period_reopen_for_unit(period=closed_period, unit=unit_a, by=office_user, reason="")
    with pytest.raises(DomainError) as still_open:
        services.period_reopen_for_unit(period=open_period, unit=unit_a, by=office_user, reason="补报")

    assert no_reason.value.message == "请填写开放补报的原因。"
    assert still_open.value.message == "2025年第四季度尚未截止，无需开放补报。"


def test_reopening_twice_is_refused(closed_period, unit_a, office_user):
    services.period_reopen_for_unit(period=closed_period, unit=unit_a, by=office_user, reason="补报")

    with pytest.raises(DomainError) as exc:
        services.period_reopen_for_unit(period=closed_period, unit=unit_a, by=office_user, reason="再开")

    assert exc.value.message == "已为市委宣传部开放2025年第三季度补报（直至撤销），无需重复开放。"


def test_liaison_cannot_reopen(closed_period, unit_a, liaison_a):
    with pytest.raises(PermissionDenied) as exc:
        services.period_reopen_for_unit(period=closed_period, unit=unit_a, by=liaison_a, reason="自己开")

    assert exc.value.message == "只有创建办工作人员可以审核报告和开放补报。"


def test_office_still_reviews_a_report_after_its_period_closed(submitted, office_user, open_period):
    open_period.state = ReportingPeriod.State.CLOSED
    open_period.save()

    report = services.report_approve(report=submitted, by=office_user)

    assert report.state == S.APPROVED


def test_a_report_does_not_take_site_counts_they_come_from_the_register(draft, liaison_a):
    from reports.selectors import report_metrics

    codes = {m.code for m in report_metrics(task=draft.task)}

    assert not codes & {"demo_sites", "sites_provincial", "sites_city"}
    with pytest.raises(DomainError):
        services.report_save_draft(
            report=draft, by=liaison_a, version=1, metrics={metric("demo_sites").pk: 2}
        )
