"""The per-unit setting "报送前需分管领导审核": the office turns it on and off on the unit's page; nobody else
may; it cannot be turned on for a unit without a 分管领导; ``Access.signs_off_for`` is the one "who signs"."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from units.access import get_access
from units.models import Membership, Unit

ON_TIME_NOTE = "按时：以报送到创建办（分管领导审核通过）的时间计算"


@pytest.fixture
def leader_a(unit_a):
    user = make_user("leader_a", surname="刘", given="分管")
    Membership.objects.create(user=user, unit=unit_a, role=Membership.Role.LEADER)
    return user


def test_office_turns_the_setting_on_and_off(as_office, unit_a, leader_a):
    page = as_office.get(f"/units/{unit_a.code}/").content.decode()
    assert 'data-testid="signoff-form"' in page

    response = as_office.post(f"/units/{unit_a.code}/", {"requires_signoff": "on"}, follow=True)

    assert Unit.objects.get(pk=unit_a.pk).requires_signoff
    html = response.content.decode()
    assert "已开启：市委宣传部的报告报送前需分管领导审核。" in html and ON_TIME_NOTE in html

    as_office.post(f"/units/{unit_a.code}/", {})

    assert not Unit.objects.get(pk=unit_a.pk).requires_signoff


def test_the_setting_cannot_be_turned_on_without_a_leader(as_office, unit_a):
    response = as_office.post(f"/units/{unit_a.code}/", {"requires_signoff": "on"}, follow=True)

    assert not Unit.objects.get(pk=unit_a.pk).requires_signoff
    assert "尚未设置分管领导账号" in response.content.decode()


@pytest.mark.parametrize("who", ["liaison_a", "liaison_b", "leader_a", "leadership_user"])
def test_only_the_office_changes_the_setting(client, request, unit_a, leader_a, who):
    client.force_login(request.getfixturevalue(who))

    assert 'data-testid="signoff-form"' not in client.get(f"/units/{unit_a.code}/").content.decode()
    response = client.post(f"/units/{unit_a.code}/", {"requires_signoff": "on"})

    assert response.status_code == 403
    assert "只有创建办可以设置" in response.content.decode()
    assert not Unit.objects.get(pk=unit_a.pk).requires_signoff


def test_signs_off_for_is_the_units_active_leader_only(unit_a, unit_b, leader_a, liaison_a, office_user):
    assert get_access(leader_a).signs_off_for(unit_a.pk)
    assert not get_access(leader_a).signs_off_for(unit_b.pk)
    assert not get_access(liaison_a).signs_off_for(unit_a.pk)
    assert not get_access(office_user).signs_off_for(unit_a.pk)
    Membership.objects.filter(user=leader_a).update(is_active=False)
    leader_a._portal_access = None
    assert not get_access(leader_a).signs_off_for(unit_a.pk)
