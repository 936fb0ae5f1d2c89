"""A real Celery worker (and beat, when asked) on Redis, against the PostgreSQL test database.

Integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL; without them they are skipped with the
reason printed — .ci/run always sets both. Tests use ``django_db(transaction=True)`` so the worker, a
separate process, sees committed rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="集成测试需要 DATABASE_URL（PostgreSQL）和 REDIS_URL，由 .ci/run 提供")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


def _worker_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _start(args: list[str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "campaign", *args],
        cwd=ROOT,
        env=_worker_env(),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _shared_media_root(media_root, settings):
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory, media_root):
    """A real worker process consuming from Redis, started once for the session."""
    from celery import Celery

    settings.MEDIA_ROOT = media_root
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    proc = _start(["worker", "-l", "info", "--concurrency", "2", "-n", f"ci-{os.getpid()}@%h"], log)
    # Only to ping the worker: not the current app, or every shared_task (.delay) of the tests that follow
    # would be sent through this one, which knows nothing of the project's eager setting.
    app = Celery(broker=settings.CELERY_BROKER_URL, set_as_current=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Celery worker exited:\n{log.read_text()[-3000:]}")
        try:
            if app.control.ping(timeout=1.0):
                break
        except Exception:  # noqa: BLE001 - the broker may not answer until the worker is up
            pass
        time.sleep(0.5)
    else:
        _stop(proc)
        raise RuntimeError(f"Celery worker did not answer a ping:\n{log.read_text()[-3000:]}")
    yield proc, log
    _stop(proc)


@pytest.fixture
def start_celery_process(tmp_path):
    """Start extra celery processes (e.g. beat with a test schedule); all are stopped after the test."""
    procs: list[subprocess.Popen] = []

    def start(args: list[str], extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"celery-{len(procs)}.log"
        env = _worker_env() | (extra_env or {})
        handle = log.open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "campaign", *args],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc, log

    yield start
    for proc in procs:
        _stop(proc)
