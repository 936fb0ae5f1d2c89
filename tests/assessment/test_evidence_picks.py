"""Evidence by indicator: a leaf's candidates (approved reports of confirmed-linked tasks), the office's picks
and their order, office files (checked as every upload is), and the account with its version check."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from assessment import picks
from assessment.models import EvidencePick, IndicatorAccount, OfficeFile
from campaign.errors import DomainError, PermissionDenied, StaleVersion
from campaign.models import ReportingPeriod
from reports.models import Evidence, ProgressReport
from tests.assessment.conftest import node
from tests.factories import UnitFactory, make_report
from units.models import Unit

APPROVED = ProgressReport.State.APPROVED


def png_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def add_file(report, name="活动照片.png", caption="") -> Evidence:
    data = png_bytes()
    evidence = Evidence(
        report=report,
        kind=Evidence.Kind.FILE,
        original_name=name,
        caption=caption,
        content_type="image/png",
        size=len(data),
        sha256="0" * 64,
    )
    evidence.file.save("photo.png", ContentFile(data), save=False)
    evidence.save()
    return evidence


def period(year, quarter) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=year, quarter=quarter)


@pytest.fixture
def leaf(small_system):
    return node(small_system, "2.1.1")  # task 3 confirmed, task 9 suggested


@pytest.fixture
def world(leaf, unit_a, unit_b):
    """Approved, submitted and suggested-task reports around leaf 2.1.1."""
    q1, q2 = period(2024, 1), period(2024, 2)
    return {
        "a_q1": make_report(period=q1, unit=unit_a, task=3, state=APPROVED, progress="举办民族团结宣讲会"),
        "b_q2": make_report(period=q2, unit=unit_b, task=3, state=APPROVED, progress="建成宣传长廊"),
        "a_q2_submitted": make_report(period=q2, unit=unit_a, task=3, progress="尚未审核"),
        "b_task9": make_report(period=q1, unit=unit_b, task=9, state=APPROVED, progress="学校教育"),
    }


def candidate_ids(leaf, **params) -> set[int]:
    choices = picks.filter_choices(leaf)
    filters = picks.CandidateFilters.parse(
        params, periods=choices.periods, units=choices.units, counties=choices.counties
    )
    return {r.pk for r in picks.candidates_page(leaf, filters=filters)}


def test_candidates_are_the_approved_reports_of_confirmed_links_only(leaf, world):
    assert candidate_ids(leaf) == {world["a_q1"].pk, world["b_q2"].pk}


def test_candidates_filter_by_period_unit_county_and_search(leaf, world, unit_a, unit_b):
    township = UnitFactory(name="崆峒区某街道", parent=unit_b)
    from tasks.models import Responsibility

    Responsibility.objects.create(task=world["a_q1"].task, unit=township, role="co", order=99)
    child = make_report(period=period(2024, 3), unit=township, task=3, state=APPROVED, progress="社区活动")

    assert candidate_ids(leaf, period=str(period(2024, 1).pk)) == {world["a_q1"].pk}
    assert candidate_ids(leaf, unit=str(unit_b.pk)) == {world["b_q2"].pk}
    # a county: its own reports and those of the units under it
    assert candidate_ids(leaf, county=str(unit_b.pk)) == {world["b_q2"].pk, child.pk}
    assert candidate_ids(leaf, q="宣传长廊") == {world["b_q2"].pk}
    assert candidate_ids(leaf, q="市委宣传部") == {world["a_q1"].pk}
    # a file's name is searched too; a NUL typed into the box is dropped, not a server error
    add_file(world["a_q1"], name="宣讲现场.png")
    assert candidate_ids(leaf, q="宣讲现场\x00") == {world["a_q1"].pk}
    # an unknown filter value is ignored
    assert candidate_ids(leaf, unit="99999") == {world["a_q1"].pk, world["b_q2"].pk, child.pk}


def test_picks_keep_their_order_and_can_be_moved_and_removed(leaf, world, office_user):
    photo = add_file(world["b_q2"], caption="宣传长廊照片")
    first = picks.pick_add(indicator=leaf, by=office_user, report_id=world["a_q1"].pk)
    second = picks.pick_add(indicator=leaf, by=office_user, evidence_id=photo.pk)
    third = picks.pick_add(indicator=leaf, by=office_user, report_id=world["b_q2"].pk)
    again = picks.pick_add(indicator=leaf, by=office_user, report_id=world["a_q1"].pk)

    assert again.pk == first.pk  # picking twice keeps one
    assert [p.pk for p in picks.picks_of(leaf)] == [first.pk, second.pk, third.pk]

    picks.pick_move(pick=third, by=office_user, direction="up")
    assert [p.pk for p in picks.picks_of(leaf)] == [first.pk, third.pk, second.pk]
    picks.pick_move(pick=first, by=office_user, direction="up")  # already first: stays
    assert [p.pk for p in picks.picks_of(leaf)] == [first.pk, third.pk, second.pk]

    picks.picks_reorder(indicator=leaf, by=office_user, pick_ids=[second.pk, first.pk, third.pk])
    assert [p.pk for p in picks.picks_of(leaf)] == [second.pk, first.pk, third.pk]
    with pytest.raises(DomainError, match="入卷清单已有变化"):
        picks.picks_reorder(indicator=leaf, by=office_user, pick_ids=[second.pk, first.pk])

    picks.pick_remove(pick=first, by=office_user)
    assert [p.pk for p in picks.picks_of(leaf)] == [second.pk, third.pk]
    assert ProgressReport.objects.filter(pk=world["a_q1"].pk).exists()  # the report itself is untouched


def test_only_candidates_can_be_picked(small_system, leaf, world, office_user):
    link = Evidence.objects.create(
        report=world["a_q1"], kind=Evidence.Kind.LINK, url="https://example.com/news", caption="新闻"
    )
    on_submitted = add_file(world["a_q2_submitted"])
    for kwargs, words in [
        ({"report_id": world["a_q2_submitted"].pk}, "审核通过的报告"),
        ({"report_id": world["b_task9"].pk}, "审核通过的报告"),  # task 9 is only suggested for 2.1.1
        ({"evidence_id": on_submitted.pk}, "审核通过报告的佐证材料"),
        ({"evidence_id": link.pk}, "链接不能入卷"),
        ({"report_id": "abc"}, "所选材料无效"),
        ({}, "请选择"),
    ]:
        with pytest.raises(DomainError, match=words):
            picks.pick_add(indicator=leaf, by=office_user, **kwargs)
    with pytest.raises(DomainError, match="上级指标"):
        picks.pick_add(indicator=node(small_system, "2.1"), by=office_user, report_id=world["a_q1"].pk)
    assert not EvidencePick.objects.exists()


def test_only_the_office_writes(leaf, world, leadership_user, liaison_a):
    for user in (leadership_user, liaison_a):
        with pytest.raises(PermissionDenied):
            picks.pick_add(indicator=leaf, by=user, report_id=world["a_q1"].pk)
        with pytest.raises(PermissionDenied):
            picks.account_save(indicator=leaf, by=user, account="说明", version=0)
        with pytest.raises(PermissionDenied):
            picks.office_file_add(
                indicator=leaf, by=user, upload=SimpleUploadedFile("a.png", png_bytes(), "image/png")
            )
    assert not EvidencePick.objects.exists()
    assert not IndicatorAccount.objects.exists()
    assert not OfficeFile.objects.exists()


def test_office_file_is_checked_stored_and_picked(leaf, office_user):
    fake = SimpleUploadedFile(
        "命名文件.pdf", b"%PDF-1.4 <html><body>not a pdf</body></html>", "application/pdf"
    )
    with pytest.raises(DomainError, match="网页代码"):
        picks.office_file_add(indicator=leaf, by=office_user, upload=fake)
    renamed = SimpleUploadedFile("会议纪要.pdf", b"just some text, renamed", "application/pdf")
    with pytest.raises(DomainError, match="不是允许的类型"):
        picks.office_file_add(indicator=leaf, by=office_user, upload=renamed)
    assert not OfficeFile.objects.exists()

    data = png_bytes((10, 120, 10))
    upload = SimpleUploadedFile("市委命名文件.png", data, "image/png")
    office_file = picks.office_file_add(indicator=leaf, by=office_user, upload=upload, caption="命名文件")
    assert office_file.original_name == "市委命名文件.png"
    assert office_file.content_type == "image/png"
    assert office_file.size == len(data)
    assert office_file.file.name.endswith(".png") and "市委" not in office_file.file.name
    with office_file.file.open("rb") as stored:
        assert stored.read() == data
    assert [p.office_file_id for p in picks.picks_of(leaf)] == [office_file.pk]


def test_account_save_and_a_stale_version_writes_nothing(leaf, office_user):
    first = picks.account_save(indicator=leaf, by=office_user, account="全市建成宣传阵地 20 处。", version=0)
    assert first.version == 1
    second = picks.account_save(indicator=leaf, by=office_user, account="全市建成宣传阵地 25 处。", version=1)
    assert second.version == 2
    with pytest.raises(StaleVersion, match="已被他人修改"):
        picks.account_save(indicator=leaf, by=office_user, account="旧页面上的文字", version=1)
    assert IndicatorAccount.objects.get(indicator=leaf).account == "全市建成宣传阵地 25 处。"
    with pytest.raises(DomainError, match="情况说明不能超过"):
        picks.account_save(indicator=leaf, by=office_user, account="字" * 20_001, version=2)


# ---------------------------------------------------------------- pages and actions


def test_office_page_shows_candidates_picks_and_forms(as_office, leaf, world):
    add_file(world["a_q1"], caption="宣讲会照片")
    response = as_office.get(f"/assessment/indicators/{leaf.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2.1.1 建设民族团结进步宣传阵地" in html
    assert "举办民族团结宣讲会" in html and "建成宣传长廊" in html
    assert "尚未审核" not in html and "学校教育" not in html
    assert "宣讲会照片" in html
    assert 'data-testid="account-form"' in html and 'data-testid="score-form"' in html
    assert "报告入卷" in html


def test_htmx_pick_swaps_the_list_and_the_button(as_office, leaf, world):
    url = f"/assessment/indicators/{leaf.pk}/picks/"
    response = as_office.post(url, {"report": world["b_q2"].pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="picks-box"' in html and "建成宣传长廊" not in html  # the pick names period · unit · task
    assert f"{world['b_q2'].period.label} · 崆峒区 · 任务3" in html
    assert f'id="pick-report-{world["b_q2"].pk}" hx-swap-oob="true"' in html and "已入卷" in html
    pick = EvidencePick.objects.get(indicator=leaf)
    assert pick.report_id == world["b_q2"].pk

    refused = as_office.post(url, {"report": world["b_task9"].pk}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert "只能选取本指标对应任务" in refused.content.decode()

    removed = as_office.post(f"/assessment/picks/{pick.pk}/remove/", HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and "尚未选取材料" in removed.content.decode()
    assert not EvidencePick.objects.exists()


def test_stale_account_page_keeps_the_typed_text(as_office, leaf, office_user):
    picks.account_save(indicator=leaf, by=office_user, account="别人先保存的说明", version=0)
    url = f"/assessment/indicators/{leaf.pk}/account/"
    response = as_office.post(url, {"account": "我在旧页面上写的长段说明", "version": 0})
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被他人修改" in html
    assert "我在旧页面上写的长段说明" in html  # the typed text stays in the box
    assert "别人先保存的说明" in html  # shown beside it
    assert 'id="account-version" value="1"' in html  # the next save is made against the current version
    # with HTMX: the box again, with status 200 so htmx swaps it in
    hx = as_office.post(url, {"account": "我在旧页面上写的长段说明", "version": 0}, HTTP_HX_REQUEST="true")
    assert hx.status_code == 200 and "我在旧页面上写的长段说明" in hx.content.decode()
    assert IndicatorAccount.objects.get(indicator=leaf).account == "别人先保存的说明"
    saved = as_office.post(url, {"account": "我在旧页面上写的长段说明", "version": 1}, HTTP_HX_REQUEST="true")
    assert "情况说明已保存" in saved.content.decode()
    assert 'id="score-version" value="2" hx-swap-oob="true"' in saved.content.decode()
    assert IndicatorAccount.objects.get(indicator=leaf).account == "我在旧页面上写的长段说明"


def test_office_file_upload_page_and_download(as_office, client, leaf, leadership_user, liaison_a):
    url = f"/assessment/indicators/{leaf.pk}/files/"
    bad = as_office.post(
        url, {"file": SimpleUploadedFile("说明.pdf", b"plain text", "application/pdf"), "caption": "会议纪要"}
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "不是允许的类型" in html and 'value="会议纪要"' in html  # the caption is kept
    data = png_bytes()
    ok = as_office.post(
        url, {"file": SimpleUploadedFile("命名.png", data, "image/png"), "caption": "命名文件"}
    )
    assert ok.status_code == 302
    office_file = OfficeFile.objects.get()
    download = as_office.get(f"/assessment/office-files/{office_file.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == data

    client.force_login(leadership_user)
    assert client.get(f"/assessment/office-files/{office_file.pk}/").status_code == 200
    client.force_login(liaison_a)
    assert client.get(f"/assessment/office-files/{office_file.pk}/").status_code == 403


def test_leadership_reads_without_forms_and_cannot_write(as_leader, leaf, world, office_user):
    pick = picks.pick_add(indicator=leaf, by=office_user, report_id=world["a_q1"].pk)
    picks.account_save(indicator=leaf, by=office_user, account="已写的情况说明", version=0)
    response = as_leader.get(f"/assessment/indicators/{leaf.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已写的情况说明" in html and "举办民族团结宣讲会" in html
    assert "hx-post" not in html and 'action="/assessment/' not in html
    for path, data in _actions(leaf, pick, world):
        assert as_leader.post(path, data).status_code == 403, path
    assert EvidencePick.objects.count() == 1
    assert IndicatorAccount.objects.get(indicator=leaf).account == "已写的情况说明"


def _actions(leaf, pick, world):
    office_file = OfficeFile.objects.create(indicator=leaf, original_name="x.png", file="assessment/x.png")
    return [
        (f"/assessment/indicators/{leaf.pk}/account/", {"account": "改", "version": 1}),
        (f"/assessment/indicators/{leaf.pk}/score/", {"score": "1", "justification": "x", "version": 1}),
        (f"/assessment/indicators/{leaf.pk}/picks/", {"report": world["b_q2"].pk}),
        (f"/assessment/indicators/{leaf.pk}/picks/order/", {"pick": [pick.pk]}),
        (f"/assessment/indicators/{leaf.pk}/files/", {"caption": "x"}),
        (f"/assessment/picks/{pick.pk}/remove/", {}),
        (f"/assessment/picks/{pick.pk}/move/", {"direction": "down"}),
        (f"/assessment/office-files/{office_file.pk}/remove/", {}),
    ]


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b", "unit_leader", "anonymous"])
def test_unit_people_and_anonymous_get_nothing(client, request, who, leaf, world, office_user):
    pick = picks.pick_add(indicator=leaf, by=office_user, report_id=world["a_q1"].pk)
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    pages = [f"/assessment/indicators/{leaf.pk}/", f"/assessment/systems/{leaf.system_id}/scores/"]
    actions = _actions(leaf, pick, world)
    office_file = OfficeFile.objects.get()
    pages.append(f"/assessment/office-files/{office_file.pk}/")
    for path in pages:
        response = client.get(path)
        if who == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"], path
        else:
            assert response.status_code == 403, path
            assert "举办民族团结宣讲会" not in response.content.decode()
    for path, data in actions:
        response = client.post(path, data)
        if who == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"], path
        else:
            assert response.status_code == 403, path
    assert EvidencePick.objects.count() == 1
    assert not IndicatorAccount.objects.exists()
    assert Unit.objects.filter(pk=world["a_q1"].unit_id).exists()


def test_leaf_page_takes_a_fixed_number_of_queries(as_office, leaf, world, office_user, unit_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/assessment/indicators/{leaf.pk}/"
    picks.pick_add(indicator=leaf, by=office_user, report_id=world["a_q1"].pk)
    as_office.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert as_office.get(url).status_code == 200
    for quarter in (3, 4):
        report = make_report(period=period(2024, quarter), unit=unit_a, task=3, state=APPROVED)
        picks.pick_add(indicator=leaf, by=office_user, evidence_id=add_file(report).pk)
        add_file(report)
    picks.office_file_add(
        indicator=leaf, by=office_user, upload=SimpleUploadedFile("a.png", png_bytes(), "image/png")
    )
    picks.account_save(indicator=leaf, by=office_user, account="说明", version=0)
    with CaptureQueriesContext(connection) as many:
        assert as_office.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
