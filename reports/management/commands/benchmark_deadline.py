"""The deadline rush: N liaisons at once, each in a closed loop over the API of a RUNNING server, then a check
of the database that every report they submitted is stored with their text and figures (0 lost).

It starts nothing itself: it drives a server someone started, and only on this machine (127.0.0.1, ::1 or
localhost; any other address is refused before anything is sent). It is bounded: at most 1000 people, at most
``--reports`` reports each, every request with a timeout and the whole rush with ``--max-seconds``.

    # 1. accounts and units for the rush, once (DEBUG on, or --force: it makes accounts with a known password)
    manage.py benchmark_deadline --prepare --n 200
    # 2. the server, as in production (another shell; same DATABASE_URL):
    DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1 TRUST_X_FORWARDED_PROTO=1 DATABASE_URL=… \\
        gunicorn campaign.wsgi -w 3 -b 127.0.0.1:8131
    # 3. the rush (run it as often as you like; --json ends with one JSON line)
    manage.py benchmark_deadline --url http://127.0.0.1:8131 --n 200 --json
    # afterwards: remove the rush units, their reports and the rush accounts
    manage.py benchmark_deadline --reset

``--prepare`` makes units ``rush-001``… (市直部门, each carrying ``--reports`` tasks of the current plan, 6 by
default) and one liaison account per unit, username = unit code, password ``--password``; it opens the quarter
containing today (``period_ensure_current``). These units are the benchmark's own: a unit of the plan or of
``generate_scale_data`` is never touched. For a database of province size run ``generate_scale_data`` first.

A run, with the same DATABASE_URL as the server:
1. deletes the rush units' reports in the open period, so every liaison starts the quarter with none;
2. signs every liaison in with ``POST /api/v1/auth/token/`` (4 at a time, not timed; it stops at the first
   refusal, so a wrong ``--password`` never walks the accounts into django-axes' lockout);
3. the rush, timed: every liaison, for each task the unit carries, lists the unit's reports of the period,
   creates the report (text and metric values), changes it with the ``version`` it was given (new text and
   values), and submits it with the new version, waiting ``--think-ms`` between requests (0: a closed loop
   with no pause). An answer other than the expected 200/201, or one that does not show what was written,
   is an error;
4. prints throughput, p50 / p95 / p99 per step and overall, and the answers by status;
5. checks the database: each report whose submit was answered 200 must be there, submitted (or awaiting the
   unit leader's sign-off), with exactly the text and values of the last change. A report missing or
   different is lost.

With ``--json`` the last line is ``{"n", "rps", "p50_ms", "p95_ms", "errors", "lost"}``. The command fails
(non-zero exit) when a report is lost.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from campaign.auth import token_is_expired
from campaign.benchmarking import JsonClient, loopback_url, percentile, process_tree_cpu
from campaign.models import Campaign, ReportingPeriod
from campaign.services import period_ensure_current
from reports.models import MetricValue, ProgressReport
from reports.selectors import report_metrics
from tasks.models import Responsibility, Task
from units.models import Membership, Unit

PREFIX = "rush-"
MAX_PEOPLE = 1000
DEFAULT_PASSWORD = "rush-pass-2024"
STEPS = ("list", "create", "patch", "submit")
EXPECTED = {"list": 200, "create": 201, "patch": 200, "submit": 200}
SUBMITTED = {ProgressReport.State.SUBMITTED, ProgressReport.State.AWAITING_SIGNOFF}


@dataclass
class Liaison:
    username: str
    unit_id: int
    unit_name: str
    tasks: list[tuple[int, int, list[int]]]  # (task id, task number, metric ids the report may carry)
    token: str = ""


@dataclass
class SentReport:
    """What one liaison wrote last into a report the server said it submitted."""

    report_id: int
    unit_id: int
    task_id: int
    texts: dict[str, str]
    values: dict[int, Decimal]


@dataclass
class Tally:
    """One liaison's record of the rush (merged afterwards)."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    sent: list[SentReport] = field(default_factory=list)


