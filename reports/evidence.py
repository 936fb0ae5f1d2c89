"""Evidence files: what a file really is (by its bytes, never its name), its checksum, and image thumbnails."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from campaign.errors import DomainError

ALLOWED_LABEL = "JPG、PNG 图片，PDF，Word（.docx）或 Excel（.xlsx）"
THUMB_SIZE = (320, 320)


@dataclass(frozen=True)
class Sniffed:
    extension: str
    content_type: str


JPEG = Sniffed("jpg", "image/jpeg")
PNG = Sniffed("png", "image/png")
PDF = Sniffed("pdf", "application/pdf")
DOCX = Sniffed("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = Sniffed("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


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
        _check_image(upload, name)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return kind, digest.hexdigest(), size


def _check_image(upload, name: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DomainError(f"图片“{name}”已损坏或无法识别，请重新导出后上传。", code="file_type") from exc
    finally:
        upload.seek(0)


def make_thumbnail(upload) -> ContentFile | None:
    """A small JPEG for lists and the review page; None if the image can't be read."""
    from PIL import Image, ImageOps

    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail(THUMB_SIZE)
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=80)
    except OSError:
        return None
    finally:
        upload.seek(0)
    return ContentFile(out.getvalue())


def safe_name(name: str, extension: str) -> str:
    """Keep the person's file name (it helps them recognise it) but give it the extension of its content."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = "".join(ch for ch in stem if ch.isalnum() or ch in "-_（）() ").strip()[:80] or "file"
    return f"{stem}.{extension}"
