"""Shared pieces of the benchmark commands: query count and median server time of one page."""

from __future__ import annotations

import statistics
import time

from django.core.management import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def measure_page(user, url: str, repeat: int) -> tuple[int, float]:
    """(queries per request, median seconds) over ``repeat`` requests after one warm-up request.

    Raises when the page fails or when the query count differs between requests (it must not depend on luck).
    """
    client = Client()
    client.force_login(user)
    response = client.get(url)  # warm up templates and caches
    if response.status_code != 200:
        raise CommandError(f"{url} 返回 {response.status_code}")
    timings, counts = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - started)
        counts.add(len(ctx.captured_queries))
    if len(counts) != 1:
        raise CommandError(f"{url} 每次请求的查询次数不同：{sorted(counts)}")
    return counts.pop(), statistics.median(timings)


class QuietOutput:
    """A stdout for sub-commands whose chatter would drown the benchmark's table."""

    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass
