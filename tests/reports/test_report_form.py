"""The report form's one save (services.report_save), its GET side (selectors.report_form_state), flow and stock
metrics on the form, and copy-forward from last quarter."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from campaign.errors import PermissionDenied, StaleVersion
from campaign.models import ReportingPeriod
from reports import selectors, services
from reports.forms import ReportForm, copied_forward, report_initial
from reports.models import Evidence, MetricValue, ProgressReport, ReportEvent
from tasks.models import Metric
from tests.factories import UnitFactory, fill_url, make_report, metric, task
from units.access import get_access

S = ProgressReport.State


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue())


def events(report) -> list[str]:
    return list(report.events.order_by("at", "id").values_list("action", flat=True))


@pytest.fixture
def staff(plan) -> Metric:
    """A stock: a running count (专职人员), offered on every report."""
    return Metric.objects.create(
        code="staff",
        name="专职人员",
        unit_of_measure="人",
        aggregation=Metric.Aggregation.LATEST,
        is_common=True,
        order=99,
    )


@pytest.fixture
def previous_period(plan) -> ReportingPeriod:
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    period.state = ReportingPeriod.State.CLOSED
    period.save()
    return period


# ---------------------------------------------------------------- report_save


def test_save_attach_and_submit_happen_in_one_call(
    open_period, unit_a, liaison_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=None,
            fields={
                "progress": "开展宣讲5场。",
                "problems": "",
                "next_steps": "",
                "progress_status": "on_track",
            },
            metrics={metric("lectures").pk: "5"},
            evidence_file=photo(),
            evidence_url="https://example.cn/news/1",
            evidence_caption="宣讲现场",
            submit=True,
        )

    report.refresh_from_db()
    assert (report.state, report.progress, report.version) == (S.SUBMITTED, "开展宣讲5场。", 2)
    assert report.metric_values.get().value == Decimal("5.00")
    assert sorted(Evidence.objects.filter(report=report).values_list("kind", "caption")) == [
        ("file", "宣讲现场"),
        ("link", "宣讲现场"),
    ]
    assert events(report) == ["created", "evidence_added", "evidence_added", "submitted"]
    assert len(callbacks) == 1  # the submit's notification, after commit


def test_refused_submit_keeps_the_saved_draft_and_says_so(
    open_period, unit_a, liaison_a, monkeypatch, django_capture_on_commit_callbacks
):
    # Decision: the save is kept when only the submit is refused (an empty 工作进展): see report_save.
    told = []
    monkeypatch.setattr(services, "on_report_submitted", [lambda **kw: told.append(kw)])

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.SubmitRefused) as refused:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=None,
            fields={"problems": "经费不足"},
            metrics={metric("boards").pk: "4"},
            evidence_file=photo(),
            submit=True,
        )

    assert refused.value.message == (
        "草稿已保存，但未能报送：“工作进展”还没有填写，不能报送。请先填写本季度的工作进展并保存。"
    )
    assert (refused.value.code, refused.value.http_status) == ("empty_progress", 400)
    report = ProgressReport.objects.get()
    assert refused.value.report.pk == report.pk
    assert (report.state, report.problems, report.version, report.submitted_at) == (
        S.DRAFT,
        "经费不足",
        1,
        None,
    )
    assert report.metric_values.get().value == Decimal("4.00")
    assert Evidence.objects.filter(report=report).count() == 1
    assert events(report) == ["created", "evidence_added"]
    assert told == []


def test_refused_file_keeps_nothing_of_the_save(open_period, unit_a, liaison_a):
    exe = SimpleUploadedFile("总结.pdf", b"MZ\x90\x00" + b"\0" * 64)

    with pytest.raises(services.EvidenceRefused) as refused:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=None,
            fields={"progress": "重要内容"},
            evidence_file=exe,
            submit=True,
        )

    assert refused.value.field == "evidence_file"
    assert refused.value.message.startswith("文件“总结.pdf”不是允许的类型（按文件内容识别，与扩展名无关）")
    assert (ProgressReport.objects.count(), Evidence.objects.count(), ReportEvent.objects.count()) == (
        0,
        0,
        0,
    )


def test_refused_link_on_an_update_keeps_nothing_of_the_save(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="v1"
    )

    with pytest.raises(services.EvidenceRefused) as refused:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=1,
            fields={"progress": "v2"},
            evidence_url="not a link",
        )

    assert (refused.value.field, refused.value.code) == ("evidence_url", "url")
    report.refresh_from_db()
    assert (report.progress, report.version) == ("v1", 1)
    assert events(report) == ["created"]


def test_stale_version_is_refused_and_nothing_of_the_save_is_kept(open_period, unit_a, liaison_a):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="v1"
    )
    services.report_save_draft(report=report, by=liaison_a, version=1, progress="别人先保存的内容")

    with pytest.raises(StaleVersion) as stale:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=1,
            fields={"progress": "我正在写的长篇内容"},
            metrics={metric("boards").pk: "3"},
            evidence_url="https://example.cn/news/2",
            submit=True,
        )

    assert "您的内容未丢失，请核对后再保存。" in stale.value.message
    report.refresh_from_db()
    assert (report.progress, report.version, report.state) == ("别人先保存的内容", 2, S.DRAFT)
    assert MetricValue.objects.count() == 0 and Evidence.objects.count() == 0


def test_liaison_of_unit_b_cannot_save_unit_as_report(open_period, unit_a, liaison_a, liaison_b):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="A的内容"
    )

    with pytest.raises(PermissionDenied) as denied:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_b,
            version=1,
            fields={"progress": "B改的"},
            evidence_file=photo(),
            submit=True,
        )

    assert denied.value.message == "只能填写和修改本单位的报告。"
    report.refresh_from_db()
    assert (report.progress, report.version, report.state) == ("A的内容", 1, S.DRAFT)
    assert Evidence.objects.count() == 0


def test_liaison_of_unit_b_cannot_open_or_post_unit_as_form(as_liaison_b, open_period, unit_a):
    page = as_liaison_b.get(fill_url(open_period, unit_a, 3))
    post = as_liaison_b.post(
        fill_url(open_period, unit_a, 3), {"progress": "B写的", "progress_status": "on_track"}
    )

    assert (page.status_code, post.status_code) == (404, 404)
    assert "页面不存在，或您无权查看。" in post.content.decode()
    assert [t.name for t in post.templates][0] == "error.html"
    assert ProgressReport.objects.count() == 0


def test_stale_submit_from_the_form_keeps_the_typed_text_and_submits_nothing(
    as_liaison_a, open_period, unit_a, liaison_a
):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="v1"
    )
    services.report_save_draft(report=report, by=liaison_a, version=1, progress="别人先保存的内容")

    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {"progress": "我正在写的长篇内容", "progress_status": "on_track", "version": "1", "action": "submit"},
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "我正在写的长篇内容</textarea>" in body
    assert 'data-testid="conflict"' in body and 'name="version" value="2"' in body
    report.refresh_from_db()
    assert (report.state, report.progress) == (S.DRAFT, "别人先保存的内容")


def test_form_whose_report_was_created_meanwhile_shows_it_and_keeps_the_typed_text(
    as_liaison_a, open_period, unit_a, liaison_a
):
    services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="同事先建的")

    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {"progress": "我的新内容", "progress_status": "on_track", "version": "", "action": "save"},
    )

    assert response.status_code == 409
    body = response.content.decode()
    assert "的报告已经存在" in body
    assert "我的新内容</textarea>" in body and "同事先建的" in body
    assert 'name="version" value="1"' in body
    assert ProgressReport.objects.get().progress == "同事先建的"


def test_api_patch_goes_through_report_save(api_client, open_period, unit_a, liaison_a, monkeypatch):
    report = services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="v1"
    )
    seen = []
    real = services.report_save
    monkeypatch.setattr(services, "report_save", lambda **kw: seen.append(kw) or real(**kw))
    api_client.force_authenticate(liaison_a)

    response = api_client.patch(
        f"/api/v1/reports/{report.pk}/", {"problems": "缺经费", "version": 1}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["progress"], response.json()["problems"]) == ("v1", "缺经费")
    assert [(kw["version"], kw["fields"], kw.get("submit", False)) for kw in seen] == [
        (1, {"progress": None, "problems": "缺经费", "next_steps": None, "progress_status": None}, False)
    ]


# ---------------------------------------------------------------- the GET side


def test_form_state_uses_a_fixed_number_of_queries(open_period, previous_period, unit_a, unit_b, liaison_a):
    task_id = task(3).pk

    def state():
        with CaptureQueriesContext(connection) as queries:
            selectors.report_form_state(
                user=liaison_a, period_id=open_period.pk, unit_id=unit_a.pk, task_id=task_id
            )
        return len(queries)

    get_access(liaison_a)  # once per request, cached on the user
    make_report(period=previous_period, unit=unit_a, task=3, metrics={"boards": 2})
    make_report(period=open_period, unit=unit_a, task=3, state=S.DRAFT, metrics={"boards": 1})
    few = state()
    for number in (4, 5, 6, 7):
        make_report(period=open_period, unit=unit_a, task=number, metrics={"boards": 2, "materials": 3})
        make_report(period=previous_period, unit=unit_a, task=number, metrics={"boards": 2})
    for unit in [unit_b, *(UnitFactory() for _ in range(3))]:
        make_report(period=open_period, unit=unit, task=3, metrics={"boards": 5, "lectures": 1})
    Evidence.objects.create(
        report=ProgressReport.objects.get(period=open_period, unit=unit_a, task=task(3)),
        kind="link",
        url="https://example.cn/1",
    )

    many = state()

    assert many == few == 11


# ---------------------------------------------------------------- flow and stock metrics on the form


def test_metric_says_whether_it_is_new_this_quarter_or_a_running_count(staff):
    lectures = metric("lectures")

    assert (lectures.is_flow, lectures.input_label) == (True, "本季度新增（场次）")
    assert (staff.is_flow, staff.input_label) == (False, "截至本季度累计（人）")
    assert lectures.get_aggregation_display() == "流量：本季度新增，逐季累加"
    assert staff.get_aggregation_display() == "存量：截至本季度累计，取最新值"


def test_form_labels_a_flow_as_new_this_quarter_and_a_stock_as_the_running_count(
    as_liaison_a, open_period, unit_a, staff
):
    body = as_liaison_a.get(fill_url(open_period, unit_a, 3)).content.decode()

    boards, staff_field = f"metric_{metric('boards').pk}", f"metric_{staff.pk}"
    assert re.search(rf'<label[^>]*for="id_{boards}">展板 · 本季度新增（块）</label>', body)
    assert re.search(rf'<label[^>]*for="id_{staff_field}">专职人员 · 截至本季度累计（人）</label>', body)
    assert "只填本季度新开展的，不含以前季度。" in body
    assert "填截至本季度末的总数，不是本季度新增。" in body
    assert re.search(rf'name="{boards}"[^>]*data-metric-kind="flow"', body)
    assert re.search(rf'name="{staff_field}"[^>]*data-metric-kind="stock"', body)


# ---------------------------------------------------------------- copy-forward


def test_copy_forward_copies_text_and_stock_values_but_not_flow_values(
    as_liaison_a, open_period, previous_period, unit_a, staff
):
    last = make_report(
        period=previous_period,
        unit=unit_a,
        task=3,
        state=S.APPROVED,
        progress="上季度开展宣讲10场。",
        problems="经费紧张。",
        next_steps="继续宣讲。",
        progress_status=ProgressReport.ProgressStatus.BEHIND,
        metrics={"lectures": 10},
    )
    MetricValue.objects.create(report=last, metric=staff, value=Decimal("6"))

    body = as_liaison_a.get(fill_url(open_period, unit_a, 3) + "?copy=1").content.decode()

    assert "上季度开展宣讲10场。</textarea>" in body
    assert "经费紧张。</textarea>" in body and "继续宣讲。</textarea>" in body
    assert re.search(rf'name="metric_{staff.pk}" value="6"', body)
    assert f'name="metric_{metric("lectures").pk}" value=' not in body
    assert re.search(r'value="on_track"[^>]*checked', body)  # 推进情况 is this quarter's judgement
    assert ProgressReport.objects.filter(period=open_period).count() == 0


def test_copy_forward_onto_a_draft_keeps_its_own_new_this_quarter_figures(
    open_period, previous_period, unit_a, liaison_a, staff
):
    last = make_report(
        period=previous_period, unit=unit_a, task=3, progress="上季度", metrics={"lectures": 10}
    )
    MetricValue.objects.create(report=last, metric=staff, value=Decimal("6"))
    draft = services.report_create(
        period=open_period,
        unit=unit_a,
        task=task(3),
        by=liaison_a,
        progress="本季度",
        metrics={metric("lectures").pk: 3, staff.pk: 5},
    )
    metrics = selectors.report_metrics(task=task(3))

    copied = copied_forward(report_initial(draft, metrics), last, metrics)

    lectures = f"metric_{metric('lectures').pk}"
    assert (copied["progress"], copied[lectures], copied[f"metric_{staff.pk}"]) == ("上季度", "3", "6")
    assert copied["version"] == 1
    assert ReportForm(initial=copied, metrics=metrics)[lectures].value() == "3"


# ---------------------------------------------------------------- issue 13: counts, error summary, files


def test_a_count_takes_whole_numbers_only_and_an_amount_takes_decimals(open_period, unit_a, liaison_a):
    lectures, funding = metric("lectures"), metric("funding")
    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a)

    with pytest.raises(services.DomainError) as refused:
        services.clean_metrics(task=report.task, metrics={lectures.pk: "3.7"})
    cleaned = services.clean_metrics(task=report.task, metrics={lectures.pk: "4", funding.pk: "2.5"})

    assert (
        refused.value.message
        == "“宣讲/讲座”以“场次”计数，只能填写整数（如 3 或 4），“3.7”带有小数，请改为整数。"
    )
    assert cleaned == {lectures.pk: Decimal("4.00"), funding.pk: Decimal("2.50")}
    assert services.metric_number("3.0", lectures) == Decimal("3.0")  # a whole number written with .0
    assert (services.is_count(lectures), services.is_count(funding)) == (True, False)


def test_the_form_refuses_3_7_lectures_by_the_same_rule(plan):
    lectures = metric("lectures")
    name = f"metric_{lectures.pk}"
    form = ReportForm({"progress_status": "on_track", name: "3.7"}, metrics=[lectures])

    assert not form.is_valid()
    assert form.errors[name] == [
        "“宣讲/讲座”以“场次”计数，只能填写整数（如 3 或 4），“3.7”带有小数，请改为整数。"
    ]
    assert form.fields[name].widget.attrs["inputmode"] == "numeric"


def test_a_failed_save_shows_an_error_summary_linking_to_the_field(as_liaison_a, open_period, unit_a):
    boards = metric("boards")
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {"progress": "我的文字", "progress_status": "on_track", "version": "", f"metric_{boards.pk}": "-5"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary" tabindex="-1"' in body
    assert "内容尚未保存，请修改以下 1 处后再保存：" in body
    assert (
        f'<a class="alert-link" href="#id_metric_{boards.pk}">“展板”不能为负数，请填写 0 或正数。</a>' in body
    )
    assert 'aria-invalid="true"' in body and "data-unsaved" in body


def test_several_files_each_with_its_caption_are_attached_in_one_save(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {
            "progress": "进展",
            "progress_status": "on_track",
            "version": "",
            "action": "save",
            "evidence_file": [photo("一.png"), photo("二.png")],
            "evidence_caption": ["宣讲现场", "签到表"],
        },
    )

    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert sorted(report.evidence.values_list("original_name", "caption")) == [
        ("一.png", "宣讲现场"),
        ("二.png", "签到表"),
    ]


def test_one_refused_file_among_several_keeps_nothing_and_names_it(as_liaison_a, open_period, unit_a):
    fake = SimpleUploadedFile("总结.pdf", b"MZ\x90\x00 not a pdf")
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {"progress": "进展", "progress_status": "on_track", "version": "", "evidence_file": [photo(), fake]},
    )

    assert response.status_code == 400
    assert "“总结.pdf”：" in response.content.decode()
    assert ProgressReport.objects.count() == 0 and Evidence.objects.count() == 0


def test_evidence_add_and_remove_in_place_return_the_list_only(as_liaison_a, open_period, unit_a, liaison_a):
    report = services.report_create(period=open_period, unit=unit_a, task=task(3), by=liaison_a)

    added = as_liaison_a.post(
        f"/reports/{report.pk}/evidence/",
        {"evidence_file": [photo("一.png"), photo("二.png")], "evidence_caption": ["甲", "乙"]},
        HTTP_HX_REQUEST="true",
    )
    first = report.evidence.order_by("id").first()
    removed = as_liaison_a.post(f"/reports/evidence/{first.pk}/remove/", HTTP_HX_REQUEST="true")

    assert added.status_code == 200 and "已上传 2 份佐证材料。" in added.content.decode()
    assert added.content.decode().lstrip().startswith('<div id="evidence-box"')
    assert removed.status_code == 200 and "<html" not in removed.content.decode()
    assert list(report.evidence.values_list("caption", flat=True)) == ["乙"]
    assert events(report) == ["created", "evidence_added", "evidence_added", "evidence_removed"]
