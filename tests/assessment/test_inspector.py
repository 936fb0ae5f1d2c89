"""An evaluator's read-only access: the code (hash only, lockout after wrong codes), only the picked items of
one system, never scores, drafts, other systems or the rest of the portal; expiry and revocation; the log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessment import inspector
from assessment.models import IndicatorAccount, InspectorGrant, InspectorView
from tests.assessment.conftest import build_small_system, node
from tests.assessment.test_dossier_world import add_evidence, dossier_world, pick, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(small_system, office_user):
    return dossier_world(small_system, office_user)


@pytest.fixture
def granted(world, office_user):
    grant, code = inspector.grant_create(system=world.system, by=office_user, name="第三方评估组", days=14)
    return grant, code


def home(grant) -> str:
    return reverse("assessment:inspect", args=[grant.token])


def indicator_url(grant, code: str) -> str:
    return reverse("assessment:inspect_indicator", args=[grant.token, node(grant.system, code).pk])


def file_url(grant, source: str, pk: int) -> str:
    return reverse("assessment:inspect_file", args=[grant.token, source, pk])


def enter(client: Client, grant, code: str):
    return client.post(home(grant), {"code": code})


@pytest.fixture
def evaluator(granted) -> Client:
    grant, code = granted
    client = Client()
    assert enter(client, grant, code.lower()).status_code == 302  # case and spaces do not matter
    return client


# ------------------------------------------------------------------------------------------ the code


def test_only_the_codes_hash_is_stored_and_the_code_opens_the_system(granted):
    grant, code = granted
    assert len(code) == 8 and code not in grant.code_hash and grant.code_hash.count("$") >= 1
    client = Client()

    form = client.get(home(grant))
    assert form.status_code == 200 and "输入访问码" in form.content.decode()
    assert client.get(indicator_url(grant, "1.1.1")).status_code == 302  # no code yet: to the form

    response = enter(client, grant, f" {code[:4]} {code[4:]} ")
    assert response.status_code == 302
    page = client.get(home(grant)).content.decode()
    assert "1.1.1 成立创建工作领导小组" in page and "3 促进各民族交往交流交融" in page
    assert "_auth_user_id" not in client.session  # not a Django login
    assert client.get("/").status_code == 302  # the rest of the portal still asks for a login
    assert client.get(reverse("assessment:system", args=[grant.system.pk])).status_code == 302
    assert client.get(reverse("compilations:list")).status_code == 302


def test_five_wrong_codes_lock_the_address_for_fifteen_minutes_even_with_the_right_code(granted, settings):
    grant, code = granted
    client = Client(REMOTE_ADDR="10.0.0.7")
    for attempt in range(1, 5):
        response = enter(client, grant, "WRONGCOD")
        assert response.status_code == 400
        assert f"还可尝试 {5 - attempt} 次" in response.content.decode()
    fifth = enter(client, grant, "WRONGCOD")
    assert fifth.status_code == 429 and "已暂停 15 分钟" in fifth.content.decode()

    locked = enter(client, grant, code)
    assert locked.status_code == 429 and "输错次数过多" in locked.content.decode()
    assert client.get(indicator_url(grant, "1.1.1")).status_code == 302

    other_address = Client(REMOTE_ADDR="10.0.0.8")
    assert enter(other_address, grant, code).status_code == 302  # only that address is locked

    # 15 minutes later the address may try again.
    InspectorView.objects.filter(grant=grant).update(at=timezone.now() - dt.timedelta(minutes=16))
    assert enter(client, grant, code).status_code == 302
    whats = list(InspectorView.objects.filter(grant=grant, ip="10.0.0.7").values_list("what", flat=True))
    assert whats.count(inspector.WRONG_CODE) == 5 and whats.count(inspector.LOCKED_TRY) == 1


def test_many_wrong_codes_from_many_addresses_lock_the_grant(granted):
    grant, code = granted
    for n in range(inspector.GRANT_FAILURE_LIMIT):
        enter(Client(REMOTE_ADDR=f"10.0.1.{n}"), grant, "WRONGCOD")
    assert enter(Client(REMOTE_ADDR="10.0.2.1"), grant, code).status_code == 429


# ------------------------------------------------------------------------------------------ what is seen


def test_the_evaluator_sees_accounts_and_picked_items_but_no_scores_or_drafts(world, evaluator, granted):
    grant, _ = granted
    page = evaluator.get(indicator_url(grant, "1.1.1")).content.decode()
    assert "我市成立了创建工作领导小组" in page  # the account
    assert "领导小组召开会议三次" in page  # the picked report's text
    assert "会议照片.png" in page and "领导小组文件.pdf" in page and "创建办会议纪要.docx" in page
    assert "未选照片.png" not in page  # unpicked
    assert "自评" not in page and "评分理由" not in page and "领导小组健全" not in page

    other = evaluator.get(indicator_url(grant, "2.1.1")).content.decode()
    assert "建成宣传阵地十二处" in other and "阵地名录.pdf" in other
    assert "退回的草稿文字" not in other and "退回报告附件.png" not in other  # no longer approved


def test_picked_files_download_and_unpicked_ones_do_not(world, evaluator, granted):
    grant, _ = granted
    photo = node(world.system, "1.1.1").picks.get(order=2).evidence
    minutes = node(world.system, "1.1.1").picks.get(order=4).office_file

    response = evaluator.get(file_url(grant, "evidence", photo.pk))
    assert response.status_code == 200 and b"".join(response.streaming_content) == world.files["会议照片.png"]
    assert response["X-Content-Type-Options"] == "nosniff"
    office = evaluator.get(file_url(grant, "office", minutes.pk))
    assert office.status_code == 200 and "attachment" in office["Content-Disposition"]
    assert b"".join(office.streaming_content) == world.files["创建办会议纪要.docx"]

    for source, pk in [
        ("evidence", world.unpicked["photo"].pk),
        ("evidence", world.unpicked["returned_file"].pk),
        ("report", world.reports["r1"].pk),
        ("office", 999999),
    ]:
        assert evaluator.get(file_url(grant, source, pk)).status_code == 404


def test_another_systems_indicators_and_files_are_not_reachable(world, evaluator, granted, plan):
    grant, _ = granted
    other = build_small_system(plan, name="另一体系")
    other_photo = add_evidence(world.reports["r1"], "另一体系照片.png", png_bytes((1, 2, 3)))
    pick(node(other, "1.1.1"), 1, evidence=other_photo)
    IndicatorAccount.objects.create(indicator=node(other, "1.1.1"), account="另一体系的说明")

    assert (
        evaluator.get(
            reverse("assessment:inspect_indicator", args=[grant.token, node(other, "1.1.1").pk])
        ).status_code
        == 404
    )
    assert evaluator.get(file_url(grant, "evidence", other_photo.pk)).status_code == 404
    assert "另一体系" not in evaluator.get(home(grant)).content.decode()
    # The other system's own grant is a separate code: this session does not open it.
    other_grant, _ = inspector.grant_create(system=other, by=grant.created_by, name="乙")
    assert (
        evaluator.get(
            reverse("assessment:inspect_indicator", args=[other_grant.token, node(other, "1.1.1").pk])
        ).status_code
        == 302
    )


# ------------------------------------------------------------------------------------------ expiry, revoke, log


def test_an_expired_grant_shows_a_clear_page_and_nothing_else(world, evaluator, granted):
    grant, code = granted
    InspectorGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    for url in [home(grant), indicator_url(grant, "1.1.1")]:
        response = evaluator.get(url)
        assert response.status_code == 410
        assert "已于" in response.content.decode() and "到期" in response.content.decode()
    assert enter(Client(), grant, code).status_code == 410


def test_a_revoked_grant_closes_at_once(world, evaluator, granted, office_user):
    grant, _ = granted
    assert evaluator.get(indicator_url(grant, "1.1.1")).status_code == 200
    inspector.grant_revoke(grant=grant, by=office_user)

    response = evaluator.get(indicator_url(grant, "1.1.1"))
    assert response.status_code == 410 and "已被创建办撤销" in response.content.decode()
    photo = node(world.system, "1.1.1").picks.get(order=2).evidence
    assert evaluator.get(file_url(grant, "evidence", photo.pk)).status_code == 410


def test_an_unknown_link_is_a_404_page():
    assert Client().get(reverse("assessment:inspect", args=["no-such-token"])).status_code == 404


def test_every_page_and_file_opened_is_logged(world, evaluator, granted):
    grant, _ = granted
    photo = node(world.system, "1.1.1").picks.get(order=2).evidence
    evaluator.get(home(grant))
    evaluator.get(indicator_url(grant, "1.1.1"))
    evaluator.get(file_url(grant, "evidence", photo.pk))

    whats = list(
        InspectorView.objects.filter(grant=grant).order_by("at", "id").values_list("what", flat=True)
    )
    assert whats == [
        inspector.SIGNED_IN,
        "指标体系总览",
        "指标 1.1.1 成立创建工作领导小组，主要领导任组长",
        "文件 会议照片.png",
    ]
    assert InspectorView.objects.filter(grant=grant).exclude(ip="127.0.0.1").count() == 0


def test_leaving_forgets_the_code(world, evaluator, granted):
    grant, _ = granted
    assert evaluator.post(reverse("assessment:inspect_leave", args=[grant.token])).status_code == 200
    assert evaluator.get(indicator_url(grant, "1.1.1")).status_code == 302


@pytest.mark.parametrize("who", ["as_office", "as_leader", "as_liaison_a", "as_liaison_b"])
def test_a_portal_login_does_not_open_an_evaluators_pages(request, who, world, granted):
    """The grant is the code in the session, not a role: even the office's own login goes to the code form."""
    grant, _ = granted
    client = request.getfixturevalue(who)
    photo = node(world.system, "1.1.1").picks.get(order=2).evidence

    assert "输入访问码" in client.get(home(grant)).content.decode()
    response = client.get(indicator_url(grant, "1.1.1"))
    assert response.status_code == 302 and response["Location"] == home(grant)
    assert client.get(file_url(grant, "evidence", photo.pk)).status_code == 302
    assert not InspectorView.objects.filter(grant=grant).exists()