class Command(BaseCommand):
    help = "截止日前集中报送压测：N 个联络员同时通过 API 填写、修改、报送报告，统计吞吐量和响应时间，并核对数据库无丢失。"

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="正在运行的服务地址，仅限本机")
        parser.add_argument(
            "--n", type=int, default=20, help=f"同时报送的联络员人数（1–{MAX_PEOPLE}），默认 20"
        )
        parser.add_argument("--reports", type=int, default=6, help="每个联络员填写的报告份数（1–29），默认 6")
        parser.add_argument(
            "--think-ms", type=int, default=0, help="同一联络员两次请求之间的停顿（毫秒），默认 0"
        )
        parser.add_argument("--timeout", type=float, default=60, help="单个请求的超时（秒），默认 60")
        parser.add_argument("--max-seconds", type=float, default=600, help="压测总时长上限（秒），默认 600")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="压测账号的密码（--prepare 设定）")
        parser.add_argument("--prepare", action="store_true", help="创建压测单位 rush-NNN 和联络员账号后退出")
        parser.add_argument(
            "--force", action="store_true", help="DEBUG 关闭时仍执行 --prepare（会创建已知密码的账号）"
        )
        parser.add_argument("--reset", action="store_true", help="删除压测单位、其报告和压测账号后退出")
        parser.add_argument("--json", action="store_true", help="最后一行输出 JSON 结果")
        parser.add_argument(
            "--server-pid",
            type=int,
            help="服务主进程（如 gunicorn master）的进程号：另报压测期间服务进程每个请求用的 CPU 毫秒数",
        )
        parser.add_argument(
            "--reuse-tokens",
            action="store_true",
            help="压测账号已有未过期令牌时直接使用（从数据库读取），不再逐个登录；其余账号照常登录",
        )

    def handle(self, *args, **o):
        if not 1 <= o["n"] <= MAX_PEOPLE:
            raise CommandError(f"--n 应在 1 到 {MAX_PEOPLE} 之间。")
        if not 1 <= o["reports"] <= 29:
            raise CommandError("--reports 应在 1 到 29 之间。")
        if o["reset"]:
            units, users = reset()
            self.stdout.write(f"已删除 {units} 个压测单位（含其报告）和 {users} 个压测账号。")
            return
        if o["prepare"]:
            if not settings.DEBUG and not o["force"]:
                raise CommandError(
                    "DEBUG 已关闭：为避免生产环境出现已知密码的账号，--prepare 拒绝运行。确需运行请加 --force。"
                )
            period, count = prepare(n=o["n"], reports=o["reports"], password=o["password"])
            self.stdout.write(
                f"已准备 {count} 个压测单位及联络员账号（{PREFIX}001…，密码见 --password），"
                f"报送期：{period.label}（开放）。"
            )
            return
        self.rush(o)

    # ------------------------------------------------------------------------------------------- the run

    def rush(self, o) -> None:
        base = loopback_url(o["url"])
        period = open_period()
        people = liaisons(n=o["n"], reports=o["reports"])
        cleared = clear_reports(period)
        self.stdout.write(
            f"{len(people)} 个联络员，每人 {o['reports']} 份报告，报送期 {period.label}；"
            f"已清除上次压测的报告 {cleared} 份。服务：{o['url']}"
        )
        started = time.perf_counter()
        if o["reuse_tokens"]:
            reuse_tokens(people)
        asyncio.run(
            sign_in(base, [p for p in people if not p.token], password=o["password"], timeout=o["timeout"])
        )
        self.stdout.write(f"登录（获取令牌）用时 {time.perf_counter() - started:.1f} 秒（不计入压测）。")

        run = timezone.now().strftime("%H%M%S")
        tallies = [Tally() for _ in people]
        cpu = process_tree_cpu(o["server_pid"]) if o["server_pid"] else 0.0
        started = time.perf_counter()
        asyncio.run(
            _rush(
                base,
                people,
                tallies,
                period_id=period.pk,
                timeout=o["timeout"],
                think=o["think_ms"] / 1000,
                deadline=time.monotonic() + o["max_seconds"],
                run=run,
            )
        )
        wall = time.perf_counter() - started
        result = self.report(o["n"], tallies, wall)
        if o["server_pid"]:
            cpu = process_tree_cpu(o["server_pid"]) - cpu
            count = sum(len(t.seconds[step]) for t in tallies for step in STEPS)
            self.stdout.write(
                f"服务进程（{o['server_pid']} 及其子进程）压测期间用 CPU {cpu:.1f} 秒，"
                f"每个请求 {cpu / max(count, 1) * 1000:.1f} 毫秒（不含数据库进程）。"
            )

        sent = [s for t in tallies for s in t.sent]
        lost = find_lost(sent, period_id=period.pk)
        for line in lost[:10]:
            self.stdout.write(f"  丢失：{line}")
        self.stdout.write(
            f"数据库核对：客户端报送成功 {len(sent)} 份，库中一致 {len(sent) - len(lost)} 份，丢失 {len(lost)} 份。"
        )
        result["lost"] = len(lost)
        if o["json"]:
            self.stdout.write(json.dumps(result))
        if lost:
            raise CommandError(f"有 {len(lost)} 份已报送的报告在数据库中丢失或与报送内容不符。")

    def report(self, n: int, tallies: list[Tally], wall: float) -> dict:
        everything = [s for t in tallies for step in STEPS for s in t.seconds[step]]
        statuses = sum((t.statuses for t in tallies), Counter())
        errors = [e for t in tallies for e in t.errors]
        rps = len(everything) / wall if wall else 0.0
        self.stdout.write(f"请求 {len(everything)} 个，用时 {wall:.1f} 秒，吞吐量 {rps:.1f} 请求/秒。")
        self.stdout.write(f"  {'步骤':<8}{'次数':>7}{'p50 毫秒':>11}{'p95 毫秒':>11}{'p99 毫秒':>11}")
        for label, values in [
            *((step, [s for t in tallies for s in t.seconds[step]]) for step in STEPS),
            ("全部", everything),
        ]:
            self.stdout.write(
                f"  {label:<8}{len(values):>7}{percentile(values, 50) * 1000:>11.0f}"
                f"{percentile(values, 95) * 1000:>11.0f}{percentile(values, 99) * 1000:>11.0f}"
            )
        counts = "，".join(f"{step} {status}: {count}" for (step, status), count in sorted(statuses.items()))
        self.stdout.write(f"响应状态：{counts or '无'}")
        self.stdout.write(f"错误 {len(errors)} 个" + (f"，例如：{errors[0]}" if errors else "。"))
        return {
            "n": n,
            "rps": round(rps, 1),
            "p50_ms": round(percentile(everything, 50) * 1000, 1),
            "p95_ms": round(percentile(everything, 95) * 1000, 1),
            "errors": len(errors),
            "lost": 0,
        }


