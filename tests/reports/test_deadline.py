"""The deadline-rush benchmark command (``benchmark_deadline``): loopback only, bounded, its accounts, a real
run against a live server, and its database check, which must catch a report lost or changed."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from campaign.benchmarking import loopback_url, percentile
from reports.management.commands.benchmark_deadline import SentReport, find_lost, liaisons, open_period
from reports.models import MetricValue, ProgressReport
from units.models import Membership, Unit


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8000",
        "http://192.168.1.10/",
        "http://example.com:8000",
        "http://127.0.0.1.example.com/",
        "http://[2001:db8::1]:8000/",
        "ftp://127.0.0.1/",
        "127.0.0.1:8000",
        "http://127.0.0.1:port/",
    ],
)
def test_anything_but_this_machine_is_refused_before_anything_is_sent(url):
    with pytest.raises(CommandError) as refused:
        call_command("benchmark_deadline", url=url, n=1)

    assert "本机" in str(refused.value) or "无效" in str(refused.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8131", "http://localhost:8000/", "http://[::1]:8000", "https://127.0.0.2"]
)
def test_loopback_addresses_are_accepted(url):
    assert loopback_url(url).hostname in {"127.0.0.1", "localhost", "::1", "127.0.0.2"}


@pytest.mark.parametrize(
    ("options", "message"), [({"n": 0}, "--n"), ({"n": 1001}, "--n"), ({"reports": 30}, "--reports")]
)
def test_the_rush_is_bounded(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark_deadline", **options)


def test_percentiles_by_nearest_rank():
    values = [float(v) for v in range(1, 101)]

    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([], 95) == 0.0
    assert percentile([3.0], 50) == 3.0


def test_prepare_refuses_without_debug_and_keeps_people_who_are_not_its_own(plan, liaison_a):
    with pytest.raises(CommandError, match="DEBUG 已关闭"):
        call_command("benchmark_deadline", "--prepare", n=2)
    someone = get_user_model().objects.create_user("rush-002", password="own-password")
    Membership.objects.create(
        user=someone, unit=Unit.objects.get(code="kongtong"), role=Membership.Role.LIAISON
    )

    with pytest.raises(CommandError, match="rush-002 已存在且不是压测账号"):
        call_command("benchmark_deadline", "--prepare", "--force", n=2, stdout=io.StringIO())

    someone.refresh_from_db()
    assert someone.check_password("own-password")
    assert not Unit.objects.filter(code__startswith="rush-").exists()


def test_prepare_makes_units_and_liaisons_once_and_reset_removes_only_them(plan, liaison_a):
    for _ in range(2):
        call_command("benchmark_deadline", "--prepare", "--force", n=3, reports=2, stdout=io.StringIO())

    people = liaisons(n=3, reports=2)
    assert [p.username for p in people] == ["rush-001", "rush-002", "rush-003"]
    assert all(len(p.tasks) == 2 and all(metrics for _, _, metrics in p.tasks) for p in people)
    assert open_period().is_open
    assert get_user_model().objects.get(username="rush-001").check_password("rush-pass-2024")

    out = io.StringIO()
    call_command("benchmark_deadline", "--reset", stdout=out)

    assert "已删除 3 个压测单位" in out.getvalue()
    assert not Unit.objects.filter(code__startswith="rush-").exists()
    assert not get_user_model().objects.filter(username__startswith="rush-").exists()
    assert get_user_model().objects.filter(username="liaison_a").exists()


def test_a_run_without_prepared_liaisons_says_what_to_do(plan):
    call_command("benchmark_deadline", "--prepare", "--force", n=1, stdout=io.StringIO())

    with pytest.raises(CommandError, match="请先运行 benchmark_deadline --prepare --n 5"):
        call_command("benchmark_deadline", url="http://127.0.0.1:9", n=5)


# ------------------------------------------------------------------------------------ against a server


class _OneRequestAtATime(LiveServerThread):
    """A live server that answers one request at a time, as one synchronous gunicorn worker does. The test
    database (SQLite in memory: one connection, shared with the server thread) cannot take two requests at
    once; the liaisons are still concurrent, queued at the server as at a busy worker."""

    def _create_server(self, connections_override=None):
        return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)


@pytest.fixture
def server(transactional_db, settings) -> str:
    """A running server on 127.0.0.1 (its base URL), serving the test database."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread = _OneRequestAtATime("127.0.0.1", lambda app: app, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


