"""Who sees a liaison's mobile number (``Access.sees_phones_of``): the office and leadership every unit's,
a unit's own people their colleagues', nobody another unit's. The office's contact is shown to everyone."""

from __future__ import annotations

import json

import pytest

from units.models import CampaignRole

PHONE_A, PHONE_B, OFFICE_PHONE = "13800000001", "13800000002", "0933-8212345"


@pytest.fixture
def world(liaison_a, liaison_b, office_user, leadership_user, unit_a, unit_b):
    CampaignRole.objects.filter(user=office_user).update(phone=OFFICE_PHONE)
    return {"a": unit_a, "b": unit_b}


def page(client, unit) -> str:
    response = client.get(f"/units/{unit.code}/")
    assert response.status_code == 200
    return response.content.decode()


def test_liaison_does_not_see_another_units_phone(client, liaison_a, world):
    client.force_login(liaison_a)

    html = page(client, world["b"])

    assert "赵崆" in html  # the name stays: people know whom to ask for
    assert PHONE_B not in html
    assert "其他单位人员的联系电话仅向本单位、创建办和领导显示" in html


def test_liaison_sees_own_units_phones_and_the_offices_contact(client, liaison_a, world):
    client.force_login(liaison_a)

    own, other = page(client, world["a"]), page(client, world["b"])

    assert f'<a href="tel:{PHONE_A}">{PHONE_A}</a>' in own
    assert f'张主任 · <a href="tel:{OFFICE_PHONE}">{OFFICE_PHONE}</a>' in own
    assert OFFICE_PHONE in other


@pytest.mark.parametrize("who", ["office_user", "leadership_user"])
def test_office_and_leadership_see_every_units_phone(request, client, world, who):
    client.force_login(request.getfixturevalue(who))

    assert PHONE_B in page(client, world["b"])
    assert PHONE_A in page(client, world["a"])


def test_liaison_finds_no_other_units_phone_anywhere_in_the_api(api_client, liaison_a, world):
    """Every GET list and each unit's detail of the API, as liaison A: B's number is in none of them."""
    api_client.force_authenticate(liaison_a)
    root = api_client.get("/api/v1/").json()
    urls = [url for name, url in root.items() if not name.startswith("dashboard")]
    urls += [f"/api/v1/units/{world['b'].pk}/", f"/api/v1/units/{world['a'].pk}/"]

    bodies = {url: api_client.get(url, {"page_size": 1000}) for url in urls}

    assert len(urls) > 10
    for url, response in bodies.items():
        assert response.status_code in (200, 403, 405), url
        assert PHONE_B not in json.dumps(response.json(), ensure_ascii=False), url
