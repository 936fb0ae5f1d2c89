"""The reports API: create, list with filters, PATCH with version (409 when stale), workflow actions, evidence
and events — each bad input answered with a Chinese message and nothing lost."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from reports import services
from reports.models import Evidence, ProgressReport
from tasks.models import Metric, Task
from tests.conftest import make_user
from units.models import Membership

URL = "/api/v1/reports/"


def task_id(number: int) -> int:
    return Task.objects.get(number=number).pk


def metric_id(code: str) -> int:
    return Metric.objects.get(code=code).pk


@pytest.fixture
def api_a(api_client, liaison_a):
    api_client.force_authenticate(liaison_a)
    return api_client


@pytest.fixture
def api_office(api_client, office_user):
    api_client.force_authenticate(office_user)
    return api_client


def new_report(open_period, unit_a, liaison_a, number=3, progress="开展宣讲5场。") -> ProgressReport:
    return services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=number), by=liaison_a, progress=progress
    )


def test_liaison_creates_a_report_with_metrics(api_a, open_period, unit_a):
    response = api_a.post(
        URL,
        {
            "period": open_period.pk,
            "unit": unit_a.pk,
            "task": task_id(8),
            "progress": "召开常委会专题研究民族工作。",
            "progress_status": "on_track",
            "metrics": [{"metric": metric_id("meetings"), "value": 2}],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["state_label"], body["version"]) == ("draft", "草稿", 1)
    assert body["metrics"] == [
        {
            "metric": metric_id("meetings"),
            "code": "meetings",
            "name": "研究民族工作会议",
            "unit_of_measure": "次",
            "value": "2.00",
            "unusual": False,
        }
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"task": 11}, "市委宣传部不是任务11“全力推动乡村振兴”的责任单位，不能为该任务填写报告。"),
        ({"metrics": [{"metric": "boards", "value": 3}]}, "“boards”不是有效的指标编号。"),
        ({"metrics": "many"}, '指标数值应为列表：[{"metric": 指标编号, "value": 数值}]。'),
    ],
)
def test_bad_create_inputs_are_refused_with_a_message(api_a, open_period, unit_a, payload, message):
    data = {"period": open_period.pk, "unit": unit_a.pk, "task": task_id(3)} | payload
    if "task" in payload:
        data["task"] = task_id(payload["task"])

    response = api_a.post(URL, data, format="json")

    assert response.status_code == 400
    body = response.json()
    assert message in (body.get("detail") or str(body))
    assert ProgressReport.objects.count() == 0


def test_negative_and_non_numeric_metrics_are_refused(api_a, open_period, unit_a):
    base = {"period": open_period.pk, "unit": unit_a.pk, "task": task_id(3)}

    negative = api_a.post(
        URL, base | {"metrics": [{"metric": metric_id("boards"), "value": -1}]}, format="json"
    )
    words = api_a.post(
        URL, base | {"metrics": [{"metric": metric_id("boards"), "value": "很多"}]}, format="json"
    )

    assert (negative.status_code, negative.json()["detail"]) == (400, "“展板”不能为负数，请填写 0 或正数。")
    assert (words.status_code, words.json()["detail"]) == (
        400,
        "“展板”应填写数字（单位：块），“很多”不是数字。",
    )


def test_duplicate_report_is_refused(api_a, open_period, unit_a, liaison_a):
    new_report(open_period, unit_a, liaison_a)

    response = api_a.post(
        URL, {"period": open_period.pk, "unit": unit_a.pk, "task": task_id(3)}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "市委宣传部2025年第四季度任务3的报告已经存在，请打开原报告修改，不要重复填写。",
        "code": "duplicate",
    }


def test_create_without_period_unit_task_is_refused(api_a):
    response = api_a.post(URL, {"progress": "x"}, format="json")

    assert (response.status_code, response.json()["detail"]) == (400, "请指定报告期、单位、任务。")


def test_list_is_filtered_by_period_unit_task_and_state(
    api_office, open_period, unit_a, unit_b, liaison_a, liaison_b
):
    a3 = new_report(open_period, unit_a, liaison_a, 3)
    new_report(open_period, unit_a, liaison_a, 4)
    b3 = new_report(open_period, unit_b, liaison_b, 3)
    services.report_submit(report=b3, by=liaison_b)

    by_unit = api_office.get(URL, {"unit": unit_a.pk}).json()
    by_task = api_office.get(URL, {"task": task_id(3)}).json()
    by_state = api_office.get(URL, {"state": "submitted", "period": open_period.pk}).json()

    assert by_unit["count"] == 2
    assert sorted(r["id"] for r in by_task["results"]) == sorted([a3.pk, b3.pk])
    assert [r["id"] for r in by_state["results"]] == [b3.pk]


def test_invalid_state_filter_is_a_400(api_office, plan):
    assert api_office.get(URL, {"state": "finished"}).status_code == 400


def test_patch_with_the_current_version_saves(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    response = api_a.patch(
        f"{URL}{report.pk}/",
        {
            "progress": "更新后的进展",
            "version": 1,
            "metrics": [{"metric": metric_id("funding"), "value": "12.5"}],
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["progress"], body["version"]) == ("更新后的进展", 2)
    assert body["metrics"][0]["value"] == "12.50"


def test_patch_with_a_stale_version_is_409_and_nothing_is_lost(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)
    services.report_save_draft(report=report, by=liaison_a, version=1, progress="先保存的内容")

    response = api_a.patch(f"{URL}{report.pk}/", {"progress": "后保存的内容", "version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert response.json()["detail"].startswith("该报告已被他人修改（王宣于")
    assert response.json()["detail"].endswith("保存），您的内容未丢失，请核对后再保存。")
    assert ProgressReport.objects.get().progress == "先保存的内容"


def test_patch_without_version_is_refused(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    response = api_a.patch(f"{URL}{report.pk}/", {"progress": "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "请提供 version（报告当前的版本号），以免覆盖他人的修改。"


def test_state_cannot_be_patched(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    response = api_a.patch(f"{URL}{report.pk}/", {"state": "approved", "version": 1}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "draft"


def test_changing_the_task_of_a_report_is_refused(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    response = api_a.patch(f"{URL}{report.pk}/", {"task": task_id(4), "version": 1}, format="json")

    assert (response.status_code, response.json()["detail"]) == (400, "报告创建后不能更改任务。")


def test_patch_of_an_approved_report_is_refused(api_a, open_period, unit_a, liaison_a, office_user):
    report = new_report(open_period, unit_a, liaison_a)
    services.report_submit(report=report, by=liaison_a)
    services.report_approve(report=report, by=office_user)

    response = api_a.patch(f"{URL}{report.pk}/", {"progress": "改", "version": 3}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "locked")
    assert ProgressReport.objects.get().progress == "开展宣讲5场。"


def test_full_loop_through_the_api(api_client, open_period, unit_a, liaison_a, office_user):
    api_client.force_authenticate(liaison_a)
    created = api_client.post(
        URL, {"period": open_period.pk, "unit": unit_a.pk, "task": task_id(3), "progress": ""}, format="json"
    ).json()
    empty = api_client.post(f"{URL}{created['id']}/submit/")
    api_client.patch(f"{URL}{created['id']}/", {"progress": "开展宣讲5场。", "version": 1}, format="json")
    submitted = api_client.post(f"{URL}{created['id']}/submit/", {"version": 2}, format="json")
    api_client.force_authenticate(office_user)
    no_reason = api_client.post(f"{URL}{created['id']}/return/", {}, format="json")
    returned = api_client.post(f"{URL}{created['id']}/return/", {"reason": "请补充照片。"}, format="json")
    api_client.force_authenticate(liaison_a)
    resubmitted = api_client.post(f"{URL}{created['id']}/submit/")
    api_client.force_authenticate(office_user)
    approved = api_client.post(f"{URL}{created['id']}/approve/")
    events = api_client.get(f"{URL}{created['id']}/events/").json()["results"]

    assert (empty.status_code, empty.json()["detail"]) == (
        400,
        "“工作进展”还没有填写，不能报送。请先填写本季度的工作进展并保存。",
    )
    assert submitted.json()["state"] == "submitted"
    assert (no_reason.status_code, no_reason.json()["detail"]) == (
        400,
        "退回时必须填写退回原因，以便联络员知道如何修改。",
    )
    assert (returned.json()["state"], returned.json()["return_reason"]) == ("returned", "请补充照片。")
    assert resubmitted.json()["state"] == "submitted"
    assert approved.json()["state"] == "approved"
    assert [e["action"] for e in events] == [
        "created",
        "saved",
        "submitted",
        "returned",
        "submitted",
        "approved",
    ]
    assert events[3]["comment"] == "请补充照片。"
    assert events[3]["actor_name"] == "张主任"


def test_evidence_upload_through_the_api(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(out, format="PNG")

    response = api_a.post(
        f"{URL}{report.pk}/evidence/",
        {"file": SimpleUploadedFile("现场.png", out.getvalue()), "caption": "现场照片"},
        format="multipart",
    )
    listed = api_a.get(f"{URL}{report.pk}/evidence/").json()["results"]

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["caption"], body["content_type"]) == ("file", "现场照片", "image/png")
    assert body["file_url"] == f"/reports/evidence/{body['id']}/"
    assert [e["id"] for e in listed] == [body["id"]]


def test_exe_renamed_pdf_is_refused_through_the_api(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    response = api_a.post(
        f"{URL}{report.pk}/evidence/",
        {"file": SimpleUploadedFile("报告.pdf", b"MZ\x90\x00" + b"\x00" * 100)},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "file_type"
    assert Evidence.objects.count() == 0


def test_link_evidence_and_removal_through_the_api(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    added = api_a.post(
        f"{URL}{report.pk}/evidence/", {"url": "https://example.cn/news/1", "caption": "新闻"}, format="json"
    )
    removed = api_a.delete(f"{URL}{report.pk}/evidence/{added.json()['id']}/")

    assert added.status_code == 201
    assert removed.status_code == 204
    assert Evidence.objects.count() == 0


def test_put_and_delete_are_not_offered(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)

    assert api_a.put(f"{URL}{report.pk}/", {"version": 1}, format="json").status_code == 405
    assert api_a.delete(f"{URL}{report.pk}/").status_code == 405


def test_office_reopens_a_period_for_a_unit_through_the_api(api_office, plan, unit_a):
    from campaign.models import ReportingPeriod

    closed = ReportingPeriod.objects.get(year=2025, quarter=3)
    closed.state = ReportingPeriod.State.CLOSED
    closed.save()

    response = api_office.post(
        "/api/v1/reopenings/", {"period": closed.pk, "unit": unit_a.pk, "reason": "补报"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["unit"] == unit_a.pk


def test_list_uses_a_fixed_number_of_queries(
    api_office, open_period, unit_a, unit_b, liaison_a, liaison_b, django_assert_num_queries
):
    for n in (3, 4):
        new_report(open_period, unit_a, liaison_a, n)
    api_office.get(URL)  # the user's roles are loaded once and kept on the user
    with django_assert_num_queries(4):  # count, page, metric values, evidence
        api_office.get(URL)
    for n in (3, 4, 5, 6, 7, 8):
        new_report(open_period, unit_b, liaison_b, n)

    with django_assert_num_queries(4):
        response = api_office.get(URL)

    assert response.json()["count"] == 8


# ------------------------------------------------------------------ the write path answers what it wrote


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def selects_of_the_report_after_its_update(queries) -> list[str]:
    """SELECTs of a report's own text (a re-read of the report) after the UPDATE of the report row."""
    sqls = [q["sql"] for q in queries]
    updates = [i for i, sql in enumerate(sqls) if sql.startswith('UPDATE "reports_progressreport"')]
    after = sqls[updates[-1] + 1 :] if updates else []
    return [sql for sql in after if sql.startswith("SELECT") and '"reports_progressreport"."progress"' in sql]


