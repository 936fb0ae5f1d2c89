"""The dossier as one PDF in 公文 form: cover, contents by indicator (with pages), then per leaf in tree order its
section — the account, the office's score and justification, the picked evidence (report texts, images
embedded and scaled, other files listed) — followed by the leaf's picked PDFs, merged with pypdf; bookmarks for
the contents and the score summary, then one per indicator.

How it is made, and why:

- Sections are laid out by WeasyPrint in parts of a few sections each (never across two 一级 indicators), not
  one document per leaf nor one for all: each WeasyPrint document embeds its own subset of the CJK fonts (about
  0.2 MB and 0.6 s each), so one per leaf made a 50-leaf dossier 20 MB of repeated fonts, and one for all would
  hold every image at once. A part is capped (``PART_SECTIONS``, ``PART_IMAGES``), which bounds memory.
- Parts and scaled images are kept in the work directory (``dossier.work_dir``), a part under its HTML's hash
  with the pages where its sections begin; a later run of the same row reuses every part that would come out
  the same (a worker killed mid-way resumes), and the directory is removed when the file is made.
- Page numbers ("— N —", 4号, odd right / even left, 7 mm below the type area, GB/T 9704) are stamped at
  assembly, once the final order is known, on every page but the cover — the merged PDFs' pages too, at the
  top outer corner (their own page numbers, if any, sit at the bottom), except a page its PDF turns sideways
  (/Rotate), which is counted but left unstamped — so a binder's numbering has no holes: a section then never
  needs to know where it will land, which is what lets parts be reused independently.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint.urls import URLFetcher

from campaign.dates import cn_date
from reports.compilations.render.pdf import gongwen_context, no_fetch

from .dossier import (
    Dossier,
    Item,
    Section,
    dossier_sections,
    record_digest,
    remove_work_dir,
    work_dir,
    write_atomically,
)
from .scoring import branch_rows, gap_to_pass, points_text

logger = logging.getLogger(__name__)

IMAGE_MAX_SIDE = 1400  # pixels of the longer side: sharp at the 版心's 156 mm, ~150–300 KB as JPEG
IMAGE_QUALITY = 80
PART_SECTIONS = 12  # sections per WeasyPrint document at most
PART_IMAGES = 16  # embedded images per WeasyPrint document at most (each is decoded in memory)
MM = 72 / 25.4
PAGE_NUMBER_SIZE = 14  # 4号
FRONT_BOOKMARKS = (
    ("front-toc", "目录"),
    ("front-summary", "自评得分汇总表"),
)  # anchor in front.html → bookmark
TYPE_LABELS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文件",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 文件",
    "application/pdf": "PDF 文件",
    "image/jpeg": "图片",
    "image/png": "图片",
}


@dataclass
class Printed:
    """An item as the section prints it: the item, plus what was found when its file was read."""

    item: Item
    zip_path: str
    image_url: str = ""  # file:// URL of the scaled copy in the work directory
    pages: int = 0  # a readable PDF's page count (merged after the section)
    problem: str = ""

    def __getattr__(self, name):  # the template reads the item's own fields through this
        return getattr(self.item, name)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.item.holder.content_type if self.item.holder else "", "文件")


@dataclass
class Part:
    """Consecutive sections of one 一级 indicator, laid out as one WeasyPrint document."""

    sections: list[Section]
    printed: dict[int, list[Printed]]  # indicator id → its items as printed
    path: Path | None = None
    starts: list[int] = field(default_factory=list)  # page (in the part) where each section begins
    pages: int = 0
    reused: bool = False

    def section_pages(self, index: int) -> tuple[int, int]:
        """(first, stop) pages of the part's ``index``-th section."""
        stop = self.starts[index + 1] if index + 1 < len(self.starts) else self.pages
        return self.starts[index], stop

    def attachments(self, section: Section) -> list[Printed]:
        return [p for p in self.printed[section.indicator.pk] if p.pages]


class _WorkFetcher(URLFetcher):
    """``no_fetch``, plus the scaled images of this dossier's work directory (by their file:// URL)."""

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory.resolve()

    def fetch(self, url, headers=None):
        if url.startswith("file://"):
            path = Path(unquote(urlparse(url).path)).resolve()
            if path.is_relative_to(self.directory):
                return super().fetch(url, headers)
        return no_fetch.fetch(url, headers)


def _context(dossier: Dossier, **extra) -> dict:
    system = dossier.system
    issuer = system.campaign.issuer_name
    return {
        "portal_name": settings.PORTAL_NAME,
        "issuer": issuer,
        "title": f"{system.campaign.city}创建全国民族团结进步示范市申报材料",
        "system": system,
        **gongwen_context(issuer),
        **extra,
    }