# ------------------------------------------------------------------------------------- one liaison's loop


def _texts(person: Liaison, number: int, run: str, draft: bool) -> dict[str, str]:
    stage = "初稿" if draft else "修改稿"
    mark = f"〔压测{run}·{person.username}·任务{number}·{stage}〕"
    return {
        "progress": (
            f"{person.unit_name}围绕任务{number}，本季度组织开展民族团结进步主题宣传教育活动，"
            "深入社区、学校、企业宣讲党的民族政策，举办“石榴籽”主题活动，覆盖各族干部群众，"
            f"推动各族群众交往交流交融。{mark}"
        ),
        "problems": f"基层活动形式仍较单一，部分宣传阵地作用发挥不充分。{mark}",
        "next_steps": f"下季度将结合重要节点开展集中宣传，完善台账和佐证材料。{mark}",
    }


def _values(metric_ids: list[int], seed: int) -> dict[int, int]:
    return {m: (seed * 37 + m * 11) % 90 + 1 for m in metric_ids}


def _shows(answer_body, texts: dict[str, str], values: dict[int, int]) -> bool:
    """Does the answer show what was written: the texts and every value sent?"""
    if not isinstance(answer_body, dict):
        return False
    if any(answer_body.get(k) != v for k, v in texts.items()):
        return False
    shown = {m.get("metric"): m.get("value") for m in answer_body.get("metrics") or [] if isinstance(m, dict)}
    return all(m in shown and Decimal(str(shown[m])) == v for m, v in values.items())


async def _rush(base, people: list[Liaison], tallies: list[Tally], **kwargs) -> None:
    """Every liaison at once, in one thread (asyncio): hundreds of threads would cost the client more CPU
    than the server uses, on the same machine."""
    await asyncio.gather(
        *(_liaison(base, person, tally, **kwargs) for person, tally in zip(people, tallies, strict=True))
    )


