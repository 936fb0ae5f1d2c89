"""Time and peak memory of the compiled documents, each beside an honest bare-library baseline, in one run.

    manage.py benchmark_compilations --json               # everything; one JSON object on the last line
    manage.py benchmark_compilations --database-url postgres://postgres@127.0.0.1:5432/bench_h2 --reuse
    manage.py benchmark_compilations --only pdf --reports 360 --chars 500 --profile

1. **City quarterly PDF** (``pdf``): the quarterly summary with its appendix (every unit's full text) of one
   closed quarter with ``--reports`` reports of ``--chars`` distinct Chinese characters, beside a bare
   WeasyPrint render of the same report texts (one paragraph each) in the product's own page CSS
   (``gongwen.css`` with the same fonts). Ours is timed as the job runs it; its time is split into data and
   HTML (queries, template), WeasyPrint layout and PDF writing. Always a throwaway SQLite database (the
   ratio does not depend on it). Goal: ≤ 1.3× the bare render.
2. **Province ledger** (``ledger``): ``generate_scale_data`` (``--units`` units, ``--quarters`` quarters,
   ~98,000 reports, the dashboards' read model filled), then every report is given its own text (no pool:
   a shared-strings table must hold them all), then ANALYZE. Ours is the Excel ledger compilation as the
   job runs it (all four sheets). The same rows (``data.ledger_rows``, read before the clock starts) are
   written by bare openpyxl write-only and by bare xlsxwriter ``constant_memory``: the writers alone.
   Reading and building the rows without writing them is timed on its own. Goals: ≤ 1.0× bare openpyxl,
   ≤ 1.15× bare xlsxwriter.
3. **Province quarterly PDF** (``province_pdf``): the quarterly summary with its appendix of the province
   data's last quarter. Goal: ≤ 30 s and ≤ 400 MB.

Every measurement runs in its own fresh process (this command re-invoked with ``--child``), so its peak
resident memory (``ru_maxrss``) is its own; time is wall-clock around the work only, after Django is loaded
and warmed up as a worker would be (libraries imported, fonts resolved, templates compiled: what the bare
baselines also do before their clock starts). The processes' CPU time is printed beside it: on a shared
machine the wall-clock ratio swings with the load, the CPU ratio less. The data goes into throwaway
databases in a temporary directory, or the PostgreSQL database given (its name must contain "bench"; it is
emptied first, unless ``--reuse`` finds the province data of an earlier run in it), never into the portal's
own. ``--profile`` runs each of ours once more under cProfile and prints where the time went.
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
    "组织党员干部赴革命老区开展现场教学",
    "在重要节庆期间开展各族群众共庆共享活动",
    "选树宣传一批民族团结进步模范集体和个人",
    "利用融媒体平台推出系列宣传报道",
]
PROBLEMS = ["基层宣传阵地建设不够均衡", "部分单位工作进展不平衡", "宣传形式较为单一", "专职人员力量不足"]
NEXT = ["继续加强宣传教育", "推动示范创建提质增效", "加强督促检查和考核评估", "总结推广典型经验做法"]
PLACES = [
    "崆峒区",
    "华亭市",
    "泾川县",
    "灵台县",
    "崇信县",
    "庄浪县",
    "静宁县",
    "市直机关",
    "城区社区",
    "农村学校",
]
GOALS = {
    "pdf": 1.3,  # × bare WeasyPrint, same texts, same page CSS
    "ledger_openpyxl": 1.0,
    "ledger_xlsxwriter": 1.15,
    "province_pdf": (30.0, 400.0),  # seconds, MB
}


def chinese_text(rng: random.Random, length: int, pool=PHRASES) -> str:
    """About ``length`` characters of report-like Chinese; with a number and a place in most sentences, so
    two texts of some length are never the same."""
    parts, total = [], 0
    while total < length:
        phrase = rng.choice(pool)
        if rng.random() < 0.5:
            phrase = f"{rng.choice(PLACES)}{phrase}{rng.randint(2, 980)}场次"
        phrase += "，" if rng.random() < 0.6 else "。"
        parts.append(phrase)
        total += len(phrase)
    text = "".join(parts)[: length - 1]
    return text.rstrip("，。") + "。"


def texts(rng: random.Random, chars: int) -> dict:
    """~``chars`` characters per report: 80% progress, 10% problems, 10% next steps."""
    return {
        "progress": chinese_text(rng, int(chars * 0.8)),
        "problems": chinese_text(rng, max(int(chars * 0.1), 12), PROBLEMS + PHRASES[:4]),
        "next_steps": chinese_text(rng, max(int(chars * 0.1), 12), NEXT + PHRASES[4:8]),
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def loadavg() -> list[float]:
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:  # pragma: no cover - not Linux
        return []


# ------------------------------------------------------------------------------------- data setup


def analyze() -> None:
    """Fresh planner statistics after bulk inserts, as a real database would have them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def rebuild_figures() -> None:
    """Reports written with bulk_create bypass the services that keep the dashboards' read model current:
    rebuild it, so documents state the figures the reports make."""
    from django.core.management import get_commands

    if "rebuild_figures" in get_commands():
        call_command("rebuild_figures", verbosity=0, stdout=_Null())


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
            **texts(rng, chars),
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
    rebuild_figures()
    analyze()
    return {"period": period.pk, "reports": len(objs), **_distinct(ProgressReport.objects.all())}