@pytest.fixture
def rush(plan, server):
    """A rush of 3 liaisons, 2 reports each, against the server: (its output, its JSON line)."""
    call_command("benchmark_deadline", "--prepare", "--force", n=3, reports=2, stdout=io.StringIO())
    out = io.StringIO()
    call_command("benchmark_deadline", url=server, n=3, reports=2, json=True, stdout=out)
    return out.getvalue(), json.loads(out.getvalue().strip().splitlines()[-1])


def sent_as_stored() -> list[SentReport]:
    """What the rush wrote, read back from the database (before any tampering)."""
    values: dict[int, dict[int, Decimal]] = {}
    for v in MetricValue.objects.filter(report__unit__code__startswith="rush-"):
        values.setdefault(v.report_id, {})[v.metric_id] = v.value
    return [
        SentReport(
            report_id=r.pk,
            unit_id=r.unit_id,
            task_id=r.task_id,
            texts={"progress": r.progress, "problems": r.problems, "next_steps": r.next_steps},
            values=values.get(r.pk, {}),
        )
        for r in ProgressReport.objects.filter(unit__code__startswith="rush-").order_by("pk")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rush_against_a_live_server_stores_every_report_and_the_check_catches_a_lost_one(rush):
    output, result = rush

    assert set(result) == {"n", "rps", "p50_ms", "p95_ms", "errors", "lost"}
    assert (result["n"], result["errors"], result["lost"]) == (3, 0, 0)
    assert result["rps"] > 0 and 0 < result["p50_ms"] <= result["p95_ms"]
    assert "create 201: 6" in output and "submit 200: 6" in output and "list 200: 6" in output
    assert "丢失 0 份" in output
    reports = ProgressReport.objects.filter(unit__code__startswith="rush-")
    assert reports.count() == 6
    assert {r.state for r in reports} == {"submitted"}
    assert all("修改稿" in r.progress and r.version == 3 for r in reports)
    assert MetricValue.objects.filter(report__in=reports).count() >= 6
    period_id = open_period().pk

    sent = sent_as_stored()
    assert find_lost(sent, period_id=period_id) == []
    changed, other, third, fourth = sent[0], sent[1], sent[2], sent[3]
    ProgressReport.objects.filter(pk=changed.report_id).update(progress="被改过的内容")
    MetricValue.objects.filter(report_id=other.report_id).first().delete()
    ProgressReport.objects.filter(pk=third.report_id).update(state="draft")
    ProgressReport.objects.filter(pk=fourth.report_id).delete()

    lost = find_lost(sent, period_id=period_id)

    assert lost == [
        f"报告 {changed.report_id} 的文字与报送的不一致",
        f"报告 {other.report_id} 的指标数值与报送的不一致",
        f"报告 {third.report_id} 状态为 draft，未报送",
        f"报告 {fourth.report_id} 不存在",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_second_rush_starts_the_quarter_afresh(rush, server):
    out = io.StringIO()
    call_command("benchmark_deadline", url=server, n=3, reports=2, json=True, stdout=out)

    assert "已清除上次压测的报告 6 份" in out.getvalue()
    assert json.loads(out.getvalue().strip().splitlines()[-1])["lost"] == 0
    assert ProgressReport.objects.filter(unit__code__startswith="rush-", state="submitted").count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_stops_at_the_first_account(plan, server):
    call_command("benchmark_deadline", "--prepare", "--force", n=3, reports=1, stdout=io.StringIO())

    with pytest.raises(CommandError, match="获取令牌失败.*已停止登录其余账号"):
        call_command("benchmark_deadline", url=server, n=3, reports=1, password="wrong", stdout=io.StringIO())

    assert AccessAttempt.objects.filter(username__startswith="rush-").count() <= 4  # at most one per worker
