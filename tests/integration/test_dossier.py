"""The 申报 dossier built from the demo data by a real Celery worker on Redis against PostgreSQL.

The demo (``setup_demo``: the plan, two and a half years of reports with their evidence files,
``assessment.demo.seed_assessment``'s example system with its confirmed links, picks, accounts and scores), plus
a few more uploads on approved reports of linked tasks (a photo, a PDF with known text, a Word file each) that the
office picks through ``assessment.picks.pick_add``, as on the indicator page. Then the office asks for the PDF
and the zip through the compilations API's service, the worker builds them, and they are read back: the
PDF's page count and bookmarks (== the indicators), its contents page, a merged PDF's text; every picked
file in the zip with its sha256, and listed in the 台账. The PDF's pages are rendered with pdftoppm into
``var/screenshots/dossier/`` to be looked at."""

from __future__ import annotations

import hashlib
import io
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from openpyxl import load_workbook
from pypdf import PdfReader

from assessment import dossier as dossier_module
from assessment import picks
from assessment.models import Indicator, IndicatorSystem
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request
from reports.models import ProgressReport
from tests.assessment.test_dossier_world import add_evidence, docx_bytes, jpeg_bytes, pdf_bytes, png_bytes
from units.models import CampaignRole

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TODAY = "2026-11-29"
LEAVES_WITH_FILES = 6
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "dossier"