def setup_province(*, units: int, quarters: int, chars: int, seed: int) -> dict:
    """``generate_scale_data`` at province scale, every report's text made its own, then ANALYZE."""
    from django.db import connection, transaction

    from campaign.models import ReportingPeriod
    from reports.models import ProgressReport
    from units.models import Unit

    call_command("loaddata", str(Path(settings.BASE_DIR) / "fixtures" / "pingliang-2023.json"), verbosity=0)
    started = time.perf_counter()
    call_command(
        "generate_scale_data", units=units, quarters=quarters, seed=seed, verbosity=0, stdout=_Null()
    )
    generated = time.perf_counter() - started
    ReportingPeriod.objects.update(state=ReportingPeriod.State.CLOSED)
    # generate_scale_data draws texts from a pool of 40; a ledger whose texts repeat flatters a
    # shared-strings writer, so every report gets its own.
    rng = random.Random(seed)
    table = connection.ops.quote_name(ProgressReport._meta.db_table)
    ids = list(ProgressReport.objects.order_by("pk").values_list("pk", flat=True))
    sql = f"UPDATE {table} SET progress = %s, problems = %s, next_steps = %s WHERE id = %s"  # noqa: S608
    for start in range(0, len(ids), 5000):
        rows = []
        for pk in ids[start : start + 5000]:
            t = texts(rng, chars)
            rows.append((t["progress"], t["problems"], t["next_steps"], pk))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    analyze()
    return {
        "reports": len(ids),
        "units": Unit.objects.filter(is_active=True).count(),
        "generate_s": round(generated, 1),
        **_distinct(ProgressReport.objects.all()),
    }


def _distinct(reports) -> dict:
    return {"distinct_progress": reports.values("progress").distinct().count()}


