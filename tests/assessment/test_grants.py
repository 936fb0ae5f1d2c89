"""The grants page: the office opens access (code shown once), revokes it after a confirmation and reads the
log; leadership reads; unit people and anonymous visitors get nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from assessment import inspector
from assessment.models import InspectorGrant, InspectorView

pytestmark = pytest.mark.django_db


def grants_url(system) -> str:
    return reverse("assessment:grants", args=[system.pk])


def test_office_creates_a_grant_and_sees_link_and_code_once(as_office, small_system):
    response = as_office.post(grants_url(small_system), {"name": "某大学评估组", "days": "10"})

    assert response.status_code == 302 and response["Location"] == grants_url(small_system)
    page = as_office.get(grants_url(small_system)).content.decode()
    code = re.search(r'data-testid="grant-code">([A-Z0-9]{8})<', page).group(1)
    grant = InspectorGrant.objects.get()
    assert grant.name == "某大学评估组" and (grant.expires_at - grant.created_at).days == 10
    assert f"/assessment/inspect/{grant.token}/" in page
    assert code not in grant.code_hash
    # The code works, and is never shown again.
    assert Client().post(reverse("assessment:inspect", args=[grant.token]), {"code": code}).status_code == 302
    again = as_office.get(grants_url(small_system)).content.decode()  # a reload: no code, no second grant
    assert code not in again and "某大学评估组" in again and InspectorGrant.objects.count() == 1
    assert code not in as_office.get(reverse("assessment:grant", args=[grant.pk])).content.decode()


@pytest.mark.parametrize(
    "form, message",
    [
        ({"name": "", "days": "14"}, "请填写评估人或评估单位的名称。"),
        ({"name": "甲", "days": "31"}, "有效天数须为 1 至 30 天（填写的是 31 天）。"),
        ({"name": "甲", "days": "两周"}, "有效天数须为 1 至 30 之间的整数。"),
    ],
)
def test_bad_grant_forms_say_why_and_keep_the_typed_name(as_office, small_system, form, message):
    response = as_office.post(grants_url(small_system), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{form["name"]}"' in response.content.decode()
    assert not InspectorGrant.objects.exists()


def test_default_validity_is_fourteen_days(as_office, small_system):
    as_office.post(grants_url(small_system), {"name": "甲"})
    grant = InspectorGrant.objects.get()
    assert (grant.expires_at - grant.created_at).days == 14


def test_revoke_asks_first_then_closes_the_grant(as_office, small_system, office_user):
    grant, _ = inspector.grant_create(system=small_system, by=office_user, name="甲")
    url = reverse("assessment:grant_revoke", args=[grant.pk])

    confirm = as_office.get(url)
    assert confirm.status_code == 200 and "确认撤销" in confirm.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is None

    assert as_office.post(url).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert "已撤销" in as_office.get(grants_url(small_system)).content.decode()


def test_the_log_page_lists_every_view(as_office, small_system, office_user):
    grant, _ = inspector.grant_create(system=small_system, by=office_user, name="甲")
    InspectorView.objects.create(grant=grant, path="/x/", what="指标 1.1.1 某指标", ip="10.1.2.3")
    InspectorView.objects.create(grant=grant, path="/x/", what=inspector.WRONG_CODE, ip="10.1.2.4")
    page = as_office.get(reverse("assessment:grant", args=[grant.pk])).content.decode()
    assert "指标 1.1.1 某指标" in page and "10.1.2.3" in page and "访问码错误" in page
    listing = as_office.get(grants_url(small_system)).content.decode()
    assert re.search(r'data-label="查看次数">1<', listing)  # wrong codes are not views


def test_leadership_reads_grants_but_cannot_create_or_revoke(as_leader, small_system, office_user):
    grant, _ = inspector.grant_create(system=small_system, by=office_user, name="甲")
    page = as_leader.get(grants_url(small_system))
    assert (
        page.status_code == 200
        and "甲" in page.content.decode()
        and "开通评估访问" not in page.content.decode()
    )
    assert as_leader.post(grants_url(small_system), {"name": "乙"}).status_code == 403
    assert as_leader.get(reverse("assessment:grant", args=[grant.pk])).status_code == 200
    assert as_leader.post(reverse("assessment:grant_revoke", args=[grant.pk])).status_code == 403
    assert InspectorGrant.objects.count() == 1 and InspectorGrant.objects.get().revoked_at is None


@pytest.mark.parametrize("who", ["as_liaison_a", "as_liaison_b"])
def test_unit_people_get_nothing_of_the_grants(request, who, small_system, office_user):
    client = request.getfixturevalue(who)
    grant, _ = inspector.grant_create(system=small_system, by=office_user, name="甲")
    for method, url in [
        ("get", grants_url(small_system)),
        ("post", grants_url(small_system)),
        ("get", reverse("assessment:grant", args=[grant.pk])),
        ("post", reverse("assessment:grant_revoke", args=[grant.pk])),
    ]:
        assert getattr(client, method)(url, {"name": "乙"}).status_code == 403, url
    assert InspectorGrant.objects.count() == 1


def test_unit_leader_gets_nothing_of_the_grants(client, unit_leader, small_system):
    client.force_login(unit_leader)
    assert client.get(grants_url(small_system)).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, small_system, office_user):
    grant, _ = inspector.grant_create(system=small_system, by=office_user, name="甲")
    for url in [
        grants_url(small_system),
        reverse("assessment:grant", args=[grant.pk]),
        reverse("assessment:grant_revoke", args=[grant.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