def _render(html: str, fetcher) -> tuple[bytes, list[dict]]:
    """The PDF and, per page, the anchors on it. A laid-out WeasyPrint document is a web of reference cycles
    (70–80 MB for a part with images) that only the cycle collector frees: collected here, at once, or the
    parts of a dossier pile up in memory until Python gets round to it."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).render()
    result = document.write_pdf(), [dict(page.anchors) for page in document.pages]
    del document
    gc.collect()
    return result


# ------------------------------------------------------------------------------------------ files


def _scaled_image(item: Item, work: Path) -> Path | None:
    """The picked image as a JPEG no larger than ``IMAGE_MAX_SIDE``, kept in the work directory; None when it
    cannot be read. Decoding is shrunk as it goes (``draft``), so a 50 MP photo never sits whole in memory."""
    from PIL import Image, ImageOps

    from reports.evidence import IMAGE_FORMATS

    holder = item.holder
    key = hashlib.sha256(
        f"{type(holder).__name__}:{holder.pk}:{holder.sha256}:{holder.size}".encode()
    ).hexdigest()
    cached = work / "img" / f"{key[:32]}.jpg"
    if cached.exists():
        return cached
    try:
        with holder.file.open("rb") as handle, Image.open(handle, formats=IMAGE_FORMATS) as image:
            image.draft("RGB", (IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            elif image.mode != "RGB":
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=IMAGE_QUALITY, optimize=True)
    except Exception:  # noqa: BLE001 - a broken or missing file is listed, not fatal to the dossier
        logger.warning("dossier: image %s could not be read", holder.pk, exc_info=True)
        return None
    write_atomically(cached, out.getvalue())
    return cached


def _pdf_pages(item: Item) -> int:
    """Pages of a picked PDF that pypdf can read (0 when it cannot: encrypted, broken, missing)."""
    from pypdf import PdfReader

    try:
        with item.holder.file.open("rb") as handle:
            reader = PdfReader(handle, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return 0
            return len(reader.pages)
    except Exception:  # noqa: BLE001
        logger.warning("dossier: PDF %s could not be read", item.holder.pk, exc_info=True)
        return 0


def _printed(section: Section, work: Path) -> list[Printed]:
    rows = []
    for item in section.items:
        printed = Printed(item, zip_path=f"{section.folder}/{item.zip_file_name}")
        if item.kind in ("image", "pdf", "other") and not item.holder.file:
            printed.problem = "文件缺失"
        elif item.kind == "image":
            path = _scaled_image(item, work)
            if path is None:
                printed.problem = "图片无法读取，未能嵌入"
            else:
                printed.image_url = path.resolve().as_uri()
        elif item.kind == "pdf":
            printed.pages = _pdf_pages(item)
            if not printed.pages:
                printed.problem = "PDF 已加密或损坏，未能附入"
        rows.append(printed)
    return rows


# ------------------------------------------------------------------------------------------ layout


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _parts(dossier: Dossier, work: Path, progress) -> list[Part]:
    """The sections with their files read (images scaled, PDFs counted), grouped into parts."""
    parts: list[Part] = []
    total = len(dossier.sections)
    for index, section in enumerate(dossier.sections, start=1):
        printed = _printed(section, work)
        images = sum(1 for p in printed if p.image_url)
        last = parts[-1] if parts else None
        if (
            last is None
            or last.sections[-1].root is not section.root
            or len(last.sections) >= PART_SECTIONS
            or sum(1 for rows in last.printed.values() for p in rows if p.image_url) + images > PART_IMAGES
        ):
            last = Part([], {})
            parts.append(last)
        last.sections.append(section)
        last.printed[section.indicator.pk] = printed
        indicator = section.indicator
        progress(
            3 + int(37 * index / max(total, 1)),
            f"第{index}/{total}项指标：{indicator.code} {indicator.title}"[:90],
        )
    return parts


def _part_html(dossier: Dossier, part: Part) -> str:
    sections = []
    for section in part.sections:
        account = section.account
        sections.append(
            {
                "section": section,
                "points": points_text(section.leaf.points),
                "score": points_text(section.score),
                "justification": account.justification if account else "",
                "account_paragraphs": _paragraphs(account.account if account else ""),
                "entries": part.printed[section.indicator.pk],
            }
        )
    return render_to_string("assessment/dossier/part.html", _context(dossier, sections=sections))


def _lay_out(dossier: Dossier, parts: list[Part], work: Path, progress) -> None:
    """Render each part (or reuse it from an earlier run) and find where its sections begin."""
    fetcher = _WorkFetcher(work)
    for index, part in enumerate(parts, start=1):
        html = _part_html(dossier, part)
        key = hashlib.sha256(html.encode("utf-8")).hexdigest()[:24]
        part.path = work / "parts" / f"{index:04d}-{key}.pdf"
        layout = part.path.with_suffix(".json")
        known = _read_layout(layout) if part.path.exists() else None
        if known is not None:
            part.starts, part.pages, part.reused = known["starts"], known["pages"], True
        else:
            data, anchors = _render(html, fetcher)
            ids = [f"s-{s.indicator.pk}" for s in part.sections]
            first_page = {}
            for number, names in enumerate(anchors):
                for name in names:
                    first_page.setdefault(name, number)
            part.starts, part.pages = [first_page[i] for i in ids], len(anchors)
            write_atomically(part.path, data)
            write_atomically(layout, json.dumps({"starts": part.starts, "pages": part.pages}).encode())
        first, last = part.sections[0].indicator, part.sections[-1].indicator
        progress(
            40 + int(45 * index / len(parts)),
            f"排版第{index}/{len(parts)}部分：{first.code}至{last.code}"
            + ("（续用）" if part.reused else ""),
        )


def _read_layout(path: Path) -> dict | None:
    try:
        known = json.loads(path.read_text())
        return (
            known if isinstance(known.get("starts"), list) and isinstance(known.get("pages"), int) else None
        )
    except (OSError, ValueError):
        return None


def _positions(parts: list[Part], first_page: int) -> dict[int, int]:
    """Each indicator's first page (1-based) in the whole document: a leaf's section start, a branch's the
    section it opens with."""
    pages = {}
    page = first_page
    for part in parts:
        for index, section in enumerate(part.sections):
            start, stop = part.section_pages(index)
            for node in [*section.openers, section.leaf]:
                pages[node.indicator.pk] = page
            page += stop - start + sum(a.pages for a in part.attachments(section))
    return pages


def _front_html(dossier: Dossier, pages: dict[int, int] | None) -> str:
    system = dossier.system
    entries = [
        {
            "code": node.indicator.code,
            "title": node.indicator.title,
            "level": node.indicator.level,
            # Placeholders as wide as the real numbers lay the contents out on the same number of pages.
            "page": pages.get(node.indicator.pk, "") if pages is not None else "000",
        }
        for node in dossier.nodes
    ]
    branches = branch_rows(dossier.roots, {s.indicator.pk: s.score for s in dossier.sections})
    gap = gap_to_pass(system.pass_score, dossier.scored)
    context = _context(
        dossier,
        entries=entries,
        leaf_count=len(dossier.sections),
        total_points=points_text(dossier.total_points),
        scored=points_text(dossier.scored),
        item_count=sum(s.pick_count for s in dossier.sections),
        branches=[
            {
                "row": row,
                "points": points_text(row.points),
                "score": points_text(row.score) if row.any_scored else "—",
            }
            for row in branches
        ],
        unscored=sum(1 for s in dossier.sections if s.score is None),
        pass_score=points_text(system.pass_score),
        gap=points_text(gap),
        passes=not gap,
    )
    context["doc"] = {
        "issuer": context["issuer"],
        "title": context["title"],
        "title_lines": [f"{system.campaign.city}创建全国民族团结进步示范市", "申报材料"],
        "subtitle": f"（对照《{system.name}》）",
        "date_label": cn_date(timezone.localdate()),
    }
    return render_to_string("assessment/dossier/front.html", context)


# ------------------------------------------------------------------------------------------ assembly


class PageNumbers:
    """Stamps "— N —" on pages of the writer: Times-Roman (its digits and em dash are WinAnsi, no font to
    embed), 4号, odd pages right and even pages left, one character in from the type area's edge, the line's
    top 7 mm below the type area (GB/T 9704-2012 7.5; margins as gongwen.css: left 28 mm, right 26 mm, bottom
    35 mm). Appended as a content stream after the page's own, which is wrapped in q … Q first."""

    WIDTHS = {"—": 1000, " ": 250, **dict.fromkeys("0123456789", 500)}  # Times-Roman, per 1000 em

    def __init__(self, writer):
        from pypdf.generic import DictionaryObject, NameObject

        self.writer = writer
        self.font = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject("/Times-Roman"),
                    NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
                }
            )
        )

    def _stream(self, data: bytes):
        from pypdf.generic import DecodedStreamObject

        stream = DecodedStreamObject()
        stream.set_data(data)
        return self.writer._add_object(stream)

    def stamp(self, page, number: int, *, attached: bool = False) -> None:
        """Stamp ``number`` on ``page``: under the type area (our own pages), or — ``attached``, a page of a
        merged PDF, which may carry its own number there — at the same outer side 10 mm below the top edge."""
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject

        text = f"— {number} —"
        width = sum(self.WIDTHS[ch] for ch in text) * PAGE_NUMBER_SIZE / 1000
        box = page.mediabox
        left, bottom = float(box.left), float(box.bottom)
        page_width = float(box.width)
        em = PAGE_NUMBER_SIZE
        x = left + (page_width - 26 * MM - em - width if number % 2 else 28 * MM + em)
        if attached:
            y = bottom + float(box.height) - 10 * MM - em * 0.8
        else:
            y = bottom + 35 * MM - 7 * MM - em * 0.8  # the baseline, below a line 7 mm under the type area
        resources = page.get(NameObject("/Resources"))
        if resources is None:
            resources = page[NameObject("/Resources")] = DictionaryObject()
        resources = resources.get_object()  # often shared by a part's pages: one more font entry for all
        fonts = resources.get("/Font")
        if fonts is None:
            fonts = resources[NameObject("/Font")] = DictionaryObject()
        fonts.get_object()[NameObject("/DossierPageNumber")] = self.font
        encoded = text.encode("cp1252")  # the em dash is 0x97 in WinAnsi
        ops = b"Q q BT /DossierPageNumber %d Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj ET Q\n" % (em, x, y, encoded)
        contents = page.get(NameObject("/Contents"))
        existing = contents.get_object() if contents is not None else None
        if isinstance(existing, ArrayObject):
            refs = list(existing)
        else:
            refs = [contents] if contents is not None else []
        page[NameObject("/Contents")] = ArrayObject([self._stream(b"q\n"), *refs, self._stream(ops)])


