"""Inbox, bell, mark read, settings and the API: each person sees and changes only their own messages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaign.decorators import OFFICE_ONLY
from notifications.models import Notification, NotificationPreference
from tests.campaign.test_decorators import assert_error_page

pytestmark = pytest.mark.django_db

ROLES = ["office", "leadership", "liaison_a", "liaison_b"]


@pytest.fixture
def inboxes(people):
    """Two unread messages each, plus one read one, titled with the owner's name."""
    notes = {}
    for role, user in people.items():
        notes[role] = [
            Notification.objects.create(
                recipient=user, kind="due_reminder", title=f"给{role}的提醒{i}", text="正文", url="/plan/"
            )
            for i in range(2)
        ]
        Notification.objects.create(
            recipient=user, kind="overdue", title=f"给{role}的旧消息", read_at=timezone.now()
        )
    return notes


@pytest.mark.parametrize("url", ["/notifications/", "/notifications/settings/"])
def test_anonymous_is_sent_to_login(client, plan, url):
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_the_bells_refresh_after_the_session_expired_changes_nothing(client, plan):
    # htmx does not swap a 204, so the header is not replaced with the login page.
    response = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")

    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize("url", ["/notifications/1/read/", "/notifications/read-all/"])
def test_anonymous_cannot_mark_read(client, plan, url):
    assert client.post(url)["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_only_their_own_inbox(client, people, inboxes, role):
    client.force_login(people[role])

    body = client.get("/notifications/").content.decode()

    assert f"给{role}的提醒0" in body and f"给{role}的提醒1" in body and f"给{role}的旧消息" in body
    for other in ROLES:
        if other != role:
            assert f"给{other}的" not in body
    assert 'data-testid="bell-count">2<' in body


@pytest.mark.parametrize("role", ROLES)
def test_the_bell_on_every_page_shows_the_unread_count(client, people, inboxes, role):
    client.force_login(people[role])

    home = client.get("/plan/").content.decode()
    bell = client.get("/notifications/bell/").content.decode()

    assert 'href="/notifications/"' in home and 'data-testid="bell-count">2<' in home
    assert 'data-testid="bell-count">2<' in bell


def test_bell_without_unread_messages_has_no_badge(as_liaison_a):
    body = as_liaison_a.get("/plan/").content.decode()

    assert 'data-testid="bell"' in body and "bell-count" not in body


def test_unread_filter_and_pagination(client, people):
    user = people["liaison_a"]
    for i in range(25):
        Notification.objects.create(recipient=user, kind="due_reminder", title=f"第{i:02d}条")
    Notification.objects.create(recipient=user, kind="overdue", title="已读的", read_at=timezone.now())
    client.force_login(user)

    first = client.get("/notifications/").content.decode()
    second = client.get("/notifications/?page=2").content.decode()
    unread = client.get("/notifications/?show=unread&page=2").content.decode()

    assert first.count('data-testid="notification"') == 20 and "第 1 / 2 页，共 26 条" in first
    assert "第24条" in first  # newest first
    assert second.count('data-testid="notification"') == 6
    assert "已读的" not in unread and "共 25 条" in unread


@pytest.mark.parametrize("role", ROLES)
def test_marking_read_works_on_ones_own_and_404s_on_anothers(client, people, inboxes, role):
    client.force_login(people[role])
    mine = inboxes[role][0]
    others = [inboxes[r][0] for r in ROLES if r != role]

    response = client.post(f"/notifications/{mine.pk}/read/")

    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    for note in others:
        assert client.post(f"/notifications/{note.pk}/read/").status_code == 404
        note.refresh_from_db()
        assert note.read_at is None


def test_anothers_message_is_the_chinese_404_page(as_liaison_a, inboxes):
    note = inboxes["liaison_b"][0]

    assert_error_page(
        as_liaison_a.post(f"/notifications/{note.pk}/read/"), 404, message="没有这条消息。", nav="本季度报送"
    )
    assert_error_page(
        as_liaison_a.get(f"/notifications/{note.pk}/go/"), 404, message="没有这条消息。", nav="本季度报送"
    )


def test_leadership_gets_the_chinese_403_page_on_the_bulletin(as_leader, open_period):
    for url in [
        "/notifications/bulletin/",
        f"/notifications/bulletin/{open_period.pk}.docx",
        f"/notifications/bulletin/{open_period.pk}.pdf",
    ]:
        assert_error_page(as_leader.get(url), 403, message=OFFICE_ONLY, nav="总览")


def test_an_unknown_bulletin_period_is_the_chinese_404_page(as_office, plan):
    for url in ["/notifications/bulletin/?period=999", "/notifications/bulletin/?period=x",
                "/notifications/bulletin/999.pdf"]:  # fmt: skip
        assert_error_page(as_office.get(url), 404, message="没有这个报告期。", nav="逾期通报")


def test_marking_read_with_htmx_swaps_the_row_and_the_bell(as_liaison_a, people, inboxes):
    note = inboxes["liaison_a"][0]

    response = as_liaison_a.post(f"/notifications/{note.pk}/read/", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="notif-{note.pk}"' in body and "未读</span>" not in body
    assert 'hx-swap-oob="true"' in body and 'data-testid="bell-count">1<' in body


def test_mark_all_read_touches_only_ones_own(as_liaison_a, people, inboxes):
    response = as_liaison_a.post("/notifications/read-all/")

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=people["liaison_a"], read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=people["liaison_b"], read_at__isnull=True).count() == 2


@pytest.mark.parametrize("role", ROLES)
def test_following_a_link_marks_it_read_and_goes_there(client, people, inboxes, role):
    client.force_login(people[role])
    mine = inboxes[role][1]
    others = [inboxes[r][1] for r in ROLES if r != role]

    response = client.get(f"/notifications/{mine.pk}/go/")

    assert response.status_code == 302 and response["Location"] == "/plan/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    for note in others:
        assert client.get(f"/notifications/{note.pk}/go/").status_code == 404


def test_following_never_leaves_the_site(as_liaison_a, people):
    note = Notification.objects.create(
        recipient=people["liaison_a"], kind="returned", title="x", url="https://evil.example/"
    )

    assert as_liaison_a.get(f"/notifications/{note.pk}/go/")["Location"] == "/notifications/"


def test_anonymous_following_a_link_is_sent_to_login(client, people, inboxes):
    note = inboxes["liaison_a"][0]

    assert client.get(f"/notifications/{note.pk}/go/")["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ROLES)
def test_everyone_can_turn_email_off_and_on_for_themselves(client, people, role):
    client.force_login(people[role])

    page = client.get("/notifications/settings/").content.decode()
    assert "checked" in page  # default: on
    assert client.post("/notifications/settings/", {}).status_code == 302
    assert NotificationPreference.objects.get(user=people[role]).email_enabled is False
    client.post("/notifications/settings/", {"email_enabled": "on"})
    assert NotificationPreference.objects.get(user=people[role]).email_enabled is True
    assert NotificationPreference.objects.count() == 1  # nobody else's row was touched


def test_settings_page_says_when_there_is_no_address(as_liaison_a):
    body = as_liaison_a.get("/notifications/settings/").content.decode()

    assert "尚未登记电子邮箱" in body


# --------------------------------------------------------------------------------------------------- API


def test_api_needs_a_login(api_client, people, inboxes):
    assert api_client.get("/api/v1/notifications/").status_code == 401
    assert api_client.post(f"/api/v1/notifications/{inboxes['liaison_a'][0].pk}/read/").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_api_lists_only_ones_own_inbox(api_client, people, inboxes, role):
    api_client.force_authenticate(people[role])

    data = api_client.get("/api/v1/notifications/").json()

    assert data["count"] == 3
    assert {row["title"] for row in data["results"]} == {
        f"给{role}的提醒0",
        f"给{role}的提醒1",
        f"给{role}的旧消息",
    }
    row = data["results"][0]
    assert set(row) >= {"id", "kind", "text", "url", "created_at", "read_at"}
    unread = api_client.get("/api/v1/notifications/?unread=1").json()
    assert unread["count"] == 2


@pytest.mark.parametrize("role", ROLES)
def test_api_marks_ones_own_read_and_404s_on_anothers(api_client, people, inboxes, role):
    api_client.force_authenticate(people[role])
    mine = inboxes[role][0]

    response = api_client.post(f"/api/v1/notifications/{mine.pk}/read/")

    assert response.status_code == 200 and response.json()["read_at"] is not None
    for other in ROLES:
        if other == role:
            continue
        note = inboxes[other][0]
        assert api_client.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
        assert api_client.get(f"/api/v1/notifications/{note.pk}/").status_code == 404
        note.refresh_from_db()
        assert note.read_at is None


def test_api_read_all(api_client, people, inboxes):
    api_client.force_authenticate(people["liaison_b"])

    assert api_client.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert Notification.objects.filter(read_at__isnull=True).count() == 8  # the other four people's


def test_api_is_in_the_openapi_schema(as_office):
    schema = as_office.get("/api/schema/").content.decode()

    assert "/api/v1/notifications/{id}/read/" in schema
