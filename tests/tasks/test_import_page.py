"""The office's import page: upload → preview (nothing written) → confirm (one transaction)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaign.decorators import OFFICE_ONLY
from campaign.models import Campaign
from tests.campaign.test_decorators import assert_error_page
from tests.tasks.test_importer import SOURCE, THREE_LEVELS, counts, docx_bytes, pingliang_text, snapshot
from units.models import Unit

UPLOAD = reverse("plan_import:upload")
PREVIEW = reverse("plan_import:preview")
CANCEL = reverse("plan_import:cancel")


def upload(client, name: str, data: bytes):
    return client.post(UPLOAD, {"document": SimpleUploadedFile(name, data)})


def test_anonymous_visitors_are_sent_to_the_login_page(client, plan):
    for url in (UPLOAD, PREVIEW):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["as_leader", "as_liaison_a", "as_liaison_b"])
def test_only_the_office_may_use_the_import_pages(request, who):
    client = request.getfixturevalue(who)
    before = counts()

    assert client.get(UPLOAD).status_code == 403
    assert upload(client, "plan.txt", SOURCE.read_bytes()).status_code == 403
    assert client.post(PREVIEW, {}).status_code == 403
    assert client.post(CANCEL).status_code == 403
    assert counts() == before


@pytest.mark.parametrize(("who", "nav"), [("as_leader", "总览"), ("as_liaison_a", "本季度报送")])
def test_others_get_the_chinese_403_page_with_the_site_navigation(request, who, nav):
    client = request.getfixturevalue(who)

    for response in (client.get(UPLOAD), client.get(PREVIEW), client.post(CANCEL)):
        assert_error_page(response, 403, message=OFFICE_ONLY, nav=nav)


def test_office_sees_the_upload_form(as_office):
    response = as_office.get(UPLOAD)

    assert response.status_code == 200
    html = response.content.decode()
    assert "导入实施方案" in html
    assert 'type="file"' in html


def test_upload_shows_a_preview_and_writes_nothing(as_office):
    before = counts()

    response = upload(as_office, "pingliang.txt", SOURCE.read_bytes())

    assert response.status_code == 302
    assert response.url == PREVIEW
    preview = as_office.get(PREVIEW)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert counts() == before
    assert "导入预览：《平凉市创建全国民族团结进步示范市实施方案》" in html
    assert "3 个阶段，8 个工程/活动，29 项任务，363 条责任分工，27 个量化目标" in html
    assert "宣传动员阶段" in html and "2023年6月1日 — 2023年7月31日" in html
    assert "（八）大力开展“八进”活动,推动创建工作提质增效" in html
    assert "编号已补" in html
    assert '<span class="badge bg-primary">牵头</span> 市委组织部' in html
    assert "以下任务均需各县(市、区)党委和人民政府、平凉工业园区(高新区)党工委和管委会落实" in html
    assert "崆峒区、华亭市：示范点 不少于 3个，截至2025年12月31日" in html
    assert "一句中有几个可选的数量（“或”），无法确定统计口径" in html
    assert "不属于任务部分（如保障措施），未导入" in html
    assert "方案中的单位名称都已对应到系统中的单位。" in html


def test_confirming_creates_the_campaign_exactly_as_the_fixture(as_office, plan):
    upload(as_office, "pingliang.txt", SOURCE.read_bytes())

    response = as_office.post(PREVIEW, {"starts_on": "2023-06-01", "ends_on": "2025-12-31"})

    campaign = Campaign.objects.exclude(pk=plan.pk).get()
    plan_page = reverse("plan_import:plan", args=[campaign.pk])
    assert response.status_code == 302
    assert response.url == plan_page
    assert snapshot(campaign) == snapshot(plan)
    assert campaign.is_active is False
    assert Campaign.current() == plan
    page = as_office.get(plan_page).content.decode()
    assert (
        "已导入创建活动“平凉市创建全国民族团结进步示范市”：29 项任务，尚未设为当前活动：请核对后在本页启用。"
        f'<a href="{plan_page}" class="alert-link">查看新方案</a>' in page
    )
    assert "可在后台启用" not in page
    assert f'href="{reverse("plan_import:activate", args=[campaign.pk])}"' in page
    assert as_office.get(PREVIEW).status_code == 302  # the pending plan is gone from the session


def test_ticking_set_as_current_makes_the_new_campaign_current(as_office, plan):
    upload(as_office, "pingliang.docx", docx_bytes(pingliang_text().splitlines()))

    as_office.post(PREVIEW, {"starts_on": "2023-06-01", "ends_on": "2025-12-31", "activate": "on"})

    campaign = Campaign.objects.exclude(pk=plan.pk).get()
    assert Campaign.current() == campaign
    assert list(Campaign.objects.filter(is_active=True)) == [campaign]
    assert snapshot(campaign) == snapshot(plan)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.docx", b"", "上传的文件是空的，请选择实施方案的 Word(.docx) 或文本(.txt) 文件。"),
        (
            "photo.docx",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "上传的文件是图片，不是实施方案文档。请上传 Word(.docx) 或文本(.txt) 文件。",
        ),
        (
            "notice.docx",
            docx_bytes(["关于召开会议的通知", "各单位：", "定于下周召开会议。"]),
            "未在文件中找到编号的任务（如“1.…”）。请确认上传的是实施方案全文，任务应按“（一）…”“1.…”编号。",
        ),
    ],
)
def test_bad_uploads_show_a_clear_error_and_create_nothing(as_office, name, data, message):
    before = counts()

    response = upload(as_office, name, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before
    assert "plan_import" not in as_office.session


def test_preview_without_an_upload_goes_back_to_the_upload_page(as_office):
    response = as_office.get(PREVIEW)

    assert response.status_code == 302
    assert response.url == UPLOAD


def test_unmatched_names_must_be_decided_before_confirming(as_office):
    upload(as_office, "plan.txt", THREE_LEVELS.encode())
    html = as_office.get(PREVIEW).content.decode()
    assert '<input type="hidden" name="name_0" value="市新闻出版局">' in html
    assert "待对应：市新闻出版局" in html
    before = counts()

    response = as_office.post(
        PREVIEW,
        {"name_0": "市新闻出版局", "choice_0": "", "starts_on": "2024-03-01", "ends_on": "2026-06-30"},
    )

    assert response.status_code == 400
    assert "以下单位名称还没有对应到系统中的单位：市新闻出版局。" in response.content.decode()
    assert counts() == before


def test_office_can_create_a_unit_for_an_unmatched_name_while_confirming(as_office):
    upload(as_office, "plan.txt", THREE_LEVELS.encode())

    response = as_office.post(
        PREVIEW,
        {
            "name_0": "市新闻出版局",
            "choice_0": "new",
            "newname_0": "市新闻出版局",
            "code_0": "XinWen-ChuBan",
            "kind_0": "department",
            "starts_on": "2024-03-01",
            "ends_on": "2026-06-30",
        },
    )

    assert response.status_code == 302
    unit = Unit.objects.get(code="xinwen-chuban")
    campaign = Campaign.objects.get(title="平凉市铸牢中华民族共同体意识示范工作")
    assert [r.unit for r in campaign.tasks.get(number=2).responsibilities.order_by("order")][-1] == unit
    assert (campaign.starts_on.isoformat(), campaign.ends_on.isoformat()) == ("2024-03-01", "2026-06-30")


def test_office_can_map_an_unmatched_name_to_an_existing_unit(as_office):
    upload(as_office, "plan.txt", THREE_LEVELS.encode())
    wenlian = Unit.objects.get(code="wenlian")

    response = as_office.post(
        PREVIEW,
        {
            "name_0": "市新闻出版局",
            "choice_0": str(wenlian.id),
            "starts_on": "2024-03-01",
            "ends_on": "2026-06-30",
        },
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get(title="平凉市铸牢中华民族共同体意识示范工作")
    assert [r.unit.code for r in campaign.tasks.get(number=2).responsibilities.order_by("order")] == [
        "minzongwei",
        "wenlvju",
        "wenlian",
    ]


def test_cancelling_forgets_the_uploaded_plan(as_office):
    upload(as_office, "pingliang.txt", SOURCE.read_bytes())
    before = counts()

    response = as_office.post(CANCEL)

    assert response.status_code == 302
    assert "plan_import" not in as_office.session
    assert counts() == before
