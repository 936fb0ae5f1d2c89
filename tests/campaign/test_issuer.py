"""发文设置: the office names the issuer once per campaign, in the portal, and the documents sign with it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from docx import Document

from campaign.models import Campaign

pytestmark = pytest.mark.django_db

URL = "/plan/issuer/"
FULL = "平凉市民族团结进步示范市创建工作领导小组办公室"


def test_the_page_lives_at_plan_issuer():
    assert reverse("issuer") == URL


@pytest.mark.parametrize("who", ["leadership_user", "liaison_a"])
def test_only_the_office_may_open_or_change_the_issuer(client, request, who, plan):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"issuer": "别的机关"}).status_code == 403
    assert Campaign.objects.get(pk=plan.pk).issuer == ""


def test_anonymous_is_sent_to_login(client, plan):
    assert client.get(URL)["Location"].startswith("/login/?next=")


def test_the_page_shows_the_defaults_and_how_the_documents_read(as_office, plan):
    body = as_office.get(URL).content.decode()

    assert "平凉市创建全国民族团结进步示范市工作领导小组办公室" in body  # the default 发文机关
    preview = body.split('data-testid="issuer-preview"')[1]
    assert "各县（市、区）创建办，市直各有关单位：" in preview  # 主送 line with its colon
    assert "印发</span>" in preview and "抄送：" not in preview  # no 抄送 line until one is set


def test_saving_sets_the_names_once_and_every_document_signs_with_them(as_office, plan, open_period):
    response = as_office.post(
        URL,
        {
            "issuer": f"  {FULL} ",
            "printed_by": "平凉市创建办",
            "main_recipients": "各县（市、区）创建办，市直各有关单位：",
            "copy_to": "市委办公室，市政府办公室。",
            "action": "save",
        },
    )

    assert response.status_code == 302 and response["Location"] == URL
    campaign = Campaign.objects.get(pk=plan.pk)
    assert (campaign.issuer, campaign.printed_by) == (FULL, "平凉市创建办")
    # The documents add the punctuation, so what was typed is stored without it.
    assert (campaign.main_recipients, campaign.copy_to) == (
        "各县（市、区）创建办，市直各有关单位",
        "市委办公室，市政府办公室",
    )
    body = as_office.get(URL).content.decode()
    assert "发文设置已保存" in body
    preview = body.split('data-testid="issuer-preview"')[1]
    assert "抄送：市委办公室，市政府办公室。" in preview and "平凉市创建办</span>" in preview
    # The Word 通报 now reads with them.
    word = Document(io.BytesIO(as_office.get(f"/notifications/bulletin/{open_period.pk}.docx").content))
    text = [p.text for p in word.paragraphs]
    assert "各县（市、区）创建办，市直各有关单位：" in text
    assert FULL in text
    assert "抄送：市委办公室，市政府办公室。" in text
    assert any(t.startswith("平凉市创建办\t") and t.endswith("印发") for t in text)


def test_preview_shows_what_was_typed_without_saving(as_office, plan):
    response = as_office.post(URL, {"issuer": FULL, "copy_to": "市委办公室", "action": "preview"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "预览（尚未保存）" in body and "抄送：市委办公室。" in body and FULL in body
    assert Campaign.objects.get(pk=plan.pk).issuer == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("issuer", "Office of the Leading Group", "发文机关应填写机关的中文名称"),
        ("issuer", "甲" * 101, "发文机关最多100个字，现在是101个字"),
        ("printed_by", "市委办公室，市政府办公室", "印发机关只填写一个机关的全称"),
        ("copy_to", "市委办公室<script>", "抄送中不能有 &lt; &gt;"),
    ],
)
def test_names_that_cannot_be_used_are_refused_with_what_to_do(as_office, plan, field, value, message):
    response = as_office.post(URL, {field: value, "action": "save"})

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and f'data-testid="error-{field}"' in body
    assert getattr(Campaign.objects.get(pk=plan.pk), field) == ""


def test_a_long_printed_by_is_flagged_because_it_wraps_in_the_banji(as_office, plan):
    body = as_office.get(URL).content.decode()  # the default 印发机关 is the 25-character 发文机关

    note = body.split('data-testid="preview-wrap-note"')[1].split("</p>")[0]
    assert f"如“{plan.city}创建办”" in note