def _aware(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


class _Null:
    def write(self, *args, **kwargs):
        pass

    def flush(self):
        pass


# ----------------------------------------------------------------------------------- measurements


class Timers:
    """Seconds spent inside chosen functions (WeasyPrint's layout and PDF writer), wrapped in place."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed)


def warm_up() -> None:
    """What a worker process has done before its first job, and the bare baselines do before their clock
    starts: libraries imported, fonts resolved, the document templates compiled."""
    import weasyprint  # noqa: F401
    import xlsxwriter  # noqa: F401
    from django.template.loader import get_template

    from campaign.models import Campaign
    from reports.compilations.render import data, docx, pdf, xlsx  # noqa: F401

    pdf.gongwen_context(Campaign.current().issuer_name)
    for name in ("summary", "ledger", "annual"):
        get_template(f"compilations/pdf/{name}.html")


def run_compilation(profile: Path | None = None, **fields) -> dict:
    """One compilation as the job runs it (claim, render, store), timed and measured."""
    import weasyprint
    import weasyprint.document

    from reports.compilations.build import compilation_run
    from reports.compilations.models import Compilation

    warm_up()
    timers = Timers()
    timers.wrap(weasyprint.HTML, "render", "layout_s")
    timers.wrap(weasyprint.document.Document, "write_pdf", "write_s")
    compilation = Compilation.objects.create(**fields)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    outcome = compilation_run(compilation_id=compilation.pk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    compilation.refresh_from_db()
    if outcome != "done":
        raise CommandError(f"汇编失败：{compilation.error}")
    out = {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "bytes": compilation.size}
    if compilation.format == "pdf":
        from pypdf import PdfReader

        out["pages"] = len(PdfReader(compilation.file.path).pages)
        out.update({k: round(v, 3) for k, v in timers.seconds.items()})
        out["data_s"] = round(seconds - sum(timers.seconds.values()), 3)
    return out


def quarter(year: int | None = None, q: int | None = None):
    from campaign.models import ReportingPeriod

    if year:
        return ReportingPeriod.objects.get(year=year, quarter=q)
    # The province data's last quarter (generate_scale_data fills up to the current one).
    from reports.models import ProgressReport

    return ReportingPeriod.objects.get(
        pk=ProgressReport.objects.order_by("-period__year", "-period__quarter").values("period")[:1]
    )


def measure_quarterly_pdf(period, profile: Path | None) -> dict:
    from reports.compilations.models import Compilation

    return run_compilation(
        profile,
        kind=Compilation.Kind.QUARTERLY,
        format="pdf",
        period=period,
        campaign=period.campaign,
        with_appendix=True,
    )


def measure_bare_pdf(workdir: Path) -> dict:
    """The same report texts, one paragraph each, in the product's page CSS (gongwen.css, same fonts)."""
    from django.template.loader import render_to_string
    from django.utils.html import escape
    from weasyprint import HTML

    from campaign.models import Campaign
    from reports.compilations.render.pdf import gongwen_context
    from reports.models import ProgressReport

    paragraphs = [
        escape(text)
        for row in ProgressReport.objects.filter(period__year=2024, period__quarter=3)
        .reported()
        .order_by("task__number", "unit__order")
        .values_list("progress", "problems", "next_steps")
        for text in row
        if text
    ]
    css = render_to_string("compilations/pdf/gongwen.css", gongwen_context(Campaign.current().issuer_name))
    html = (
        f'<html lang="zh-CN"><head><meta charset="utf-8"><style>{css}</style></head><body>'
        + "".join(f"<p>{t}</p>" for t in paragraphs)
        + "</body></html>"
    )
    started, cpu = time.perf_counter(), time.process_time()
    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    document.write_pdf(workdir / "bare.pdf")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peak_mb(),
        "bytes": (workdir / "bare.pdf").stat().st_size,
        "pages": len(document.pages),
        "chars": sum(len(t) for t in paragraphs),
    }


def ledger_scope():
    from campaign.models import Campaign
    from reports.compilations.models import Compilation
    from reports.compilations.render import data

    compilation = Compilation(kind=Compilation.Kind.LEDGER, format="xlsx", campaign=Campaign.current())
    return data.scope_for(compilation)


def measure_ledger(profile: Path | None) -> dict:
    from campaign.models import Campaign
    from reports.compilations.models import Compilation
    from reports.models import ProgressReport

    out = run_compilation(profile, kind=Compilation.Kind.LEDGER, format="xlsx", campaign=Campaign.current())
    out["rows"] = ProgressReport.objects.count()
    return out


def measure_ledger_rows() -> dict:
    """Reading and building the ledger's rows (``data.ledger_rows``), nothing written."""
    from reports.compilations.render import data

    scope = ledger_scope()
    started, cpu = time.perf_counter(), time.process_time()
    metrics = data.ledger_metrics(scope)
    count = sum(1 for _ in data.ledger_rows(scope, metrics))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "rows": count}


def _ledger_input():
    """The ledger's header and rows, read before the clock starts: a bare writer gets them for free."""
    from reports.compilations.render import data

    scope = ledger_scope()
    metrics = data.ledger_metrics(scope)
    header = [c.title for c in data.ledger_columns(metrics)]
    return header, list(data.ledger_rows(scope, metrics))


def measure_bare_openpyxl(workdir: Path) -> dict:
    from openpyxl import Workbook

    header, rows = _ledger_input()
    started, cpu = time.perf_counter(), time.process_time()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(workdir / "bare-openpyxl.xlsx")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    path = workdir / "bare-openpyxl.xlsx"
    return {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "bytes": path.stat().st_size}