def test_every_step_answers_exactly_what_a_fresh_read_shows(
    api_client, open_period, unit_a, liaison_a, office_user
):
    api_client.force_authenticate(liaison_a)
    created = api_client.post(
        URL,
        {
            "period": open_period.pk,
            "unit": unit_a.pk,
            "task": task_id(3),
            "progress": "开展宣讲5场。",
            "metrics": [
                {"metric": metric_id("lectures"), "value": 5},
                {"metric": metric_id("funding"), "value": 3},
            ],
        },
        format="json",
    )
    report_id = created.json()["id"]
    api_client.post(f"{URL}{report_id}/evidence/", {"file": png(), "caption": "宣讲现场"}, format="multipart")
    steps = [
        (
            liaison_a,
            "patch",
            f"{URL}{report_id}/",
            {
                "progress": "开展宣讲6场。",
                "version": 1,
                "metrics": [
                    {"metric": metric_id("lectures"), "value": "6"},
                    {"metric": metric_id("funding"), "value": None},
                ],
            },
        ),
        (liaison_a, "post", f"{URL}{report_id}/submit/", {"version": 2}),
        (office_user, "post", f"{URL}{report_id}/return/", {"reason": "请补充照片。"}),
        (liaison_a, "post", f"{URL}{report_id}/submit/", {}),
        (office_user, "post", f"{URL}{report_id}/approve/", {"comment": "同意"}),
    ]
    answers = [created.json()]
    for user, method, url, body in steps:
        api_client.force_authenticate(user)
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code == 200, response.json()
        fresh = api_client.get(f"{URL}{report_id}/").json()
        assert response.json() == fresh  # what was written, nothing stale, nothing missing
        answers.append(response.json())

    assert created.status_code == 201
    assert created.json() | {"evidence": []} == created.json()
    assert [a["state"] for a in answers] == [
        "draft",
        "draft",
        "submitted",
        "returned",
        "submitted",
        "approved",
    ]
    assert [a["version"] for a in answers] == [1, 2, 3, 4, 5, 6]
    assert [(m["code"], m["value"]) for m in answers[1]["metrics"]] == [("lectures", "6.00")]
    assert [e["caption"] for e in answers[1]["evidence"]] == ["宣讲现场"]


