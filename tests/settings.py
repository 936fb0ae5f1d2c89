"""The settings the test suite runs with: the portal's one settings module, read as the quick start reads it.

campaign/settings.py is safe when nothing is set (DEBUG off, so SECRET_KEY and ALLOWED_HOSTS are required and
HTTPS is enforced); the quick start sets DEBUG=1, and so do the tests, unless the shell sets it. This has to
happen before the settings are imported, and pytest-django imports them before any conftest.py is loaded, so
pyproject.toml names this module (DJANGO_SETTINGS_MODULE = "tests.settings"). The environment is inherited by
the processes tests start (Celery workers in tests/integration, manage.py in subprocesses).
pytest-django still runs every test with settings.DEBUG = False, as Django's test runner does.
"""

import os
import sys

os.environ.setdefault("DEBUG", "1")

# Keep compiled modules between runs, even where the shell sets PYTHONDONTWRITEBYTECODE=1 (this machine, the
# Docker image): without them every run compiles the portal's modules again and pytest rewrites the asserts of
# every test module again, in each xdist worker (half of the ~20 s each worker spent collecting). This module
# is imported before any of the portal's modules and before the test modules are collected. The caches go to
# the usual __pycache__/ directories, which git ignores.
sys.dont_write_bytecode = False

from campaign.settings import *  # noqa: E402, F403
