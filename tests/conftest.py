"""Role fixtures shared by every test: the plan loaded, office staff, leadership, liaisons of two units.

The Pingliang plan (fixtures/pingliang-2023.json, 511 rows) is loaded once per test session, when the test
database is set up, and committed; each test's transaction is rolled back, so every test starts from the
plan as shipped. A test that does not ask for ``plan`` sees the database as empty as before: the plan's rows
are deleted inside its transaction (and come back with the rollback). Transactional tests (live_server, the
integration suite) flush the database when they end; the plan is loaded again, committed, before the next
test that is not transactional, and ``plan`` loads it itself when it is missing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from campaign.models import Campaign, ReportingPeriod
from units.models import CampaignRole, Membership, Unit

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"
PLAN_PK = 1
PASSWORD = "test-pass-123"


# ------------------------------------------------------------------------- the test database, once


def pytest_configure(config):
    """The SQLite test database is made from the models, not by replaying every migration: replaying them
    (rendering ~60 migration states) took 8–10 s per xdist worker, before the first test. The schema is the
    same: ``make test`` runs ``makemigrations --check`` first, and tests/campaign/test_hardening_auth.py
    still applies every migration to a fresh SQLite database (``migrate`` under production settings).
    ``--migrations`` asks for them anyway; on PostgreSQL (DATABASE_URL: the integration suite) they run."""
    if "--migrations" not in config.invocation_params.args and not os.environ.get("DATABASE_URL"):
        config.option.nomigrations = True


# --------------------------------------------------------------------------------- the plan, once


@dataclass
class _SessionPlan:
    blocker: object = None  # pytest-django's django_db_blocker, once the test database exists
    rows: list[tuple[str, str, list]] = field(default_factory=list)  # (table, column, ids), children first


_session_plan = _SessionPlan()


def _load_plan() -> None:
    call_command("loaddata", str(FIXTURE), verbosity=0)


def _plan_rows() -> list[tuple[str, str, list]]:
    """The fixture's rows as (table, column, ids), children first: m2m rows, then the models in the reverse
    of the fixture's order (it lists parents before children)."""
    by_model: dict[str, list] = {}
    for obj in json.loads(FIXTURE.read_text(encoding="utf-8")):
        by_model.setdefault(obj["model"], []).append(obj["pk"])
    rows = []
    for label, pks in reversed(by_model.items()):
        model = apps.get_model(label)
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through._meta
            if through.auto_created:
                rows.append((through.db_table, m2m.m2m_column_name(), pks))
        rows.append((model._meta.db_table, model._meta.pk.column, pks))
    return rows


def _plan_present() -> bool:
    return Campaign.objects.filter(pk=PLAN_PK).exists()


def _delete_plan() -> None:
    """Delete the plan's rows (and nothing else) in a few statements; no signals, no cascade collection.
    Only called before a test has written anything, so no other row points at them."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column, ids in _session_plan.rows:
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} IN ({marks})", ids)


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _db_use(item) -> str | None:
    """How ``item`` uses the database, as pytest-django decides it: "transactional", "db" or None."""
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    if marker is None and not names & (TRANSACTIONAL_FIXTURES | {"db"}):
        return None
    options = {}  # the django_db marker's transaction= and reset_sequences=, given by name or position
    if marker is not None:
        options = dict(zip(("transaction", "reset_sequences"), marker.args, strict=False)) | marker.kwargs
    transactional = options.get("transaction") or options.get("reset_sequences")
    return "transactional" if transactional or names & TRANSACTIONAL_FIXTURES else "db"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, with the Pingliang plan loaded into it once for the session."""
    with django_db_blocker.unblock():
        _load_plan()
    _session_plan.rows = _plan_rows()
    _session_plan.blocker = django_db_blocker
    yield
    _session_plan.blocker = None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture of ``item``, committed and outside any test's transaction: take the plan away for a
    transactional test that does not ask for it; otherwise put it back if a transactional test flushed it
    (also for a test that only asks for ``plan`` through request.getfixturevalue)."""
    if _session_plan.blocker is None:
        return  # no test database yet: django_db_setup loads the plan when it makes one
    use = _db_use(item)
    with _session_plan.blocker.unblock():
        if connection.in_atomic_block:
            return  # a wider-scoped fixture holds a transaction with its own data (tests/reports/test_demo.py)
        present = _plan_present()
        if use == "transactional":
            if present and "plan" not in item.fixturenames:
                _delete_plan()
        elif not present:
            _load_plan()


@pytest.fixture(autouse=True)
def _plan_only_where_asked(request):
    """A test in a transaction that does not ask for ``plan`` gets the database without it, as if the plan
    had never been loaded: the rows are deleted inside the test's transaction and the rollback restores them."""
    if _db_use(request.node) != "db" or "plan" in request.fixturenames:
        return
    request.getfixturevalue("db")  # the test's transaction first, so the deletion is rolled back
    if len(connection.atomic_blocks) > 1:
        return  # inside a wider-scoped fixture's transaction, whose data the test is about
    if _plan_present():
        _delete_plan()


@pytest.fixture
def plan(db) -> Campaign:
    """The Pingliang plan as shipped in fixtures/ (56 units, 29 tasks, 10 quarters), loaded once per session;
    loaded here when a transactional test flushed it or the test is one that had it taken away."""
    if not _plan_present():
        _load_plan()
    return Campaign.objects.get(pk=PLAN_PK)


@pytest.fixture(scope="session", autouse=True)
def _static_files_looked_up_per_request():
    """WhiteNoise looks a static file up when it is asked for, as under runserver. Otherwise, with DEBUG
    off in tests and WHITENOISE_USE_FINDERS on, every test client indexes and stats all static files of
    every app (~260 files, about 0.1 s) when it builds its middleware: half a minute over the suite."""
    with override_settings(WHITENOISE_AUTOREFRESH=True):
        yield


# ------------------------------------------------------------------------------------------ per test


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


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