def test_a_step_does_not_read_the_report_again_after_writing_it(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)
    with CaptureQueriesContext(connection) as patch:
        api_a.patch(f"{URL}{report.pk}/", {"progress": "改后的进展", "version": 1}, format="json")
    with CaptureQueriesContext(connection) as submit:
        api_a.post(f"{URL}{report.pk}/submit/", {"version": 2}, format="json")

    assert ProgressReport.objects.get().state == "submitted"
    assert selects_of_the_report_after_its_update(patch.captured_queries) == []
    assert selects_of_the_report_after_its_update(submit.captured_queries) == []


def test_a_patch_answer_costs_the_same_queries_with_one_file_or_five(api_a, open_period, unit_a, liaison_a):
    report = new_report(open_period, unit_a, liaison_a)
    counts = []
    for version, files in ((1, 1), (2, 4)):
        for n in range(files):
            services.evidence_add_file(report=report, by=liaison_a, file=png(f"p{version}{n}.png"))
        with CaptureQueriesContext(connection) as ctx:
            response = api_a.patch(
                f"{URL}{report.pk}/", {"problems": f"第{version}次", "version": version}, format="json"
            )
        counts.append(len(ctx.captured_queries))
        assert len(response.json()["evidence"]) == Evidence.objects.count()

    assert counts[0] == counts[1]


