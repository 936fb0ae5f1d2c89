"""How long the 申报 dossier takes, and how much memory, for a system with many picked files.

    python manage.py benchmark_dossier --files 500 [--leaves 50] [--json]

Makes a throwaway indicator system on the current campaign (``--leaves`` leaves under 5 一级 and 10 二级
indicators), approved reports on its linked tasks and ``--files`` evidence files picked into it — photos (JPEG
and PNG, camera-sized; ``PHOTO_POOL`` distinct pictures per format, as making noise photos is slow), PDFs of 1–6
pages, Word and Excel files — then builds the PDF and the zip as the job does (``build.compilation_run``, in
this process) and prints, for each, the time, the file's size and pages, and
the peak memory: the process's resident high-water mark during the build (``VmHWM``, reset before each build
where Linux allows it; ``resource.getrusage`` otherwise) and, with ``--tracemalloc``, Python's own peak.
Everything is removed afterwards: the rows are rolled back and the files live in a temporary media directory.
The last line is JSON with ``--json``.
"""

from __future__ import annotations

import io
import json
import random
import resource
import shutil
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from campaign.models import Campaign, ReportingPeriod
from reports.models import Evidence, ProgressReport
from tasks.models import Responsibility

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Of every 20 files: 9 photos, 2 PNG screenshots, 6 PDFs, 2 Word and 1 Excel file.
MIX = ["jpg"] * 9 + ["png"] * 2 + ["pdf"] * 6 + ["docx"] * 2 + ["xlsx"]


class Rollback(Exception):
    pass


def peak_rss_mb() -> float:
    """The process's resident high-water mark in MB (VmHWM, or ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start a new high-water mark (Linux: writing 5 to clear_refs); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ------------------------------------------------------------------------------------------ files


def photo(rng: random.Random, fmt: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter

    size = (2400, 1800) if fmt == "jpg" else (1280, 800)
    image = Image.effect_noise(size, 40).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(image, tint, 0.6).filter(ImageFilter.GaussianBlur(1))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle(
            [x, y, x + rng.randrange(80, 600), y + rng.randrange(60, 400)], fill=tint.getpixel((0, 0))[::-1]
        )
    out = io.BytesIO()
    image.save(out, "JPEG" if fmt == "jpg" else "PNG", **({"quality": 85} if fmt == "jpg" else {}))
    return out.getvalue()


def text_pdf(pages: list[list[str]], *, size: int = 11) -> bytes:
    """A small real PDF (Helvetica, a correct xref), one page per entry of ``pages`` carrying its ASCII lines
    from the top. Also the tests' PDF evidence (``tests/assessment/test_dossier_world.pdf_bytes``)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        stream = " ".join(
            f"BT /F1 {size} Tf 72 {760 - int(size * 1.3) * k} Td ({line}) Tj ET"
            for k, line in enumerate(lines)
        )
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def pdf(rng: random.Random, n: int) -> bytes:
    """A real PDF of 1–6 text pages, as a scanned-then-OCRed notice would be, without the scan."""
    pages = rng.randint(1, 6)
    return text_pdf([[f"Evidence {n} page {i + 1} line {k}" for k in range(45)] for i in range(pages)])


