"""The unit leader's sign-off (分管领导 审核): a unit that requires it has a liaison's submit go to its leader,
who signs it off (then it reaches the office) or returns it with a reason. Each step allowed and refused, its
event rows, on time measured at reaching the office, the office's queue, and who may do what (cross-unit)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaign.errors import DomainError, PermissionDenied
from campaign.lights import GREY, RED, YELLOW
from reports import selectors, services
from reports.models import ProgressReport, ReportEvent
from reports.selectors import QueueFilters
from tasks.models import Task
from tests.conftest import make_user
from units.models import Membership

S = ProgressReport.State
A = ReportEvent.Action
SHANGHAI = ZoneInfo("Asia/Shanghai")
ON_TIME_NOTE = "按时：以报送到创建办（分管领导审核通过）的时间计算"


def task(number: int) -> Task:
    return Task.objects.get(number=number)


@pytest.fixture
def signoff_unit(unit_a):
    unit_a.requires_signoff = True
    unit_a.save()
    return unit_a


@pytest.fixture
def leader_a(unit_a):
    user = make_user("leader_a", surname="刘", given="分管")
    Membership.objects.create(user=user, unit=unit_a, role=Membership.Role.LEADER)
    return user


@pytest.fixture
def leader_b(unit_b):
    user = make_user("leader_b", surname="陈", given="崆领")
    Membership.objects.create(user=user, unit=unit_b, role=Membership.Role.LEADER)
    return user


@pytest.fixture
def draft(open_period, signoff_unit, liaison_a) -> ProgressReport:
    return services.report_create(
        period=open_period, unit=signoff_unit, task=task(3), by=liaison_a, progress="开展宣讲活动5场。"
    )


@pytest.fixture
def awaiting(draft, liaison_a, leader_a) -> ProgressReport:
    return services.report_submit(report=draft, by=liaison_a)


def events(report) -> list[tuple[str, str, str]]:
    return list(
        ReportEvent.objects.filter(report=report)
        .order_by("at", "id")
        .values_list("action", "from_state", "to_state")
    )


# ---------------------------------------------------------------- the states


def test_submit_goes_to_the_leader_when_the_unit_requires_signoff(draft, liaison_a):
    report = services.report_submit(report=draft, by=liaison_a)

    assert report.state == S.AWAITING_SIGNOFF
    report.refresh_from_db()
    assert report.state == S.AWAITING_SIGNOFF
    assert report.sent_for_signoff_at is not None
    assert report.submitted_at is None and report.first_submitted_at is None
    assert not report.is_reported
    assert events(report)[-1] == (A.SENT_FOR_SIGNOFF, S.DRAFT, S.AWAITING_SIGNOFF)


def test_submit_goes_to_the_office_when_the_unit_does_not_require_signoff(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="开展宣讲活动5场。"
    )

    report = services.report_submit(report=report, by=liaison_a)

    assert report.state == S.SUBMITTED and report.first_submitted_at is not None
    assert report.sent_for_signoff_at is None
    assert events(report)[-1] == (A.SUBMITTED, S.DRAFT, S.SUBMITTED)


def test_leader_signs_off_and_the_report_reaches_the_office(awaiting, leader_a):
    report = services.report_signoff(report=awaiting, by=leader_a, comment="同意报送")

    report.refresh_from_db()
    assert report.state == S.SUBMITTED and report.is_reported
    assert report.signed_off_by == leader_a
    assert report.first_submitted_at == report.submitted_at == report.signed_off_at
    assert events(report)[-1] == (A.SIGNED_OFF, S.AWAITING_SIGNOFF, S.SUBMITTED)
    assert ReportEvent.objects.get(report=report, action=A.SIGNED_OFF).comment == "同意报送"


def test_leader_returns_with_a_reason_to_the_liaison(awaiting, leader_a):
    report = services.report_return(report=awaiting, by=leader_a, reason="数据需与统计局核对。")

    report.refresh_from_db()
    assert report.state == S.RETURNED
    assert report.return_reason == "数据需与统计局核对。"
    assert report.returned_by_leader and report.returned_by == leader_a
    assert report.reviewed_at is None and report.first_submitted_at is None
    assert events(report)[-1] == (A.SIGNOFF_RETURNED, S.AWAITING_SIGNOFF, S.RETURNED)


def test_leader_must_give_a_reason_to_return(awaiting, leader_a):
    with pytest.raises(DomainError) as refused:
        services.report_signoff_return(report=awaiting, by=leader_a, reason="  ")

    assert refused.value.code == "reason_required"
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_a_report_returned_by_the_leader_goes_through_the_leader_again(awaiting, liaison_a, leader_a):
    returned = services.report_return(report=awaiting, by=leader_a, reason="请补充图片。")
    again = services.report_submit(report=returned, by=liaison_a)

    assert again.state == S.AWAITING_SIGNOFF
    assert events(again)[-1] == (A.SENT_FOR_SIGNOFF, S.RETURNED, S.AWAITING_SIGNOFF)
    assert ReportEvent.objects.filter(report=again).last().comment == "修改后重新报送"


def test_a_report_the_office_returns_goes_through_the_leader_again(
    awaiting, liaison_a, leader_a, office_user
):
    signed = services.report_signoff(report=awaiting, by=leader_a)
    returned = services.report_return(report=signed, by=office_user, reason="请补充佐证材料。")
    assert returned.state == S.RETURNED and not returned.returned_by_leader
    assert returned.returned_by == office_user

    again = services.report_submit(report=returned, by=liaison_a)

    assert again.state == S.AWAITING_SIGNOFF
    first = signed.first_submitted_at
    final = services.report_signoff(report=again, by=leader_a)
    assert final.state == S.SUBMITTED
    assert final.first_submitted_at == first  # on time reads the first time it reached the office
    assert [e[0] for e in events(final)] == [
        A.CREATED,
        A.SENT_FOR_SIGNOFF,
        A.SIGNED_OFF,
        A.RETURNED,
        A.SENT_FOR_SIGNOFF,
        A.SIGNED_OFF,
    ]


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.RETURNED, S.APPROVED])
def test_signoff_is_refused_unless_the_report_waits_for_it(draft, leader_a, state):
    ProgressReport.objects.filter(pk=draft.pk).update(state=state)
    draft.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        services.report_signoff(report=draft, by=leader_a)
    with pytest.raises(DomainError):
        services.report_signoff_return(report=draft, by=leader_a, reason="理由")

    assert "签发" in refused.value.message or "不能" in refused.value.message
    draft.refresh_from_db()
    assert draft.state == state


def test_a_waiting_report_cannot_be_edited_submitted_twice_or_reviewed(awaiting, liaison_a, office_user):
    with pytest.raises(DomainError, match="分管领导审核，暂不能修改"):
        services.report_save_draft(report=awaiting, by=liaison_a, version=awaiting.version, progress="改")
    with pytest.raises(DomainError, match="无需重复报送"):
        services.report_submit(report=awaiting, by=liaison_a)
    with pytest.raises(DomainError, match="尚未报送到创建办"):
        services.report_approve(report=awaiting, by=office_user)
    approved, skipped = services.reports_approve_many(report_ids=[awaiting.pk], by=office_user)
    assert approved == [] and [r.pk for r in skipped] == [awaiting.pk]
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


# ---------------------------------------------------------------- who may (cross-unit)


def test_only_the_units_own_leader_signs_off(awaiting, liaison_a, liaison_b, leader_b, office_user):
    for person, words in (
        (liaison_a, "只有本单位的分管领导"),
        (liaison_b, "只有本单位的分管领导"),
        (leader_b, "只有本单位的分管领导"),
        (office_user, "尚未报送到创建办"),
    ):
        with pytest.raises(PermissionDenied, match=words):
            services.report_signoff(report=awaiting, by=person)
        with pytest.raises(PermissionDenied):
            services.report_return(report=awaiting, by=person, reason="理由")
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_leadership_cannot_sign_off(awaiting, leadership_user):
    with pytest.raises(PermissionDenied, match="只能查看"):
        services.report_signoff(report=awaiting, by=leadership_user)


def test_a_leader_cannot_do_the_offices_review(awaiting, leader_a):
    signed = services.report_signoff(report=awaiting, by=leader_a)

    with pytest.raises(PermissionDenied):
        services.report_approve(report=signed, by=leader_a)
    with pytest.raises(PermissionDenied):
        services.report_return(report=signed, by=leader_a, reason="理由")


# ---------------------------------------------------------------- on time: reached the office


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def test_on_time_is_measured_when_the_leader_signs_off_not_when_the_liaison_sends(
    draft, liaison_a, leader_a, open_period
):
    due = open_period.due_on
    with time_machine.travel(_at(due, 20), tick=False):
        sent = services.report_submit(report=draft, by=liaison_a)
    with time_machine.travel(_at(due + dt.timedelta(days=1), 9), tick=False):
        signed = services.report_signoff(report=sent, by=leader_a)

    signed.refresh_from_db()
    assert signed.sent_for_signoff_at < open_period.on_time_cutoff <= signed.first_submitted_at
    assert not signed.is_on_time and signed.is_late
    assert not ProgressReport.objects.filter(pk=signed.pk).on_time().exists()
    assert ProgressReport.objects.filter(pk=signed.pk).reported().exists()


def test_signed_off_on_the_due_day_is_on_time(draft, liaison_a, leader_a, open_period):
    due = open_period.due_on
    with time_machine.travel(_at(due, 9), tick=False):
        sent = services.report_submit(report=draft, by=liaison_a)
    with time_machine.travel(_at(due, 23), tick=False):
        signed = services.report_signoff(report=sent, by=leader_a)

    assert signed.is_on_time
    assert ProgressReport.objects.filter(pk=signed.pk).on_time().exists()


def test_a_waiting_report_is_not_reported_and_its_light_says_where_it_waits(awaiting, open_period):
    assert not ProgressReport.objects.filter(pk=awaiting.pk).reported().exists()
    due = open_period.due_on

    assert ProgressReport.light_for(awaiting, open_period, due - dt.timedelta(days=30)) == (
        GREY,
        "待分管领导审核",
    )
    assert ProgressReport.light_for(awaiting, open_period, due - dt.timedelta(days=1)) == (
        YELLOW,
        "即将截止（待分管领导审核）",
    )
    assert ProgressReport.light_for(awaiting, open_period, due + dt.timedelta(days=1)) == (
        RED,
        "逾期未报（待分管领导审核）",
    )


# ---------------------------------------------------------------- the office's queue


def test_the_offices_queue_shows_only_signed_off_reports(awaiting, leader_a, as_office, open_period):
    filters = QueueFilters(period=open_period.pk)
    assert list(selectors.review_queryset(filters)) == []
    assert selectors.next_pending(after=awaiting) is None
    page = as_office.get(f"/reports/review/?period={open_period.pk}")
    assert f'data-report="{awaiting.pk}"' not in page.content.decode()

    services.report_signoff(report=awaiting, by=leader_a)

    assert [r.pk for r in selectors.review_queryset(filters)] == [awaiting.pk]
    page = as_office.get(f"/reports/review/?period={open_period.pk}")
    assert f'data-report="{awaiting.pk}"' in page.content.decode()


# ---------------------------------------------------------------- the leader's pages


def test_leaders_queue_lists_the_units_waiting_reports_with_the_on_time_rule(awaiting, client, leader_a):
    client.force_login(leader_a)

    page = client.get("/reports/signoff/")

    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="signoff-{awaiting.pk}"' in html
    assert ON_TIME_NOTE in html
    assert "签发（报送到创建办）" in html and "退回联络员" in html


def test_another_units_leader_sees_nothing_of_it_and_gets_404_on_its_steps(awaiting, client, leader_b):
    client.force_login(leader_b)

    assert f'id="signoff-{awaiting.pk}"' not in client.get("/reports/signoff/").content.decode()
    assert client.post(f"/reports/{awaiting.pk}/signoff/").status_code == 404
    assert client.post(f"/reports/{awaiting.pk}/signoff/return/", {"reason": "x"}).status_code == 404
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_a_liaison_and_the_office_get_403_on_the_leaders_steps(awaiting, client, liaison_a, office_user):
    for person in (liaison_a, office_user):
        client.force_login(person)
        assert client.post(f"/reports/{awaiting.pk}/signoff/").status_code == 403
        assert client.post(f"/reports/{awaiting.pk}/signoff/return/", {"reason": "x"}).status_code == 403
    client.force_login(liaison_a)
    assert client.get("/reports/signoff/").status_code == 403
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_signoff_from_the_queue_with_htmx_redraws_the_card(awaiting, client, leader_a):
    client.force_login(leader_a)

    response = client.post(f"/reports/{awaiting.pk}/signoff/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "已签发，报告已报送到创建办。" in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.state == S.SUBMITTED


def test_return_without_a_reason_from_the_queue_says_so_and_keeps_the_report(awaiting, client, leader_a):
    client.force_login(leader_a)

    response = client.post(
        f"/reports/{awaiting.pk}/signoff/return/", {"reason": ""}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    assert "退回时必须填写退回原因" in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_return_from_the_queue_without_htmx_goes_back_to_the_queue(awaiting, client, leader_a):
    client.force_login(leader_a)

    response = client.post(f"/reports/{awaiting.pk}/signoff/return/", {"reason": "请补充数据。"})

    assert response.status_code == 302 and response["Location"] == "/reports/signoff/"
    awaiting.refresh_from_db()
    assert awaiting.state == S.RETURNED


def test_report_page_shows_the_signoff_step_and_who_signed(awaiting, client, leader_a, liaison_a):
    client.force_login(leader_a)
    html = client.get(f"/reports/{awaiting.pk}/").content.decode()
    assert 'data-testid="signoff-box"' in html and 'data-testid="awaiting-signoff"' in html
    assert ON_TIME_NOTE in html

    services.report_signoff(report=awaiting, by=leader_a)
    client.force_login(liaison_a)
    html = client.get(f"/reports/{awaiting.pk}/").content.decode()

    assert 'data-testid="signoff-box"' not in html
    assert "分管领导审核：刘分管 于" in html
    assert "分管领导审核通过" in html  # the event row in 办理记录


def test_liaison_is_told_the_report_went_to_the_leader(draft, client, liaison_a, open_period, signoff_unit):
    client.force_login(liaison_a)

    response = client.post(f"/reports/{draft.pk}/submit/", follow=True)

    assert "已送本单位分管领导审核" in response.content.decode()
    period_page = client.get(f"/reports/?unit={signoff_unit.pk}&period={open_period.pk}").content.decode()
    assert ON_TIME_NOTE in period_page


def test_returned_by_the_leader_reads_so_on_the_form(awaiting, client, leader_a, liaison_a):
    services.report_return(report=awaiting, by=leader_a, reason="请补充数据。")
    client.force_login(liaison_a)

    html = client.get(
        f"/reports/fill/{awaiting.period_id}/{awaiting.unit_id}/{awaiting.task_id}/"
    ).content.decode()

    assert "本单位分管领导已退回此报告" in html and "请补充数据。" in html


# ---------------------------------------------------------------- the API


@pytest.fixture
def api(api_client):
    def as_(user):
        api_client.force_authenticate(user)
        return api_client

    return as_


def test_api_shows_awaiting_signoff_and_the_leader_signs_off(awaiting, api, leader_a):
    client = api(leader_a)
    assert client.get(f"/api/v1/reports/{awaiting.pk}/").json()["state"] == "awaiting_signoff"

    response = client.post(f"/api/v1/reports/{awaiting.pk}/signoff/", {"comment": "同意"}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["state"] == "submitted"
    assert body["signed_off_by_name"] == "刘分管"
    assert body["first_submitted_at"] == body["signed_off_at"]
    assert body["sent_for_signoff_at"] is not None


def test_api_submit_goes_to_awaiting_signoff(draft, api, liaison_a):
    response = api(liaison_a).post(f"/api/v1/reports/{draft.pk}/submit/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "awaiting_signoff"
    assert response.json()["state_label"] == "待分管领导审核"


def test_api_leader_returns_with_a_reason_required(awaiting, api, leader_a):
    client = api(leader_a)

    missing = client.post(f"/api/v1/reports/{awaiting.pk}/return/", {}, format="json")
    assert missing.status_code == 400
    assert "退回原因" in str(missing.json())

    done = client.post(f"/api/v1/reports/{awaiting.pk}/return/", {"reason": "请补充。"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "returned"


def test_api_cross_unit_leader_404_liaison_and_office_403(awaiting, api, leader_b, liaison_a, office_user):
    url = f"/api/v1/reports/{awaiting.pk}/signoff/"
    assert api(leader_b).post(url, {}, format="json").status_code == 404
    assert api(leader_b).post(f"/api/v1/reports/{awaiting.pk}/return/", {"reason": "x"}).status_code == 404
    assert api(liaison_a).post(url, {}, format="json").status_code == 403
    assert api(office_user).post(url, {}, format="json").status_code == 403
    assert api(office_user).post(f"/api/v1/reports/{awaiting.pk}/return/", {"reason": "x"}).status_code == 403
    awaiting.refresh_from_db()
    assert awaiting.state == S.AWAITING_SIGNOFF


def test_api_leader_may_not_return_a_submitted_report(awaiting, api, leader_a):
    services.report_signoff(report=awaiting, by=leader_a)

    response = api(leader_a).post(f"/api/v1/reports/{awaiting.pk}/return/", {"reason": "x"}, format="json")

    assert response.status_code == 403


def test_api_signoff_of_a_report_not_waiting_is_400(draft, api, leader_a):
    response = api(leader_a).post(f"/api/v1/reports/{draft.pk}/signoff/", {}, format="json")

    assert response.status_code == 400
    assert "尚未报送" in str(response.json())


def test_api_schema_has_the_signoff_action_in_chinese(as_office):
    schema = as_office.get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/reports/{id}/signoff/"]["post"]
    assert operation["summary"] == "分管领导审核签发"
    assert operation["tags"] == ["进展报告"]


def test_the_form_says_where_the_report_goes_and_the_on_time_rule(draft, client, liaison_a):
    client.force_login(liaison_a)

    html = client.get(f"/reports/fill/{draft.period_id}/{draft.unit_id}/{draft.task_id}/").content.decode()

    assert "报送分管领导审核</button>" in html
    assert "报告将先送本单位分管领导审核" in html and ON_TIME_NOTE in html


def test_the_form_submit_sends_to_the_leader_and_says_so(draft, client, liaison_a):
    client.force_login(liaison_a)
    url = f"/reports/fill/{draft.period_id}/{draft.unit_id}/{draft.task_id}/"

    response = client.post(
        url,
        {
            "version": draft.version,
            "progress": draft.progress,
            "progress_status": "on_track",
            "action": "submit",
        },
        follow=True,
    )

    assert "任务3的报告已送本单位分管领导审核，审核通过后报送到创建办。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == S.AWAITING_SIGNOFF


def test_the_unit_leader_finds_the_queue_in_the_navigation_and_a_liaison_does_not(
    client, leader_a, liaison_a
):
    client.force_login(leader_a)
    assert 'href="/reports/signoff/"' in client.get("/").content.decode()
    client.force_login(liaison_a)
    assert 'href="/reports/signoff/"' not in client.get("/").content.decode()
