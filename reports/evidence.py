"""Evidence files: what a file really is (by its bytes, never its name), its checksum, and image thumbnails.

Limits on what a file may make the server (or the office's Excel/Word) do, each refused with a message that
says what was found and what to do: image pixels (``MAX_IMAGE_PIXELS``, also Pillow's own limit), how far a
Word/Excel file (a zip) expands (``MAX_ARCHIVE_EXPANDED``, ``MAX_ARCHIVE_RATIO``), and a PDF that is a PDF.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import warnings
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

from campaign.errors import DomainError

ALLOWED_LABEL = "JPG、PNG 图片，PDF，Word（.docx）或 Excel（.xlsx）"
THUMB_SIZE = (320, 320)

# 60 megapixels: above every phone's 48/50 MP mode (8160×6144) and a 600 dpi A3 scan, below what makes a
# worker decode hundreds of MB for one thumbnail (a 9500×9500 PNG is 90 MP, 270 MB as RGB). Pillow's own
# limit is set to the same number, so any other path that opens an image warns there and fails at twice it.
MAX_IMAGE_PIXELS = 60_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
IMAGE_FORMATS = ("JPEG", "PNG")

# A Word or Excel file is a zip. Real ones expand 3–20× (text XML) or not at all (photos inside); a zip bomb
# expands 1000×. Read from the zip's central directory, nothing is decompressed to decide.
MAX_ARCHIVE_EXPANDED = 256 * 1024 * 1024
MAX_ARCHIVE_RATIO = 200
MAX_ARCHIVE_MEMBERS = 10_000

# A PDF starts with "%PDF-" and ends with "%%EOF" (readers look for it in the last 1024 bytes); a page saved
# from a browser and renamed does not, and HTML in its first bytes means it is a web page wearing a PDF header.
PDF_TAIL = 1024
HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg")


@dataclass(frozen=True)
class Sniffed:
    extension: str
    content_type: str


JPEG = Sniffed("jpg", "image/jpeg")
PNG = Sniffed("png", "image/png")
PDF = Sniffed("pdf", "application/pdf")
DOCX = Sniffed("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = Sniffed("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
KINDS = (JPEG, PNG, PDF, DOCX, XLSX)


def stored_kind(stored: str) -> Sniffed | None:
    """What a stored file is, from the extension ``stored_name`` gave it (the content's, checked on upload)."""
    extension = os.path.splitext(stored or "")[1].lower().lstrip(".")
    return next((kind for kind in KINDS if kind.extension == extension), None)


def download_name(original: str, stored: str) -> str:
    """The person's file name with the extension of what the file really is (the stored name carries it):
    what a download or an archive calls an uploaded file."""
    extension = os.path.splitext(stored or "")[1]
    if not original:
        return os.path.basename(stored or "")
    stem, own = os.path.splitext(original)
    if not extension or own.lower() == extension.lower():
        return original
    return f"{stem or original}{extension}"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


def sniff(upload) -> Sniffed | None:
    """The file's type from its first bytes (and, for Office files, the parts inside the zip)."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return None


def check_upload(upload) -> tuple[Sniffed, str, int]:
    """Refuse what is not an allowed type or is too large; return (type, sha256, size)."""
    name = getattr(upload, "name", "") or "文件"
    limit = settings.EVIDENCE_MAX_BYTES
    size = upload.size
    if size > limit:
        raise DomainError(
            f"文件“{name}”大小为 {human_size(size)}，超过了 {human_size(limit)} 的上限，请压缩后再上传。",
            code="file_too_large",
        )
    if size == 0:
        raise DomainError(f"文件“{name}”是空文件。", code="empty_file")
    kind = sniff(upload)
    if kind is None:
        raise DomainError(
            f"文件“{name}”不是允许的类型（按文件内容识别，与扩展名无关）。只能上传{ALLOWED_LABEL}。",
            code="file_type",
        )
    if kind in (JPEG, PNG):
        _check_image(upload, name, kind)
    elif kind is PDF:
        _check_pdf(upload, name)
    else:
        _check_archive(upload, name)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return kind, digest.hexdigest(), size


def megapixels(pixels: int) -> str:
    return f"{pixels / 10_000:.0f}万像素"


def _check_image(upload, name: str, kind: Sniffed) -> None:
    """Refuse an image too large to decode (its size read from the header alone) or one that is broken."""
    plugin = JpegImagePlugin.JpegImageFile if kind is JPEG else PngImagePlugin.PngImageFile
    try:
        # The format's own reader reads only the header; Image.open would stop a bomb without saying its size.
        with plugin(upload) as header:
            width, height = header.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        upload.seek(0)
        raise DomainError(f"图片“{name}”已损坏或无法识别，请重新导出后上传。", code="file_type") from exc
    upload.seek(0)
    if width * height > MAX_IMAGE_PIXELS:
        raise DomainError(
            f"图片“{name}”尺寸过大（{width}×{height}，约{megapixels(width * height)}），"
            f"请缩小到{megapixels(MAX_IMAGE_PIXELS)}以内（如 8000×6000）后再上传。",
            code="image_too_large",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=IMAGE_FORMATS) as image:
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DomainError(
            f"图片“{name}”尺寸过大，请缩小到{megapixels(MAX_IMAGE_PIXELS)}以内后再上传。",
            code="image_too_large",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DomainError(f"图片“{name}”已损坏或无法识别，请重新导出后上传。", code="file_type") from exc
    finally:
        upload.seek(0)


def _check_pdf(upload, name: str) -> None:
    upload.seek(0)
    head = upload.read(1024).lower()
    upload.seek(max(upload.size - PDF_TAIL, 0))
    tail = upload.read(PDF_TAIL)
    upload.seek(0)
    if any(marker in head for marker in HTML_MARKERS):
        raise DomainError(
            f"文件“{name}”开头是 PDF 标记，内容却是网页代码，不是真正的 PDF。请用 WPS/Word 的“导出为 PDF”"
            "或打印为 PDF 后再上传。",
            code="file_type",
        )
    if b"%%EOF" not in tail:
        raise DomainError(
            f"文件“{name}”不是完整的 PDF（缺少文件结尾标记），可能已损坏或没有下载完整，请重新导出后上传。",
            code="file_type",
        )


def _check_archive(upload, name: str) -> None:
    """Refuse a Word/Excel file that would expand far beyond any real document (a zip bomb)."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DomainError(f"文件“{name}”已损坏或无法识别，请重新保存后上传。", code="file_type") from exc
    finally:
        upload.seek(0)
    expanded = sum(member.file_size for member in members)
    if (
        len(members) > MAX_ARCHIVE_MEMBERS
        or expanded > MAX_ARCHIVE_EXPANDED
        or expanded > MAX_ARCHIVE_RATIO * max(upload.size, 1)
    ):
        raise DomainError(
            f"文件“{name}”只有 {human_size(upload.size)}，解压后却有 {human_size(expanded)}"
            f"（{len(members)} 个部件），不像正常的 Word/Excel 文件，可能是压缩炸弹。"
            f"正常文件解压后不超过 {human_size(MAX_ARCHIVE_EXPANDED)}，也不超过原大小的 {MAX_ARCHIVE_RATIO} 倍；"
            "请用 WPS/Word/Excel 打开后另存为新文件再上传。",
            code="archive_too_large",
        )


def make_thumbnail(upload) -> ContentFile | None:
    """A small JPEG for lists and the review page; None if the image can't be read.

    Called only on an image ``check_upload`` let through (at most ``MAX_IMAGE_PIXELS``). ``thumbnail`` shrinks
    first, so a JPEG is decoded at 1/2–1/8 scale (``Image.draft``) instead of in full; the EXIF turn is then
    applied to the small image."""
    upload.seek(0)
    try:
        with Image.open(upload, formats=IMAGE_FORMATS) as image:
            image.thumbnail(THUMB_SIZE)
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=80)
    except (OSError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    return ContentFile(out.getvalue())


def display_name(name: str) -> str:
    """The person's file name as they know it (no folders), at most 255 characters, extension kept."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "文件"
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: 255 - len(ext)] + ext
    return name


def stored_name(extension: str) -> str:
    """The name on disk: short and safe whatever the person called the file (their name is kept for display);
    the extension is the content's, never the name's."""
    return f"{uuid.uuid4().hex}.{extension}"
