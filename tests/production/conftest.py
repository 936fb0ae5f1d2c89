"""The production shape run natively: selected only with ``-m production`` (.ci/run stage 3).

It needs the machine's PostgreSQL (trust auth) and Redis; PRODUCTION_DATABASE_URL names a database it drops
and creates, PRODUCTION_REDIS_URL a Redis database it empties.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    expression = config.getoption("-m") or ""
    if "production" in expression and "not production" not in expression:
        return
    skip = pytest.mark.skip(reason="生产形态测试只在 -m production 时运行（.ci/run 第 3 步）")
    for item in items:
        if "production" in item.keywords:
            item.add_marker(skip)