def wait_for(condition, timeout: float = 600.0, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def add_uploads(system: IndicatorSystem, office) -> dict[str, bytes]:
    """A photo, a PDF and a Word file on the newest approved report of the first leaves that have candidates,
    picked by the office; returns {file name: bytes}."""
    files: dict[str, bytes] = {}
    done = 0
    for node in dossier_module.dossier_sections(system).sections:
        leaf = node.indicator
        report = picks.candidate_queryset(leaf).order_by("-period__year", "-period__quarter", "id").first()
        if report is None:
            continue
        n = done + 1
        made = {
            f"活动照片{n}.png": png_bytes((30 * n % 255, 120, 200 - 20 * n)),
            f"现场照片{n}.jpg": jpeg_bytes((200, 40 * n % 255, 60)),
            f"工作方案{n}.pdf": pdf_bytes(f"DEMO-EVIDENCE-{n}", pages=2),
            f"工作台账{n}.docx": docx_bytes(f"第{n}份台账"),
        }
        for name, data in made.items():
            evidence = add_evidence(report, name, data, caption=f"{leaf.code} {name.split('.')[0]}")
            picks.pick_add(indicator=leaf, by=office, evidence_id=evidence.pk)
        files.update(made)
        done += 1
        if done == LEAVES_WITH_FILES:
            break
    assert done == LEAVES_WITH_FILES, "the demo has too few leaves with approved reports"
    return files


def build(kind_format: str, office) -> tuple[Compilation, list[tuple[str, int, str]]]:
    with transaction.atomic():
        compilation, created = compilation_request(
            kind="dossier", format=kind_format, extra_scope={"system": system_id()}, by=office
        )
    assert created
    seen: list[tuple[str, int, str]] = []

    def finished() -> bool:
        row = Compilation.objects.get(pk=compilation.pk)
        if not seen or seen[-1] != (row.state, row.progress, row.stage):
            seen.append((row.state, row.progress, row.stage))
        return row.is_finished

    assert wait_for(finished), seen[-5:]
    return Compilation.objects.get(pk=compilation.pk), seen


def system_id() -> int:
    return IndicatorSystem.objects.get(is_example=True).pk


def test_the_demo_dossier_is_built_by_the_worker_with_every_indicator_and_picked_file(celery_worker):
    _, log = celery_worker
    assert connection.vendor == "postgresql"
    call_command("setup_demo", "--force", "--today", TODAY, stdout=io.StringIO())
    office = CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE).first().user
    system = IndicatorSystem.objects.get(is_example=True)
    files = add_uploads(system, office)
    indicators = list(Indicator.objects.filter(system=system).order_by("order", "id"))
    leaves = dossier_module.dossier_sections(system).sections
    picked = dossier_module.pick_queryset(system)
    assert picked.filter(report__isnull=False).exists()  # seed_scores picked demo reports
    assert picked.filter(site__isnull=False).exists()  # and named 示范点 of the register

    started = time.monotonic()
    pdf, pdf_seen = build("pdf", office)
    pdf_seconds = time.monotonic() - started
    assert pdf.state == Compilation.State.DONE, (pdf.error, log.read_text()[-3000:])
    started = time.monotonic()
    archive, zip_seen = build("zip", office)
    zip_seconds = time.monotonic() - started
    assert archive.state == Compilation.State.DONE, (archive.error, log.read_text()[-3000:])

    # Progress was reported indicator by indicator.
    stages = [stage for state, _, stage in pdf_seen if state == "running"]
    assert any(stage.startswith("第") and "项指标" in stage for stage in stages), stages
    # (the zip takes about a second: polling may see it only queued and done, so its stages are not asserted)

    # ---------------------------------------------------------------- the PDF
    reader = PdfReader(pdf.file.path)
    merged_pages = sum(2 for name in files if name.endswith(".pdf"))
    assert len(reader.pages) >= 2 + len(leaves) + merged_pages
    outline = []

    def walk(items, depth=0):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                outline.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    assert [t for _, t, _ in outline[:2]] == ["目录", "自评得分汇总表"]
    outline = outline[2:]
    assert [t for _, t, _ in outline] == [f"{i.code} {i.title}" for i in indicators]
    assert [d for d, _, _ in outline] == [i.level - 1 for i in indicators]
    texts = ["".join((p.extract_text() or "").split()) for p in reader.pages]
    first_section = outline[0][2]
    contents = "".join(texts[1:first_section])
    assert "目录" in contents
    for indicator in indicators:
        assert indicator.title[:10] in contents, indicator
    for n in range(1, LEAVES_WITH_FILES + 1):
        pages = [i for i, t in enumerate(texts) if f"DEMO-EVIDENCE-{n}" in t]
        assert len(pages) == 2, n
    assert sum(1 for p in reader.pages[:first_section] if p.images) == 0
    assert any(page.images for page in reader.pages[first_section:])

    # ---------------------------------------------------------------- the zip
    # The picked files: evidence and office files, and each picked site's naming document (and photos).
    picked_files = [item for section in leaves for item in section.files]
    assert any(item.source == "site-naming" for item in picked_files)
    expected = []
    for item in picked_files:
        with item.holder.file.open("rb") as handle:
            expected.append(hashlib.sha256(handle.read()).hexdigest())
    with zipfile.ZipFile(archive.file.path) as zipped:
        assert zipped.testzip() is None
        entries = {
            n: hashlib.sha256(zipped.read(n)).hexdigest() for n in zipped.namelist() if n != "台账.xlsx"
        }
        index = load_workbook(io.BytesIO(zipped.read("台账.xlsx")), read_only=True)
    # Every picked file (the demo's own and the uploads added here) is in the zip, byte for byte.
    assert len(entries) == len(picked_files) > len(files)
    assert sorted(entries.values()) == sorted(expected)
    assert {hashlib.sha256(data).hexdigest() for data in files.values()} <= set(entries.values())
    rows = list(index["台账"].iter_rows(min_row=2, values_only=True))
    assert {r[7]: r[9] for r in rows} == entries  # each listed under its name in the zip, with its sha256
    sizes = {}
    with zipfile.ZipFile(archive.file.path) as zipped:
        sizes = {info.filename: info.file_size for info in zipped.infolist()}
    assert all(r[8] == sizes[r[7]] for r in rows)
    reports_listed = list(index["入卷报告"].iter_rows(min_row=2, values_only=True))
    assert len(reports_listed) == picked.filter(report__isnull=False).count()
    assert all(
        ProgressReport.objects.get(pk=p.report_id).state == ProgressReport.State.APPROVED
        for p in picked.filter(report__isnull=False)
    )
    sites_listed = list(index["入卷示范点"].iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in sites_listed] == [
        item.site.name for section in leaves for item in section.items if item.kind == "site"
    ]
    assert len(sites_listed) == picked.filter(site__isnull=False).count()
    assert len(rows) == len(entries)

    # ---------------------------------------------------------------- pages to look at
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("page-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", pdf.file.path, str(SCREENSHOTS / "page")], check=True, timeout=300
    )
    rendered = sorted(SCREENSHOTS.glob("page-*.png"))
    assert len(rendered) == len(reader.pages)
    print(
        f"\ndossier: {len(indicators)} indicators, {len(leaves)} leaves, {picked.count()} picks "
        f"({len(picked_files)} files); PDF {len(reader.pages)} pages, {pdf.size} bytes, {pdf_seconds:.1f} s; "
        f"zip {archive.size} bytes, {zip_seconds:.1f} s; pages in {SCREENSHOTS}"
    )