def render_pdf(compilation, system, directory: Path, progress) -> Path:
    from pypdf import PdfReader, PdfWriter

    progress(2, "读取指标、情况说明与入卷材料")
    dossier = dossier_sections(system)
    record_digest(compilation, dossier)
    work = work_dir(compilation)
    (work / "parts").mkdir(exist_ok=True)
    (work / "img").mkdir(exist_ok=True)

    parts = _parts(dossier, work, progress)
    _lay_out(dossier, parts, work, progress)
    front, anchors = _render(_front_html(dossier, None), no_fetch)
    for _attempt in range(3):
        front_pages = len(anchors)
        pages = _positions(parts, front_pages + 1)
        front, anchors = _render(_front_html(dossier, pages), no_fetch)
        if len(anchors) == front_pages:
            break
    progress(87, "合并各部分与 PDF 佐证材料")

    path = directory / f"compilation-{compilation.pk}.pdf"
    writer = PdfWriter()
    numbers = PageNumbers(writer)
    handles = []
    try:
        writer.append(io.BytesIO(front), import_outline=False)
        for index in range(1, len(writer.pages)):  # the cover is not numbered
            numbers.stamp(writer.pages[index], index + 1)
        page_index: dict[int, int] = {}
        for part in parts:
            reader = PdfReader(str(part.path))
            for index, section in enumerate(part.sections):
                first = len(writer.pages)
                for node in [*section.openers, section.leaf]:
                    page_index[node.indicator.pk] = first
                start, stop = part.section_pages(index)
                writer.append(reader, pages=(start, stop), import_outline=False)
                for number in range(first, len(writer.pages)):
                    numbers.stamp(writer.pages[number], number + 1)
                for attachment in part.attachments(section):
                    handle = attachment.item.holder.file.open("rb")
                    handles.append(handle)
                    first = len(writer.pages)
                    writer.append(handle, import_outline=False)
                    for number in range(first, len(writer.pages)):
                        if not writer.pages[number].rotation % 360:
                            numbers.stamp(writer.pages[number], number + 1, attached=True)
        for anchor, title in FRONT_BOOKMARKS:  # before the indicators: the contents and the score summary
            page = next((number for number, names in enumerate(anchors) if anchor in names), None)
            if page is not None:
                writer.add_outline_item(title=title, page_number=page)
        outline = {}
        for node in dossier.nodes:
            indicator = node.indicator
            outline[indicator.pk] = writer.add_outline_item(
                title=f"{indicator.code} {indicator.title}",
                page_number=page_index[indicator.pk],
                parent=outline.get(indicator.parent_id),
            )
        writer.add_metadata({"/Title": _context(dossier)["title"], "/Author": system.campaign.issuer_name})
        writer.page_mode = "/UseOutlines"
        progress(93, f"写入 PDF（共 {len(writer.pages)} 页）")
        with path.open("wb") as out:
            writer.write(out)
    finally:
        for handle in handles:
            handle.close()
    remove_work_dir(compilation)
    return path
