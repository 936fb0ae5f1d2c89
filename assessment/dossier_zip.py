"""The dossier's zip: the picked original files in indicator folders (``1 一级指标/1.1.1 指标名/NN 原文件名``) and
an Excel index (台账.xlsx: indicator, source unit / period / report, caption, name in the zip, size, SHA-256; and
sheets of the picked reports and the picked 示范点).

Streamed: each file is copied in chunks straight into the archive (stored, not recompressed: photos, PDFs and
Office files are compressed already) while its SHA-256 is computed, so memory does not grow with the files.

Resumable: the archive is built in the work directory (``dossier.work_dir``) and closed after each leaf's folder,
which writes a complete central directory; the manifest then records the archive's length, the leaves done
and their index rows (written atomically). A run that dies mid-leaf leaves bytes after that length: the next
run cuts them off, reopens the archive for appending and goes on with the next leaf. Should the picks of a leaf
already written have changed in between, the archive is started again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import zipfile
from pathlib import Path

from django.utils import timezone

from reports.compilations.render.xlsx import cell_value, print_setup

from .dossier import (
    Dossier,
    Item,
    Section,
    dossier_sections,
    read_json,
    record_digest,
    remove_work_dir,
    work_dir,
    write_json,
)

CHUNK = 1024 * 1024
INDEX_NAME = "台账.xlsx"
INDEX_COLUMNS = [
    ("序号", 6),
    ("一级指标", 24),
    ("指标", 36),
    ("来源单位", 18),
    ("报告期", 14),
    ("报告 / 示范点", 30),
    ("说明", 30),
    ("压缩包内文件名", 60),
    ("大小（字节）", 12),
    ("SHA-256", 66),
]


def _fingerprint(section: Section) -> str:
    """What a leaf's folder holds: its path and, per file, its name in the zip, row, stored file, size and
    checksum (a naming document has no stored checksum; a new one is a new stored file)."""
    parts = [section.folder]
    for item in section.files:
        holder = item.holder
        parts.append(
            f"{item.zip_file_name}:{type(holder).__name__}:{holder.pk}:{holder.file.name}:{holder.size}:"
            f"{holder.sha256}"
        )
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _zip_info(name: str, item: Item) -> zipfile.ZipInfo:
    moment = timezone.localtime(getattr(item.holder, "uploaded_at", None) or timezone.now())
    info = zipfile.ZipInfo(name, date_time=(max(moment.year, 1980), *moment.timetuple()[1:6]))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _copy(archive: zipfile.ZipFile, name: str, item: Item) -> tuple[int, str]:
    """Stream the item's file into the archive; (bytes, sha256 of them)."""
    digest = hashlib.sha256()
    size = 0
    with (
        item.holder.file.open("rb") as source,
        archive.open(_zip_info(name, item), "w", force_zip64=item.size > 2**31) as target,
    ):
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _row(section: Section, item: Item, name: str, size, sha256: str) -> list:
    root = section.root.indicator
    indicator = section.indicator
    return [
        f"{root.code} {root.title}",
        f"{indicator.code} {indicator.title}",
        item.unit_name,
        item.period_label,
        item.report_label,
        item.caption,
        name,
        size,
        sha256,
    ]


REPORT_COLUMNS = [("序号", 6), ("一级指标", 24), ("指标", 36), ("单位", 18), ("报告期", 14), ("报告", 40)]
SITE_COLUMNS = [
    ("序号", 6),
    ("一级指标", 24),
    ("指标", 36),
    ("示范点", 24),
    ("类别", 14),
    ("命名级别", 10),
    ("命名日期", 12),
    ("所在县区", 12),
    ("责任单位", 18),
    ("地址", 30),
]