async def _liaison(base, person: Liaison, tally: Tally, *, period_id, timeout, think, deadline, run) -> None:
    """One liaison's closed loop: for each task, list → create → change with the version → submit."""
    client = JsonClient(base, timeout=timeout, token=person.token)

    async def step(name: str, method: str, path: str, body: dict | None = None):
        if think:
            await asyncio.sleep(think)
        answer = await client.request(method, path, body)
        tally.seconds[name].append(answer.seconds)
        tally.statuses[(name, answer.status)] += 1
        if answer.status != EXPECTED[name]:
            detail = answer.error or (answer.body if isinstance(answer.body, str | dict) else "")
            tally.errors.append(f"{person.username} {name} → {answer.status or '无响应'} {str(detail)[:200]}")
            return None
        return answer.body

    def metrics(values: dict[int, int]) -> list[dict]:
        return [{"metric": m, "value": v} for m, v in values.items()]

    try:
        for k, (task_id, number, metric_ids) in enumerate(person.tasks):
            if time.monotonic() > deadline:
                break
            if (
                await step("list", "GET", f"/api/v1/reports/?period={period_id}&unit={person.unit_id}")
                is None
            ):
                continue
            texts, values = _texts(person, number, run, True), _values(metric_ids, k)
            body = {
                "period": period_id,
                "unit": person.unit_id,
                "task": task_id,
                **texts,
                "metrics": metrics(values),
            }
            created = await step("create", "POST", "/api/v1/reports/", body)
            if created is None or not _answer_shows(tally, person, "create", created, texts, values):
                continue
            texts, values = _texts(person, number, run, False), _values(metric_ids, k + 7)
            body = {"version": created["version"], **texts, "metrics": metrics(values)}
            patched = await step("patch", "PATCH", f"/api/v1/reports/{created['id']}/", body)
            if patched is None or not _answer_shows(tally, person, "patch", patched, texts, values):
                continue
            body = {"version": patched["version"]}
            submitted = await step("submit", "POST", f"/api/v1/reports/{created['id']}/submit/", body)
            if submitted is None:
                continue
            if submitted.get("state") not in SUBMITTED:
                tally.errors.append(f"{person.username} submit → 状态为 {submitted.get('state')}")
                continue
            tally.sent.append(
                SentReport(
                    report_id=created["id"],
                    unit_id=person.unit_id,
                    task_id=task_id,
                    texts=texts,
                    values={m: Decimal(v) for m, v in values.items()},
                )
            )
    except Exception as error:  # noqa: BLE001 - a liaison's failure is counted, never silent
        tally.errors.append(f"{person.username}：{type(error).__name__}: {error}")


def _answer_shows(tally: Tally, person: Liaison, name: str, body, texts, values) -> bool:
    """True when the answer shows what was written; otherwise an error is recorded and False returned."""
    if _shows(body, texts, values):
        return True
    tally.errors.append(f"{person.username} {name}：返回的内容与写入的不一致")
    return False


# ------------------------------------------------------------------------------------- the database side


def open_period() -> ReportingPeriod:
    campaign = Campaign.current()
    period = ReportingPeriod.current_open(campaign) if campaign else None
    if period is None:
        raise CommandError("没有开放的报告期：请先运行 benchmark_deadline --prepare。")
    return period