def docx(n: int) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"工作台账 {n}", 1)
    for k in range(30):
        document.add_paragraph(f"第{k + 1}项：组织开展民族团结进步宣传教育活动，参加人数{100 + k}人。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx(n: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["序号", "活动", "人数"])
    for k in range(200):
        sheet.append([k + 1, f"活动{n}-{k}", 50 + k])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


PHOTO_POOL = (
    24  # distinct photos made per format; files beyond reuse them (decoding and scaling still happen)
)
_photos: dict[tuple[str, int], bytes] = {}


def make_file(rng: random.Random, kind: str, n: int) -> bytes:
    if kind in ("jpg", "png"):
        key = (kind, n % PHOTO_POOL)
        if key not in _photos:
            _photos[key] = photo(rng, kind)
        return _photos[key]
    if kind == "pdf":
        return pdf(rng, n)
    return docx(n) if kind == "docx" else xlsx(n)


# ------------------------------------------------------------------------------------------ the world


def throwaway_system(campaign: Campaign, *, files: int, leaves: int, out) -> tuple[object, dict]:
    import hashlib

    from assessment.models import EvidencePick, Indicator, IndicatorAccount, IndicatorLink, IndicatorSystem

    rng = random.Random(17)
    system = IndicatorSystem.objects.create(
        campaign=campaign, name="基准测试指标体系（临时）", full_score=Decimal(100), pass_score=Decimal(90)
    )
    roots, per_root = 5, max(1, leaves // 5)
    points = (Decimal(100) / (roots * per_root)).quantize(Decimal("0.01"))
    order = 0
    leaf_rows = []
    for r in range(1, roots + 1):
        root = Indicator.objects.create(
            system=system, code=str(r), title=f"一级指标{r}：民族团结进步创建工作", level=1, order=order
        )
        order += 1
        for b in range(1, 3):
            branch = Indicator.objects.create(
                system=system,
                parent=root,
                code=f"{r}.{b}",
                title=f"二级指标{r}.{b}：工作机制与成效",
                level=2,
                order=order,
            )
            order += 1
            for k in range(1, per_root // 2 + (per_root % 2 if b == 1 else 0) + 1):
                leaf_rows.append(
                    Indicator.objects.create(
                        system=system,
                        parent=branch,
                        code=f"{r}.{b}.{k}",
                        title=f"三级指标{r}.{b}.{k}：开展宣传教育、建设示范阵地并形成长效机制",
                        level=3,
                        points=points,
                        scoring_rule="按完成情况评分：全部完成得满分，部分完成酌情扣分。",
                        evidence_expected="工作方案、活动照片、会议纪要、统计台账",
                        order=order,
                    )
                )
                order += 1
    responsibilities = list(
        Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True).select_related(
            "task", "unit"
        )
    )
    periods = list(ReportingPeriod.objects.filter(campaign=campaign).order_by("year", "quarter"))
    if not responsibilities or not periods:
        raise CommandError("当前创建活动没有任务分工或报告期，请先运行 setup_demo 或载入实施方案。")
    taken = set(
        ProgressReport.objects.filter(period__campaign=campaign).values_list(
            "period_id", "unit_id", "task_id"
        )
    )
    combos = (
        (p, r)
        for p in reversed(periods)
        for r in responsibilities
        if (p.pk, r.unit_id, r.task_id) not in taken
    )
    now = timezone.now()
    per_leaf = max(1, files // len(leaf_rows))
    made = 0
    sizes = {kind: 0 for kind in CONTENT_TYPES}
    for index, leaf in enumerate(leaf_rows):
        period, responsibility = next(combos)
        IndicatorLink.objects.create(
            indicator=leaf, task=responsibility.task, state=IndicatorLink.State.CONFIRMED
        )
        report = ProgressReport.objects.create(
            period=period,
            unit=responsibility.unit,
            task=responsibility.task,
            state=ProgressReport.State.APPROVED,
            progress="围绕创建目标，组织开展宣传教育、联谊交流和示范创建活动，形成长效机制。" * 6,
            problems="个别乡镇工作进展不平衡。",
            next_steps="继续推进示范创建，完善工作台账。",
            first_submitted_at=now,
            submitted_at=now,
            reviewed_at=now,
        )
        picks = [EvidencePick(indicator=leaf, report=report, order=0)]
        count = per_leaf + (1 if index < files - per_leaf * len(leaf_rows) else 0)
        for k in range(count):
            kind = MIX[made % len(MIX)]
            data = make_file(rng, kind, made)
            sizes[kind] += len(data)
            evidence = Evidence(
                report=report,
                original_name=f"佐证材料{made + 1:03d}.{kind}",
                content_type=CONTENT_TYPES[kind],
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                caption=f"{leaf.code} 佐证材料{k + 1}",
            )
            evidence.file.save(f"b{made}.{kind}", ContentFile(data), save=False)
            evidence.save()
            picks.append(EvidencePick(indicator=leaf, evidence=evidence, order=k + 1))
            made += 1
        EvidencePick.objects.bulk_create(picks)
        IndicatorAccount.objects.create(
            indicator=leaf,
            account="我市对照本项指标，建立工作机制，组织开展系列活动，取得明显成效。\n" * 4,
            score=points - Decimal("0.5") if index % 3 == 0 else points,
            justification="按评分标准逐项核对，个别事项仍需完善。",
        )
        if (index + 1) % 10 == 0:
            out.write(f"  已生成 {index + 1}/{len(leaf_rows)} 项指标、{made} 个文件")
    return system, {"leaves": len(leaf_rows), "files": made, "bytes": sizes}


def run_build(system, fmt: str, use_tracemalloc: bool) -> dict:
    from reports.compilations.build import compilation_run
    from reports.compilations.models import Compilation

    compilation = Compilation.objects.create(
        kind="dossier", format=fmt, subject_id=system.pk, campaign=system.campaign
    )
    reset = reset_peak_rss()
    before = rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    result = compilation_run(compilation_id=compilation.pk)
    seconds = time.perf_counter() - started
    python_peak = None
    if use_tracemalloc:
        python_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    compilation.refresh_from_db()
    if result != "done":
        raise CommandError(f"{fmt} 生成失败：{compilation.error}")
    row = {
        "seconds": round(seconds, 1),
        "bytes": compilation.size,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_is_for_this_build": reset,
    }
    if python_peak is not None:
        row["python_peak_mb"] = round(python_peak, 1)
    if fmt == "pdf":
        from pypdf import PdfReader

        row["pages"] = len(PdfReader(compilation.file.path).pages)
    else:
        import zipfile

        with zipfile.ZipFile(compilation.file.path) as archive:
            row["entries"] = len(archive.namelist())
    return row


class Command(BaseCommand):
    help = (
        "生成一个含大量佐证文件的临时指标体系，测量申报材料（PDF 与 ZIP）的生成时间和内存峰值，之后全部清除。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--files", type=int, default=500, help="入卷文件数（默认 500）")
        parser.add_argument("--leaves", type=int, default=50, help="末级指标数（默认 50）")
        parser.add_argument("--formats", default="pdf,zip", help="要测的格式，逗号分隔（默认 pdf,zip）")
        parser.add_argument(
            "--tracemalloc", action="store_true", help="同时用 tracemalloc 测 Python 内存峰值（更慢）"
        )
        parser.add_argument("--json", action="store_true", help="最后一行输出 JSON")

    def handle(self, *args, files, leaves, formats, tracemalloc, json: bool, **options):
        if files < 1 or leaves < 5:
            raise CommandError("--files 至少 1，--leaves 至少 5。")
        campaign = Campaign.current()
        if campaign is None:
            raise CommandError("没有当前创建活动，请先运行 setup_demo 或载入实施方案。")
        media = Path(tempfile.mkdtemp(prefix="benchmark-dossier-"))
        result: dict = {}
        try:
            with override_settings(MEDIA_ROOT=str(media), COMPILATION_WORK_DIR=str(media / ".work")):
                try:
                    with transaction.atomic():
                        started = time.perf_counter()
                        self.stdout.write(f"生成临时指标体系和 {files} 个文件……")
                        system, made = throwaway_system(campaign, files=files, leaves=leaves, out=self.stdout)
                        result = {**made, "setup_seconds": round(time.perf_counter() - started, 1)}
                        for fmt in [f.strip() for f in formats.split(",") if f.strip()]:
                            self.stdout.write(f"生成 {fmt.upper()}……")
                            result[fmt] = run_build(system, fmt, tracemalloc)
                        raise Rollback
                except Rollback:
                    pass
        finally:
            shutil.rmtree(media, ignore_errors=True)
        self._print(result)
        if json:
            self.stdout.write(json_dumps(result))

    def _print(self, result: dict) -> None:
        sizes = "，".join(f"{k} {v / 1024 / 1024:.1f} MB" for k, v in result["bytes"].items() if v)
        self.stdout.write(
            f"末级指标 {result['leaves']} 项，文件 {result['files']} 个（{sizes}），准备 {result['setup_seconds']} 秒"
        )
        for fmt in ("pdf", "zip"):
            row = result.get(fmt)
            if not row:
                continue
            extra = f"{row['pages']} 页" if fmt == "pdf" else f"{row['entries']} 个条目"
            peak = f"内存峰值 {row['peak_rss_mb']} MB（开始时 {row['rss_before_mb']} MB）"
            if "python_peak_mb" in row:
                peak += f"，Python 峰值 {row['python_peak_mb']} MB"
            self.stdout.write(
                f"{fmt.upper()}：{row['seconds']} 秒，{row['bytes'] / 1024 / 1024:.1f} MB，{extra}；{peak}"
            )
        self.stdout.write("临时数据和文件已清除。")


def json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