def _sheet(workbook, title: str, columns: list[tuple[str, int]], rows: list[list]) -> None:
    """One sheet of the index: a bold, frozen, filterable header of ``columns`` (title, width), then the rows
    numbered from 1; user strings through ``cell_value``, dates as dates."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    print_setup(sheet)
    header = []
    for name, _ in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    for number, row in enumerate(rows, start=1):
        cells = []
        for value in row:
            value = cell_value(sheet, value)
            if isinstance(value, dt.date):
                value = WriteOnlyCell(sheet, value=value)
                value.number_format = "yyyy-mm-dd"
            cells.append(value)
        sheet.append([number, *cells])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _write_index(
    path: Path, dossier: Dossier, rows: list[list], reports: list[list], sites: list[list]
) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _sheet(workbook, "台账", INDEX_COLUMNS, rows)
    _sheet(workbook, "入卷报告", REPORT_COLUMNS, reports)
    _sheet(workbook, "入卷示范点", SITE_COLUMNS, sites)
    workbook.properties.title = f"《{dossier.system.name}》申报材料台账"
    workbook.save(path)


def render_zip(compilation, system, directory: Path, progress) -> Path:
    progress(2, "读取指标与入卷文件")
    dossier = dossier_sections(system)
    record_digest(compilation, dossier)
    work = work_dir(compilation)
    archive_path = work / "dossier.zip"
    manifest_path = work / "manifest.json"
    manifest = read_json(manifest_path)
    plan = [(section, _fingerprint(section)) for section in dossier.sections]
    done: list[str] = manifest.get("done", [])
    if not archive_path.exists() or done != [key for _, key in plan[: len(done)]]:
        archive_path.unlink(missing_ok=True)  # nothing usable: start over
        manifest, done = {}, []
    rows: list[list] = manifest.get("rows", [])
    if done:
        with archive_path.open("r+b") as handle:  # drop what a dead run wrote after the last checkpoint
            handle.truncate(manifest["length"])

    total = len(plan)
    for index, (section, key) in enumerate(plan, start=1):
        indicator = section.indicator
        stage = f"第{index}/{total}项指标：{indicator.code} {indicator.title}"[:90]
        if index <= len(done):
            progress(5 + int(85 * index / max(total, 1)), stage + "（续用）")
            continue
        mode = "a" if archive_path.exists() else "w"
        with zipfile.ZipFile(archive_path, mode, allowZip64=True) as archive:
            for item in section.items:
                if item.kind == "link":
                    rows.append(_row(section, item, f"（链接）{item.name}", None, ""))
                elif item.kind in ("image", "pdf", "other"):
                    name = f"{section.folder}/{item.zip_file_name}"
                    try:
                        size, sha256 = _copy(archive, name, item)
                    except (FileNotFoundError, ValueError):
                        rows.append(_row(section, item, f"（文件缺失）{item.name}", None, ""))
                        continue
                    rows.append(_row(section, item, name, size, sha256))
        done.append(key)
        write_json(manifest_path, {"done": done, "rows": rows, "length": archive_path.stat().st_size})
        progress(5 + int(85 * index / max(total, 1)), stage)

    progress(92, "写入台账")
    reports = [
        [
            f"{s.root.indicator.code} {s.root.indicator.title}",
            f"{s.indicator.code} {s.indicator.title}",
            item.unit_name,
            item.period_label,
            item.report_label,
        ]
        for s in dossier.sections
        for item in s.items
        if item.kind == "report"
    ]
    sites = [
        [
            f"{s.root.indicator.code} {s.root.indicator.title}",
            f"{s.indicator.code} {s.indicator.title}",
            item.site.name,
            item.site.get_category_display(),
            item.site_level_label,
            item.site_named_on,
            item.site.county.name,
            item.site.owner.name,
            item.site.address,
        ]
        for s in dossier.sections
        for item in s.items
        if item.kind == "site"
    ]
    index_path = work / "index.xlsx"
    _write_index(index_path, dossier, rows, reports, sites)
    mode = "a" if archive_path.exists() else "w"
    with zipfile.ZipFile(archive_path, mode, allowZip64=True) as archive:
        archive.write(index_path, INDEX_NAME, compress_type=zipfile.ZIP_DEFLATED)
    path = directory / f"compilation-{compilation.pk}.zip"
    shutil.move(str(archive_path), path)
    remove_work_dir(compilation)
    return path