def test_two_reports_in_a_row_do_not_share_what_is_shown(api_a, open_period, unit_a, liaison_a):
    """The serializers' fields are built once per class: each answer still shows its own report."""
    first = new_report(open_period, unit_a, liaison_a, 3, progress="第一份")
    second = new_report(open_period, unit_a, liaison_a, 4, progress="第二份")
    services.report_save_draft(report=first, by=liaison_a, version=1, metrics={metric_id("lectures"): 2})
    services.report_save_draft(report=second, by=liaison_a, version=1, metrics={metric_id("boards"): 7})
    services.evidence_add_link(report=second, by=liaison_a, url="https://example.com/a", caption="新闻")

    one = api_a.get(f"{URL}{first.pk}/").json()
    two = api_a.get(f"{URL}{second.pk}/").json()
    listed = {r["id"]: r for r in api_a.get(URL).json()["results"]}

    assert (one["progress"], [m["code"] for m in one["metrics"]], one["evidence"]) == (
        "第一份",
        ["lectures"],
        [],
    )
    assert (two["progress"], [m["code"] for m in two["metrics"]]) == ("第二份", ["boards"])
    assert [e["caption"] for e in two["evidence"]] == ["新闻"]
    assert listed == {first.pk: one, second.pk: two}


def test_two_writers_on_one_report_the_second_gets_409_and_the_first_stays(
    api_client, open_period, unit_a, liaison_a
):
    """The version check holds on the API's write path: both read version 1; the one who saves second is
    refused and the first one's text and figures stay."""
    colleague = make_user("liaison_a2", surname="李", given="宣")
    Membership.objects.create(user=colleague, unit=unit_a, role=Membership.Role.LIAISON)
    report = new_report(open_period, unit_a, liaison_a)
    api_client.force_authenticate(liaison_a)
    first = api_client.patch(
        f"{URL}{report.pk}/",
        {"progress": "甲的内容", "version": 1, "metrics": [{"metric": metric_id("lectures"), "value": 4}]},
        format="json",
    )
    api_client.force_authenticate(colleague)
    second = api_client.patch(
        f"{URL}{report.pk}/",
        {"progress": "乙的内容", "version": 1, "metrics": [{"metric": metric_id("lectures"), "value": 9}]},
        format="json",
    )
    stale_submit = api_client.post(f"{URL}{report.pk}/submit/", {"version": 1}, format="json")

    assert (first.status_code, first.json()["version"]) == (200, 2)
    assert (second.status_code, second.json()["code"]) == (409, "stale_version")
    assert stale_submit.status_code == 409
    stored = ProgressReport.objects.get()
    assert (stored.progress, stored.version, stored.state) == ("甲的内容", 2, "draft")
    assert [str(v.value) for v in stored.metric_values.all()] == ["4.00"]


@pytest.mark.parametrize("who", ["liaison_b", "leadership_user", "office_user", None])
def test_other_people_cannot_take_the_write_steps(request, api_client, open_period, unit_a, liaison_a, who):
    report = new_report(open_period, unit_a, liaison_a)
    if who:
        api_client.force_authenticate(request.getfixturevalue(who))
    expected = {"liaison_b": 404, "leadership_user": 403, "office_user": 403, None: 401}[who]

    patch = api_client.patch(f"{URL}{report.pk}/", {"progress": "别人改", "version": 1}, format="json")
    submit = api_client.post(f"{URL}{report.pk}/submit/", {"version": 1}, format="json")

    assert (patch.status_code, submit.status_code) == (expected, expected)
    stored = ProgressReport.objects.get()
    assert (stored.progress, stored.version, stored.state) == ("开展宣讲5场。", 1, "draft")