def liaisons(*, n: int, reports: int) -> list[Liaison]:
    """The first ``n`` rush liaisons with their unit and the first ``reports`` tasks it carries (fixed queries)."""
    memberships = list(
        Membership.objects.filter(
            user__username__startswith=PREFIX,
            unit__code__startswith=PREFIX,
            role=Membership.Role.LIAISON,
            is_active=True,
            unit__is_active=True,
            user__is_active=True,
        )
        .select_related("user", "unit")
        .order_by("unit__code")[:n]
    )
    if len(memberships) < n:
        raise CommandError(
            f"只有 {len(memberships)} 个压测联络员，少于 --n {n}：请先运行 benchmark_deadline --prepare --n {n}。"
        )
    carried: dict[int, list[int]] = {}
    for unit_id, task_id in (
        Responsibility.objects.filter(unit__in=[m.unit_id for m in memberships])
        .order_by("task__number")
        .values_list("unit_id", "task_id")
    ):
        carried.setdefault(unit_id, []).append(task_id)
    tasks = Task.objects.filter(pk__in={t for ts in carried.values() for t in ts}).prefetch_related("targets")
    metrics = {task.pk: (task.number, [m.pk for m in report_metrics(task=task)]) for task in tasks}
    people = []
    for m in memberships:
        mine = [(t, *metrics[t]) for t in carried.get(m.unit_id, [])][:reports]
        if not mine:
            raise CommandError(f"压测单位 {m.unit.code} 没有承担任务：请重新运行 --prepare。")
        people.append(Liaison(username=m.user.username, unit_id=m.unit_id, unit_name=m.unit.name, tasks=mine))
    return people


