"""Shared pieces of the benchmark commands: query count and median server time of one page; a loopback-only
JSON client and percentiles for the commands that drive a running server (``benchmark_deadline``)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import os
import statistics
import time
import urllib.parse
from dataclasses import dataclass

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


# ------------------------------------------------------------------ driving a running server over HTTP


def loopback_url(url: str) -> urllib.parse.SplitResult:
    """``url`` split, once it is plain http(s) to this machine: an IP literal in 127.0.0.0/8 or ::1, or
    ``localhost``. Anything else is refused without a DNS look-up: a load test must never reach another host."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise CommandError(f"地址“{url}”无效。") from None
    if parts.scheme not in ("http", "https") or not host:
        raise CommandError(f"地址“{url}”无效：应为 http://127.0.0.1:端口 这样的本机地址。")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise CommandError(
                f"拒绝压测“{host}”：本命令只压测本机（127.0.0.1、::1 或 localhost）上运行的服务。"
            )
    return parts


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values`` by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Answer:
    status: int  # 0 when no answer came (connection refused, timed out)
    body: object
    seconds: float
    error: str = ""


class JsonClient:
    """HTTP/1.1 JSON requests of one simulated person, on asyncio (hundreds of people in one thread: 200
    threads spend more CPU switching the GIL than the server spends answering). One connection per request
    (``Connection: close``, as a synchronous gunicorn worker answers anyway); redirects are not followed.

    Sends ``X-Forwarded-Proto: https`` as the production proxy (Caddy) does, so a server started as in
    production (``TRUST_X_FORWARDED_PROTO=1``, HTTPS required) answers plain HTTP from the benchmark.
    """

    def __init__(self, base: urllib.parse.SplitResult, *, timeout: float, token: str = ""):
        self.base = base
        self.timeout = timeout
        self.token = token

    async def request(self, method: str, path: str, body: dict | None = None) -> Answer:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.base.netloc}",
            "Accept: application/json",
            "X-Forwarded-Proto: https",
            "Connection: close",
            f"Content-Length: {len(data)}",
        ]
        if body is not None:
            head.append("Content-Type: application/json; charset=utf-8")
        if self.token:
            head.append(f"Authorization: Token {self.token}")
        started = time.perf_counter()
        try:
            raw = await asyncio.wait_for(
                self._exchange(("\r\n".join(head) + "\r\n\r\n").encode() + data), self.timeout
            )
            status, payload = _response(raw)
        except (OSError, TimeoutError, ValueError) as error:
            return Answer(0, None, time.perf_counter() - started, error=f"{type(error).__name__}: {error}")
        seconds = time.perf_counter() - started
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload[:200].decode(errors="replace")
        return Answer(status, parsed, seconds)

    async def _exchange(self, request: bytes) -> bytes:
        ssl = self.base.scheme == "https" or None
        reader, writer = await asyncio.open_connection(
            self.base.hostname, self.base.port or (443 if ssl else 80), ssl=ssl
        )
        try:
            writer.write(request)
            await writer.drain()
            return await reader.read()  # to the end: the server closes after its answer
        finally:
            writer.close()


def _response(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a whole HTTP/1.1 response; a chunked body is put together."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"不是 HTTP 响应：{lines[0][:80]!r}")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        whole, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            whole, rest = whole + rest[:size], rest[size + 2 :]
        body = whole
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return int(parts[1]), body


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its children (Linux /proc): a server's
    workers, to give CPU per request, which a busy shared machine disturbs less than throughput. A child
    that has ended is counted in its parent's cutime/cstime once reaped; 0 when /proc cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is None:
            continue
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        todo.extend(children.get(current, []))
    return total
