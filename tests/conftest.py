"""Role fixtures shared by every test: the plan loaded, office staff, leadership, liaisons of two units."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from campaign.models import Campaign, ReportingPeriod
from units.models import CampaignRole, Membership, Unit

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"
PASSWORD = "test-pass-123"


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def plan(db) -> Campaign:
    """The Pingliang plan as shipped in fixtures/ (56 units, 29 tasks, 10 quarters)."""
    call_command("loaddata", str(FIXTURE), verbosity=0)
    return Campaign.objects.get(pk=1)


def make_user(username: str, *, surname: str = "测", given: str = "试"):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, last_name=surname, first_name=given
    )


@pytest.fixture
def office_user(plan):
    user = make_user("office_t", surname="张", given="主任")
    CampaignRole.objects.create(user=user, role=CampaignRole.Role.OFFICE)
    return user


@pytest.fixture
def leadership_user(plan):
    user = make_user("leader_t", surname="李", given="领导")
    CampaignRole.objects.create(user=user, role=CampaignRole.Role.LEADERSHIP)
    return user


@pytest.fixture
def unit_a(plan) -> Unit:
    """市委宣传部: leads tasks 3–7 and carries 10 tasks."""
    return Unit.objects.get(code="xuanchuanbu")


@pytest.fixture
def unit_b(plan) -> Unit:
    """崆峒区: a county carrying all 29 tasks."""
    return Unit.objects.get(code="kongtong")


@pytest.fixture
def liaison_a(unit_a):
    user = make_user("liaison_a", surname="王", given="宣")
    Membership.objects.create(user=user, unit=unit_a, role=Membership.Role.LIAISON, phone="13800000001")
    return user


@pytest.fixture
def liaison_b(unit_b):
    user = make_user("liaison_b", surname="赵", given="崆")
    Membership.objects.create(user=user, unit=unit_b, role=Membership.Role.LIAISON, phone="13800000002")
    return user


@pytest.fixture
def open_period(plan) -> ReportingPeriod:
    """2025 Q4 opened for reporting (due 2026-01-10)."""
    period = ReportingPeriod.objects.get(year=2025, quarter=4)
    period.state = ReportingPeriod.State.OPEN
    period.save()
    return period


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def as_office(client, office_user):
    return logged_in(client, office_user)


@pytest.fixture
def as_leader(client, leadership_user):
    return logged_in(client, leadership_user)


@pytest.fixture
def as_liaison_a(client, liaison_a):
    return logged_in(client, liaison_a)


@pytest.fixture
def as_liaison_b(client, liaison_b):
    return logged_in(client, liaison_b)


@pytest.fixture(autouse=True)
def _jobs_in_process(request):
    """Outside the integration suite, jobs run in-process as in the quick start; integration tests use a worker."""
    from campaign.celery import app

    eager = request.node.get_closest_marker("integration") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