def clear_reports(period: ReportingPeriod) -> int:
    """Delete the rush units' reports of ``period`` (with their values, events and files' rows), and recount
    those units in the figures' read model, as every write that bypasses the services must."""
    units = list(Unit.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    with transaction.atomic():
        _, deleted = ProgressReport.objects.filter(period=period, unit__in=units).delete()
        _recount_figures([(period.pk, unit_id) for unit_id in units])
    return deleted.get(ProgressReport._meta.label, 0)


def _recount_figures(pairs: list[tuple[int, int]]) -> None:
    try:
        from reports import figures  # the read model (issue 15), when present
    except ImportError:
        return
    figures.refresh(pairs=pairs)


def reuse_tokens(people: list[Liaison]) -> None:
    """Each liaison's unexpired API token, read from the database (``--reuse-tokens``)."""
    tokens = Token.objects.filter(user__username__in=[p.username for p in people]).select_related("user")
    by_name = {t.user.username: t.key for t in tokens if not token_is_expired(t)}
    for person in people:
        person.token = by_name.get(person.username, "")


async def sign_in(base, people: list[Liaison], *, password: str, timeout: float) -> None:
    """Each liaison's API token from ``POST /api/v1/auth/token/``, 4 at a time; stops at the first refusal,
    so a wrong password never walks the accounts into django-axes' lockout."""
    refused: list[str] = []
    gate = asyncio.Semaphore(4)

    async def one(person: Liaison) -> None:
        async with gate:
            if refused:
                return
            body = {"username": person.username, "password": password}
            answer = await JsonClient(base, timeout=timeout).request("POST", "/api/v1/auth/token/", body)
        if answer.status != 200 or not isinstance(answer.body, dict) or "token" not in answer.body:
            refused.append(
                f"{person.username} 获取令牌失败：{answer.status or answer.error} {str(answer.body)[:200]}"
            )
            return
        person.token = answer.body["token"]

    await asyncio.gather(*(one(p) for p in people))
    if refused:
        raise CommandError(refused[0] + "（已停止登录其余账号，以免触发登录锁定）")


def find_lost(sent: list[SentReport], *, period_id: int) -> list[str]:
    """Each report the clients submitted that the database does not hold as they wrote it (2 queries)."""
    if not sent:
        return []
    ids = [s.report_id for s in sent]
    rows = {
        r["pk"]: r
        for r in ProgressReport.objects.filter(pk__in=ids).values(
            "pk", "period_id", "unit_id", "task_id", "state", "progress", "problems", "next_steps"
        )
    }
    stored: dict[int, dict[int, Decimal]] = {}
    for report_id, metric_id, value in MetricValue.objects.filter(report_id__in=ids).values_list(
        "report_id", "metric_id", "value"
    ):
        stored.setdefault(report_id, {})[metric_id] = value
    lost = []
    for s in sent:
        row = rows.get(s.report_id)
        if row is None:
            lost.append(f"报告 {s.report_id} 不存在")
        elif (row["period_id"], row["unit_id"], row["task_id"]) != (period_id, s.unit_id, s.task_id):
            lost.append(f"报告 {s.report_id} 的报告期、单位或任务不符")
        elif row["state"] not in SUBMITTED:
            lost.append(f"报告 {s.report_id} 状态为 {row['state']}，未报送")
        elif any(row[k] != v for k, v in s.texts.items()):
            lost.append(f"报告 {s.report_id} 的文字与报送的不一致")
        elif stored.get(s.report_id, {}) != s.values:
            lost.append(f"报告 {s.report_id} 的指标数值与报送的不一致")
    return lost


@transaction.atomic
def prepare(*, n: int, reports: int, password: str) -> tuple[ReportingPeriod, int]:
    """Units ``rush-001``… carrying ``reports`` tasks each, and their liaison accounts (idempotent)."""
    campaign = Campaign.current()
    if campaign is None:
        raise CommandError("没有可用的创建活动：请先运行 setup_demo（或 loaddata 方案）。")
    period = period_ensure_current(campaign=campaign)
    tasks = list(Task.objects.filter(campaign=campaign).order_by("number").values_list("pk", flat=True))
    if not tasks:
        raise CommandError("当前创建活动没有任务。")
    codes = [f"{PREFIX}{i:03d}" for i in range(1, n + 1)]
    existing = set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
    last = Unit.objects.order_by("-order").values_list("order", flat=True).first() or 0
    Unit.objects.bulk_create(
        [
            Unit(
                code=code,
                name=f"压测单位{code[len(PREFIX) :]}",
                kind=Unit.Kind.DEPARTMENT,
                order=last + 10 * (i + 1),
            )
            for i, code in enumerate(c for c in codes if c not in existing)
        ]
    )
    units = list(Unit.objects.filter(code__in=codes).order_by("code"))
    Unit.objects.filter(pk__in=[u.pk for u in units]).update(is_active=True)
    Responsibility.objects.bulk_create(
        [
            Responsibility(
                task_id=tasks[(i * 7 + k) % len(tasks)], unit=unit, role=Responsibility.Role.CO, order=100 + k
            )
            for i, unit in enumerate(units)
            for k in range(min(reports, len(tasks)))
        ],
        ignore_conflicts=True,
    )
    User = get_user_model()
    encoded = make_password(password)  # one hash for all: the same password, hashed once
    have = set(User.objects.filter(username__in=codes).values_list("username", flat=True))
    others = have - set(
        _rush_accounts(User.objects.filter(username__in=codes)).values_list("username", flat=True)
    )
    if others:
        raise CommandError(f"账号 {'、'.join(sorted(others))} 已存在且不是压测账号，--prepare 不会修改它。")
    User.objects.bulk_create(
        [
            User(username=code, password=encoded, last_name="压测", first_name=code)
            for code in codes
            if code not in have
        ]
    )
    users = {u.username: u for u in User.objects.filter(username__in=codes)}
    User.objects.filter(pk__in=[u.pk for u in users.values()]).update(password=encoded, is_active=True)
    Membership.objects.bulk_create(
        [Membership(user=users[u.code], unit=u, role=Membership.Role.LIAISON) for u in units],
        ignore_conflicts=True,
    )
    Membership.objects.filter(unit__in=units, role=Membership.Role.LIAISON).update(is_active=True)
    Token.objects.filter(
        user__in=users.values()
    ).delete()  # a new password: the old tokens go, as on a change
    clear_reports(period)
    return period, len(units)


def _rush_accounts(users):
    """Of ``users``, those that are the benchmark's own: named rush-…, liaison of rush units only, no other
    role. A person who happens to be called rush-… is never touched."""
    return users.filter(username__startswith=PREFIX, is_staff=False, is_superuser=False).exclude(
        Q(memberships__in=Membership.objects.exclude(unit__code__startswith=PREFIX))
        | Q(campaign_roles__isnull=False)
    )


@transaction.atomic
def reset() -> tuple[int, int]:
    units = Unit.objects.filter(code__startswith=PREFIX)
    accounts = list(
        _rush_accounts(get_user_model().objects.filter(memberships__unit__in=units)).values_list(
            "pk", flat=True
        )
    )
    ProgressReport.objects.filter(unit__in=units).delete()
    Responsibility.objects.filter(unit__in=units).delete()
    Membership.objects.filter(unit__in=units).delete()
    count = units.count()
    units.delete()
    get_user_model().objects.filter(pk__in=accounts).delete()
    return count, len(set(accounts))