def measure_bare_xlsxwriter(workdir: Path) -> dict:
    import xlsxwriter

    header, rows = _ledger_input()
    started, cpu = time.perf_counter(), time.process_time()
    workbook = xlsxwriter.Workbook(
        str(workdir / "bare-xlsxwriter.xlsx"),
        {"constant_memory": True, "default_date_format": "yyyy-mm-dd hh:mm", "tmpdir": str(workdir)},
    )
    sheet = workbook.add_worksheet("台账")
    sheet.write_row(0, 0, header)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, row)
    workbook.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    path = workdir / "bare-xlsxwriter.xlsx"
    return {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "bytes": path.stat().st_size}


def print_profile(path: Path, write, limit: int = 18) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(str(path), stream=buffer).sort_stats(order).print_stats(limit)
        lines = buffer.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        write(f"  —— 按 {order} 排序的前 {limit} 项 ——")
        for line in lines[start : start + limit + 1]:
            write("  " + line[:150])


# ------------------------------------------------------------------------------------------ command


class Command(BaseCommand):
    help = (
        "汇编性能测试：城市季度汇总 PDF、省级台账 Excel、省级季度汇总 PDF 的用时和峰值内存，"
        "与同样内容、同样页面样式的裸库基线同次测量；--json 在最后一行输出一个 JSON 对象。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=["pdf", "ledger", "province-pdf"], help="只测其中一项")
        parser.add_argument("--reports", type=int, default=360, help="城市季度汇总的报告数，默认 360")
        parser.add_argument("--chars", type=int, default=500, help="每份报告的汉字数，默认 500")
        parser.add_argument("--units", type=int, default=1000, help="省级数据的单位数，默认 1000")
        parser.add_argument("--quarters", type=int, default=10, help="省级数据的季度数，默认 10")
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument(
            "--database-url",
            default="",
            help="用一个 PostgreSQL 测试库代替临时 SQLite；库名须含 bench，其中数据会被清空重建",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="与 --database-url 同用：库中已有省级数据（上次生成的）时直接沿用，不清空重建",
        )
        parser.add_argument("--json", action="store_true", help="最后一行输出一个 JSON 对象（机器可读）")
        parser.add_argument(
            "--profile", action="store_true", help="用 cProfile 剖析我们的各项并打印耗时最多的函数"
        )
        parser.add_argument("--keep", action="store_true", help="保留临时目录（数据库与生成的文件）")
        parser.add_argument("--child", help=argparse_hidden())
        parser.add_argument("--workdir", help=argparse_hidden())

    def handle(self, *args, **o):
        if o["child"]:
            return self.child(o)
        workdir = Path(tempfile.mkdtemp(prefix="bench-compilations-"))
        self.o = o
        r: dict = {}
        load_before = loadavg()
        self.stdout.write(f"负载（开始）：{load_before}")
        try:
            if o["only"] in (None, "pdf"):
                # 360 reports: the PDF's ratio does not depend on the database, a throwaway SQLite serves.
                city = self.database(workdir / "city", o, url="")
                info = self.spawn("setup-city", city)
                self.stdout.write(
                    f"城市数据：{info['reports']} 份报告（{info['distinct_progress']} 份文字各不相同），每份约 {o['chars']} 字"
                )
                r["pdf"] = self.spawn("pdf", city, profile=True)
                r["bare-pdf"] = self.spawn("bare-pdf", city)
            if o["only"] in (None, "ledger", "province-pdf"):
                reuse = bool(o["reuse"] and o["database_url"])
                province = self.database(workdir / "province", o, url=o["database_url"], flush=not reuse)
                started = time.perf_counter()
                info = self.spawn("province-info", province) if reuse else {"reports": 0}
                if info["reports"]:
                    self.stdout.write(
                        f"省级数据（沿用库中已有）：{info['reports']} 份报告（{info['distinct_progress']} 份文字各不相同）、"
                        f"{info['units']} 个单位"
                    )
                else:
                    info = self.spawn("setup-province", province)
                    self.stdout.write(
                        f"省级数据：{info['reports']} 份报告（{info['distinct_progress']} 份文字各不相同）、"
                        f"{info['units']} 个单位（generate_scale_data {info['generate_s']} 秒，"
                        f"共 {time.perf_counter() - started:.0f} 秒，已 ANALYZE）"
                    )
                if o["only"] in (None, "ledger"):
                    r["ledger-rows"] = self.spawn("ledger-rows", province)
                    r["ledger"] = self.spawn("ledger", province, profile=True)
                    r["bare-openpyxl"] = self.spawn("bare-openpyxl", province)
                    r["bare-xlsxwriter"] = self.spawn("bare-xlsxwriter", province)
                if o["only"] in (None, "province-pdf"):
                    r["province-pdf"] = self.spawn("province-pdf", province, profile=True)
        finally:
            if o["keep"]:
                self.stdout.write(f"临时目录：{workdir}")
            else:
                import shutil

                shutil.rmtree(workdir, ignore_errors=True)
        self.report(r, o, load_before, loadavg())

    # -- parent side

    def database(self, directory: Path, o, *, url: str, flush: bool = True) -> dict:
        directory.mkdir(parents=True, exist_ok=True)
        env = {"VAR_DIR": str(directory), "MEDIA_ROOT": str(directory / "media"), "DATABASE_URL": url}
        if url:
            if "bench" not in url.rsplit("/", 1)[-1]:
                raise CommandError("--database-url 的库名须含 bench（其中数据会被清空）。")
            if flush:
                self.spawn("flush", env)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=os.environ | env,
            check=True,
        )
        return env

    def spawn(self, what: str, env: dict, profile: bool = False) -> dict:
        o = self.o
        args = [
            sys.executable, "manage.py", "benchmark_compilations", "--child", what,
            "--workdir", env["VAR_DIR"], "--reports", str(o["reports"]), "--chars", str(o["chars"]),
            "--units", str(o["units"]), "--quarters", str(o["quarters"]), "--seed", str(o["seed"]),
        ]  # fmt: skip
        proc = self._run(args, env)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if profile and o["profile"]:
            # A second run under cProfile, after the timed one: the profiler's overhead stays out of the figures.
            self._run([*args, "--profile"], env)
            self.stdout.write(f"剖析：{what}（另一次运行，带剖析开销）")
            print_profile(Path(env["VAR_DIR"]) / f"{what}.prof", self.stdout.write)
        return result

    def _run(self, args: list[str], env: dict) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            args,
            cwd=settings.BASE_DIR,
            env=os.environ | env | {"LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if "Error" in line or "失败" in line]
            raise CommandError(
                f"{args[4]} 失败：\n" + "\n".join(errors[-10:] or proc.stderr.splitlines()[-10:])
            )
        return proc

    def report(self, r: dict, o, load_before, load_after) -> None:
        w = self.stdout.write
        out: dict = {}
        w("")
        w(f"{'项目':<40}{'用时(秒)':>10}{'CPU(秒)':>10}{'峰值内存(MB)':>14}{'文件(MB)':>10}  说明")

        def line(label, m, note=""):
            size = f"{m['bytes'] / 1e6:>10.1f}" if "bytes" in m else " " * 10
            cpu = f"{m['cpu_s']:>10.2f}" if "cpu_s" in m else " " * 10
            w(f"{label:<40}{m['seconds']:>10.2f}{cpu}{m['peak_mb']:>14.0f}{size}  {note}")

        def cpu_ratio(ours, base) -> str:
            # On a shared machine wall-clock ratios swing with the load; the processes' own CPU time less so.
            if ours.get("cpu_s") and base.get("cpu_s"):
                return f"（CPU 时间之比 {ours['cpu_s'] / base['cpu_s']:.2f}×）"
            return ""

        if "pdf" in r:
            ours, bare = r["pdf"], r["bare-pdf"]
            ratio = ours["seconds"] / bare["seconds"]
            out["pdf"] = {
                "ours_s": round(ours["seconds"], 3),
                "bare_s": round(bare["seconds"], 3),
                "ratio": round(ratio, 3),
                "peak_mb": round(ours["peak_mb"], 1),
                "pages": ours["pages"],
            }
            line(
                f"城市季度汇总 PDF（{o['reports']}份×{o['chars']}字，含附件）",
                ours,
                f"{ours['pages']}页；数据与HTML {ours['data_s']:.2f}、排版 {ours.get('layout_s', 0):.2f}、"
                f"写PDF {ours.get('write_s', 0):.2f} 秒",
            )
            line("  裸 WeasyPrint 同样文字、同样页面样式", bare, f"{bare['pages']}页，{bare['chars']}字")
            w(
                f"  倍数 {ratio:.2f}×（目标 ≤ {GOALS['pdf']}×）{self.verdict(ratio <= GOALS['pdf'])}"
                f"{cpu_ratio(ours, bare)}"
            )
        if "ledger" in r:
            ours, rows = r["ledger"], r["ledger-rows"]
            bo, bx = r["bare-openpyxl"], r["bare-xlsxwriter"]
            ro, rx = ours["seconds"] / bo["seconds"], ours["seconds"] / bx["seconds"]
            out["ledger"] = {
                "ours_s": round(ours["seconds"], 3),
                "openpyxl_s": round(bo["seconds"], 3),
                "xlsxwriter_s": round(bx["seconds"], 3),
                "ratio_openpyxl": round(ro, 3),
                "ratio_xlsxwriter": round(rx, 3),
                "peak_mb": round(ours["peak_mb"], 1),
                "rows": ours["rows"],
            }
            line(f"省级台账 Excel（{ours['rows']}行，四张表）", ours)
            line("  其中读库与组行（不写文件）", rows, f"{rows['rows']}行")
            line("  裸 openpyxl 只写模式，同样的行（仅写）", bo)
            line("  裸 xlsxwriter constant_memory，同样的行（仅写）", bx)
            w(
                f"  倍数 {ro:.2f}× openpyxl（目标 ≤ {GOALS['ledger_openpyxl']}×）"
                f"{self.verdict(ro <= GOALS['ledger_openpyxl'])}；"
                f"{rx:.2f}× xlsxwriter（目标 ≤ {GOALS['ledger_xlsxwriter']}×）"
                f"{self.verdict(rx <= GOALS['ledger_xlsxwriter'])}"
            )
            w(f"  CPU：openpyxl {cpu_ratio(ours, bo)}，xlsxwriter {cpu_ratio(ours, bx)}")
        if "province-pdf" in r:
            ours = r["province-pdf"]
            out["province_pdf"] = {
                "ours_s": round(ours["seconds"], 3),
                "peak_mb": round(ours["peak_mb"], 1),
                "pages": ours["pages"],
            }
            seconds_goal, mb_goal = GOALS["province_pdf"]
            line(
                f"省级季度汇总 PDF（{o['units']}个单位，含附件）",
                ours,
                f"{ours['pages']}页；数据与HTML {ours['data_s']:.2f}、排版 {ours.get('layout_s', 0):.2f}、"
                f"写PDF {ours.get('write_s', 0):.2f} 秒",
            )
            w(
                f"  目标 ≤ {seconds_goal:.0f} 秒、≤ {mb_goal:.0f} MB"
                f"{self.verdict(ours['seconds'] <= seconds_goal and ours['peak_mb'] <= mb_goal)}"
            )
        w(f"负载：开始 {load_before}，结束 {load_after}")
        if o["json"]:
            w(json.dumps(out, ensure_ascii=False))

    @staticmethod
    def verdict(ok: bool) -> str:
        return " ✓" if ok else " ✗ 未达标"

    # -- child side

    def child(self, o) -> None:
        workdir = Path(o["workdir"])
        what = o["child"]
        profile = workdir / f"{what}.prof" if o["profile"] else None
        if what == "flush":
            call_command("migrate", "--noinput", verbosity=0)
            call_command("flush", "--noinput", verbosity=0)
            result = {}
        elif what == "setup-city":
            result = setup_city(reports=o["reports"], chars=o["chars"], seed=o["seed"])
        elif what == "province-info":
            from reports.models import ProgressReport
            from units.models import Unit

            reports = ProgressReport.objects.all()
            count = reports.count()
            result = {"reports": count, "units": Unit.objects.filter(is_active=True).count()}
            result |= _distinct(reports) if count else {}
        elif what == "setup-province":
            result = setup_province(
                units=o["units"], quarters=o["quarters"], chars=o["chars"], seed=o["seed"]
            )
        elif what == "pdf":
            result = measure_quarterly_pdf(quarter(2024, 3), profile)
        elif what == "bare-pdf":
            result = measure_bare_pdf(workdir)
        elif what == "ledger":
            result = measure_ledger(profile)
        elif what == "ledger-rows":
            result = measure_ledger_rows()
        elif what == "bare-openpyxl":
            result = measure_bare_openpyxl(workdir)
        elif what == "bare-xlsxwriter":
            result = measure_bare_xlsxwriter(workdir)
        elif what == "province-pdf":
            result = measure_quarterly_pdf(quarter(), profile)
        else:
            raise CommandError(f"unknown child {what}")
        self.stdout.write(json.dumps(result, ensure_ascii=False))


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS
