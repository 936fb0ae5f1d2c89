"""Time and peak memory of the compiled documents, each beside a bare library baseline from the same run.

    manage.py benchmark_compilations                      # both benchmarks, throwaway SQLite databases
    manage.py benchmark_compilations --database-url postgres://postgres@127.0.0.1:5432/bench_empty
    manage.py benchmark_compilations --only pdf --reports 360 --chars 500

1. The city quarterly summary PDF (~360 reports of ~500 Chinese characters) — goal under 12 s and 1 GB —
   beside a bare WeasyPrint render of the same text (one <p> per report, default styles).
2. The Excel ledger at province scale (100,000 report rows) — goal under 30 s and 200 MB — beside a bare
   openpyxl write-only dump of 100,000 rows of the same shape.

Every measurement runs in its own fresh process (this command re-invoked with ``--child``), so its peak
resident memory (``ru_maxrss``) is its own; time is wall-clock around the work only, after Django is
loaded. The data goes into throwaway databases in a temporary directory (or the empty PostgreSQL database
given), never into the portal's own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command

PHRASES = [
    "深入学习贯彻习近平总书记关于加强和改进民族工作的重要思想",
    "组织开展铸牢中华民族共同体意识宣传教育活动",
    "深入社区、学校、企业开展民族团结进步政策宣讲",
    "制作宣传展板并在城市广场集中展示",
    "召开专题会议研究部署民族团结进步创建工作",
    "推动各族群众广泛交往交流交融",
    "完善民族事务治理体系和治理能力",
    "开展“石榴籽”志愿服务活动",
    "举办民族团结进步知识竞赛和文艺汇演",
    "建立健全工作台账，确保各项任务落到实处",
    "加大少数民族发展资金投入力度",
    "持续推进民族团结进步示范单位创建",
]
PROBLEMS = ["基层宣传阵地建设不够均衡", "部分单位工作进展不平衡", "宣传形式较为单一", "专职人员力量不足"]
NEXT = ["继续加强宣传教育", "推动示范创建提质增效", "加强督促检查和考核评估", "总结推广典型经验做法"]
PDF_GOAL = (12.0, 1024.0)
XLSX_GOAL = (30.0, 200.0)


def chinese_text(rng: random.Random, length: int, pool=PHRASES) -> str:
    parts, total = [], 0
    while total < length:
        phrase = rng.choice(pool) + ("，" if rng.random() < 0.6 else "。")
        parts.append(phrase)
        total += len(phrase)
    text = "".join(parts)[: length - 1]
    return text.rstrip("，。") + "。"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ------------------------------------------------------------------------------------- data setup


def setup_city(*, reports: int, chars: int, seed: int) -> dict:
    """The Pingliang plan and one closed quarter with a report per responsibility (up to ``reports``)."""
    from campaign.models import ReportingPeriod
    from reports.models import MetricValue, ProgressReport
    from tasks.models import Metric, Responsibility

    call_command("loaddata", str(Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"), verbosity=0)
    rng = random.Random(seed)
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    ReportingPeriod.objects.filter(pk=period.pk).update(state=ReportingPeriod.State.CLOSED)
    resps = list(
        Responsibility.objects.select_related("unit", "task").order_by("task__number", "order")[:reports]
    )
    when = _aware(period.due_on - dt.timedelta(days=2))
    objs = [
        ProgressReport(
            period=period,
            unit=r.unit,
            task=r.task,
            state=rng.choice([ProgressReport.State.APPROVED, ProgressReport.State.SUBMITTED]),
            progress_status=rng.choice(["on_track", "on_track", "behind", "done"]),
            **_texts(rng, chars),
            first_submitted_at=when,
            submitted_at=when,
            reviewed_at=when + dt.timedelta(days=1),
        )
        for r in resps
    ]
    ProgressReport.objects.bulk_create(objs, batch_size=1000)
    metrics = list(Metric.objects.filter(is_common=True))
    MetricValue.objects.bulk_create(
        [
            MetricValue(report=report, metric=m, value=Decimal(rng.randint(1, 500)))
            for report in ProgressReport.objects.filter(period=period)
            for m in rng.sample(metrics, 3)
        ],
        batch_size=2000,
    )
    return {"period": period.pk, "reports": len(objs)}


def setup_province(*, rows: int, chars: int, seed: int) -> dict:
    """The plan plus enough extra county-level units (each carrying all 29 tasks) for ``rows`` reports
    over the plan's 10 quarters, bulk-inserted."""
    from campaign.models import ReportingPeriod
    from reports.models import MetricValue, ProgressReport
    from tasks.models import Metric, Responsibility, Task
    from units.models import Unit

    call_command("loaddata", str(Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"), verbosity=0)
    rng = random.Random(seed)
    periods = list(ReportingPeriod.objects.order_by("year", "quarter"))
    ReportingPeriod.objects.update(state=ReportingPeriod.State.CLOSED)
    tasks = list(Task.objects.order_by("number"))
    base = Responsibility.objects.count()
    extra_units = max(0, -(-(rows // len(periods) - base) // len(tasks)))
    units = Unit.objects.bulk_create(
        [
            Unit(code=f"bench-{i:04d}", name=f"基准测试县{i:04d}", kind=Unit.Kind.COUNTY, order=10000 + i)
            for i in range(extra_units)
        ]
    )
    units = list(Unit.objects.filter(code__startswith="bench-").order_by("order"))
    Responsibility.objects.bulk_create(
        [Responsibility(task=t, unit=u, role="co", order=100, by_rule=True) for u in units for t in tasks],
        batch_size=5000,
    )
    pairs = list(Responsibility.objects.values_list("unit_id", "task_id"))
    metrics = list(Metric.objects.filter(is_common=True))
    texts = [_texts(rng, chars) for _ in range(500)]  # a pool: generating 100,000 texts is not the point
    made = 0
    for period in periods:
        when = _aware(period.due_on - dt.timedelta(days=1))
        batch = [
            ProgressReport(
                period=period,
                unit_id=unit_id,
                task_id=task_id,
                state=rng.choice(["approved", "approved", "submitted", "returned", "draft"]),
                progress_status=rng.choice(["on_track", "behind", "done", "not_started"]),
                **texts[rng.randrange(len(texts))],
                first_submitted_at=when,
                submitted_at=when,
                reviewed_at=when + dt.timedelta(days=2),
            )
            for unit_id, task_id in pairs
        ]
        ProgressReport.objects.bulk_create(batch, batch_size=2000)
        made += len(batch)
        ids = ProgressReport.objects.filter(period=period).values_list("pk", flat=True)
        MetricValue.objects.bulk_create(
            [
                MetricValue(report_id=pk, metric=m, value=Decimal(rng.randint(1, 300)))
                for pk in ids
                for m in rng.sample(metrics, 3)
            ],
            batch_size=5000,
        )
    return {"reports": made, "units": Unit.objects.count()}


def _texts(rng: random.Random, chars: int) -> dict:
    """~``chars`` characters per report: 80% progress, 10% problems, 10% next steps."""
    return {
        "progress": chinese_text(rng, int(chars * 0.8)),
        "problems": chinese_text(rng, int(chars * 0.1), PROBLEMS),
        "next_steps": chinese_text(rng, int(chars * 0.1), NEXT),
    }


def _aware(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


# ----------------------------------------------------------------------------------- measurements


def run_compilation(**fields) -> dict:
    from reports.compilations.build import compilation_run
    from reports.compilations.models import Compilation

    compilation = Compilation.objects.create(**fields)
    started = time.perf_counter()
    outcome = compilation_run(compilation_id=compilation.pk)
    seconds = time.perf_counter() - started
    compilation.refresh_from_db()
    if outcome != "done":
        raise CommandError(f"汇编失败：{compilation.error}")
    extra = {}
    if compilation.format == "pdf":
        from pypdf import PdfReader

        extra["pages"] = len(PdfReader(compilation.file.path).pages)
    return {"seconds": seconds, "peak_mb": peak_mb(), "bytes": compilation.size, **extra}


def measure_pdf() -> dict:
    from campaign.models import ReportingPeriod
    from reports.compilations.models import Compilation

    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    return run_compilation(
        kind=Compilation.Kind.QUARTERLY, format="pdf", period=period, campaign=period.campaign
    )


def measure_bare_pdf(workdir: Path) -> dict:
    """The same report texts, one paragraph each, through WeasyPrint with its default styles."""
    from django.utils.html import escape
    from weasyprint import HTML

    from reports.models import ProgressReport

    texts = [
        escape(p + pr + n)
        for p, pr, n in ProgressReport.objects.filter(period__year=2024, period__quarter=3).values_list(
            "progress", "problems", "next_steps"
        )
    ]
    html = '<html lang="zh-CN"><body>' + "".join(f"<p>{t}</p>" for t in texts) + "</body></html>"
    started = time.perf_counter()
    document = HTML(string=html).render()
    document.write_pdf(workdir / "bare.pdf")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "bytes": (workdir / "bare.pdf").stat().st_size,
        "pages": len(document.pages),
        "chars": sum(len(t) for t in texts),
    }


def measure_xlsx() -> dict:
    from campaign.models import Campaign
    from reports.compilations.models import Compilation

    return run_compilation(kind=Compilation.Kind.LEDGER, format="xlsx", campaign=Campaign.current())


def measure_bare_xlsx(workdir: Path, rows: int, chars: int) -> dict:
    """``rows`` rows of the ledger's shape (its 18 columns: nine texts, seven metric columns of which three
    are filled, two dates; the same text lengths) appended to a write-only sheet, nothing else."""
    from openpyxl import Workbook

    rng = random.Random(7)
    texts = [_texts(rng, chars) for _ in range(500)]
    when = dt.datetime(2024, 10, 8, 10)
    header = ["报告期", "单位", "任务编号", "任务", "状态", "推进情况", "工作进展", "存在问题", "下一步计划"]
    header += [f"指标{i}" for i in range(7)] + ["报送时间", "审核时间"]
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    sheet.append(header)
    for i in range(rows):
        t = texts[i % len(texts)]
        sheet.append(
            ["2024年第三季度", f"基准测试县{i % 1000:04d}", i % 29 + 1, "弘扬中华民族伟大精神", "已通过", "按计划推进",
             t["progress"], t["problems"], t["next_steps"], i % 300, None, i % 40, None, 5, None, None, when, when]
        )  # fmt: skip
    workbook.save(workdir / "bare.xlsx")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "bytes": (workdir / "bare.xlsx").stat().st_size}


# ------------------------------------------------------------------------------------------ command


class Command(BaseCommand):
    help = "汇编性能测试：城市季度汇总 PDF 与省级台账 Excel 的用时和峰值内存（与裸库基线同次测量）。"

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=["pdf", "xlsx"], help="只测其中一项")
        parser.add_argument("--reports", type=int, default=360, help="季度汇总的报告数，默认 360")
        parser.add_argument("--chars", type=int, default=500, help="每份报告的汉字数，默认 500")
        parser.add_argument("--ledger-rows", type=int, default=100_000, help="台账行数，默认 100000")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument(
            "--database-url",
            default="",
            help="用一个 PostgreSQL 测试库代替临时 SQLite；库名须含 bench，其中数据会被清空重建",
        )
        parser.add_argument("--keep", action="store_true", help="保留临时目录（数据库与生成的文件）")
        parser.add_argument("--child", help=argparse_hidden())
        parser.add_argument("--workdir", help=argparse_hidden())

    def handle(self, *args, **o):
        if o["child"]:
            return self.child(o)
        workdir = Path(tempfile.mkdtemp(prefix="bench-compilations-"))
        results = {}
        try:
            if o["only"] in (None, "pdf"):
                city = self.database(workdir / "city", o)
                info = self.spawn("setup-city", city, o)
                self.stdout.write(f"城市数据：{info['reports']} 份报告，每份约 {o['chars']} 字")
                results["pdf"] = self.spawn("pdf", city, o)
                results["bare-pdf"] = self.spawn("bare-pdf", city, o)
            if o["only"] in (None, "xlsx"):
                province = self.database(workdir / "province", o)
                started = time.perf_counter()
                info = self.spawn("setup-province", province, o)
                self.stdout.write(
                    f"省级数据：{info['reports']} 份报告、{info['units']} 个单位（生成用时 {time.perf_counter() - started:.0f} 秒）"
                )
                results["xlsx"] = self.spawn("xlsx", province, o)
                results["bare-xlsx"] = self.spawn("bare-xlsx", province, o)
        finally:
            if o["keep"]:
                self.stdout.write(f"临时目录：{workdir}")
            else:
                import shutil

                shutil.rmtree(workdir, ignore_errors=True)
        self.report(results, o)

    # -- parent side

    def database(self, directory: Path, o) -> dict:
        directory.mkdir(parents=True, exist_ok=True)
        env = {
            "VAR_DIR": str(directory),
            "MEDIA_ROOT": str(directory / "media"),
            "DATABASE_URL": o["database_url"],
        }
        if o["database_url"]:
            if "bench" not in o["database_url"].rsplit("/", 1)[-1]:
                raise CommandError("--database-url 的库名须含 bench（其中数据会被清空）。")
            self.spawn("flush", env, o)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=os.environ | env,
            check=True,
        )
        return env

    def spawn(self, what: str, env: dict, o) -> dict:
        args = [
            sys.executable, "manage.py", "benchmark_compilations", "--child", what,
            "--workdir", env["VAR_DIR"], "--reports", str(o["reports"]), "--chars", str(o["chars"]),
            "--ledger-rows", str(o["ledger_rows"]), "--seed", str(o["seed"]),
        ]  # fmt: skip
        proc = subprocess.run(
            args,
            cwd=settings.BASE_DIR,
            env=os.environ | env | {"LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if "Error" in line or "失败" in line]
            raise CommandError(f"{what} 失败：\n" + "\n".join(errors[-10:]))
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def report(self, results: dict, o) -> None:
        w = self.stdout.write
        w("")
        w(f"{'项目':<34}{'用时(秒)':>10}{'峰值内存(MB)':>14}{'文件(MB)':>10}  目标")
        rows = [
            ("pdf", f"季度汇总 PDF（{o['reports']}份×{o['chars']}字）", "< 12 秒、< 1 GB", PDF_GOAL),
            ("bare-pdf", "  裸 WeasyPrint 同量文字", "基线", None),
            ("xlsx", f"台账 Excel（{o['ledger_rows']}行）", "< 30 秒、< 200 MB", XLSX_GOAL),
            ("bare-xlsx", f"  裸 openpyxl 只写模式 {o['ledger_rows']}行", "基线", None),
        ]
        for key, label, goal_text, goal in rows:
            if key not in results:
                continue
            r = results[key]
            verdict = ""
            if goal:
                verdict = " ✓" if r["seconds"] < goal[0] and r["peak_mb"] < goal[1] else " ✗ 未达标"
            extra = f"，{r['pages']}页" if "pages" in r else ""
            w(
                f"{label:<34}{r['seconds']:>10.1f}{r['peak_mb']:>14.0f}{r['bytes'] / 1e6:>10.1f}  {goal_text}{verdict}{extra}"
            )
        self.stdout.write(json.dumps(results, ensure_ascii=False))

    # -- child side

    def child(self, o) -> None:
        workdir = Path(o["workdir"])
        what = o["child"]
        if what == "flush":
            call_command("migrate", "--noinput", verbosity=0)
            call_command("flush", "--noinput", verbosity=0)
            result = {}
        elif what == "setup-city":
            result = setup_city(reports=o["reports"], chars=o["chars"], seed=o["seed"])
        elif what == "setup-province":
            result = setup_province(rows=o["ledger_rows"], chars=o["chars"], seed=o["seed"])
        elif what == "pdf":
            result = measure_pdf()
        elif what == "bare-pdf":
            result = measure_bare_pdf(workdir)
        elif what == "xlsx":
            result = measure_xlsx()
        elif what == "bare-xlsx":
            result = measure_bare_xlsx(workdir, o["ledger_rows"], o["chars"])
        else:
            raise CommandError(f"unknown child {what}")
        self.stdout.write(json.dumps(result, ensure_ascii=False))


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS
