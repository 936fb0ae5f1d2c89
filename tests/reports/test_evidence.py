"""Evidence files: checked by content (not name), size-limited, checksummed, thumbnailed, served to readers only."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from campaign.errors import DomainError
from reports import services
from reports.models import Evidence, ProgressReport, ReportEvent
from tasks.models import Task


def png_bytes(size=(640, 480), color=(200, 30, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("民族团结进步宣传月活动方案")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["活动", "人次"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture
def report(open_period, unit_a, liaison_a) -> ProgressReport:
    return services.report_create(
        period=open_period, unit=unit_a, task=Task.objects.get(number=3), by=liaison_a, progress="进展"
    )


def test_photo_is_stored_with_checksum_size_and_thumbnail(report, liaison_a):
    data = png_bytes()

    evidence = services.evidence_add_file(
        report=report, by=liaison_a, file=upload("宣讲现场.png", data), caption="宣讲现场"
    )

    assert evidence.kind == Evidence.Kind.FILE
    assert evidence.content_type == "image/png"
    assert evidence.size == len(data)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.original_name == "宣讲现场.png"
    assert re.fullmatch(r"evidence/\d+/\d+/[0-9a-f]{32}\.png", evidence.file.name)  # short, generated
    assert evidence.download_name == "宣讲现场.png"
    with Image.open(evidence.thumbnail.open("rb")) as thumb:
        assert max(thumb.size) == 320
    assert ReportEvent.objects.filter(report=report, action="evidence_added").get().comment == "宣讲现场"


@pytest.mark.parametrize(
    ("name", "maker", "content_type"),
    [
        ("a.jpg", jpg_bytes, "image/jpeg"),
        ("a.pdf", lambda: PDF, "application/pdf"),
        ("a.docx", docx_bytes, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("a.xlsx", xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_allowed_types_are_recognised_by_content(report, liaison_a, name, maker, content_type):
    evidence = services.evidence_add_file(report=report, by=liaison_a, file=upload(name, maker()))

    assert evidence.content_type == content_type
    assert not evidence.thumbnail or content_type == "image/jpeg"


def test_a_pdf_named_as_a_photo_is_stored_as_a_pdf(report, liaison_a):
    evidence = services.evidence_add_file(report=report, by=liaison_a, file=upload("photo.jpg", PDF))

    assert evidence.content_type == "application/pdf"
    assert evidence.file.name.endswith(".pdf")
    assert (evidence.original_name, evidence.download_name) == ("photo.jpg", "photo.pdf")


def test_exe_renamed_pdf_is_refused_and_nothing_is_stored(report, liaison_a, settings):
    with pytest.raises(DomainError) as exc:
        services.evidence_add_file(report=report, by=liaison_a, file=upload("总结.pdf", EXE))

    assert exc.value.message == (
        "文件“总结.pdf”不是允许的类型（按文件内容识别，与扩展名无关）。"
        "只能上传JPG、PNG 图片，PDF，Word（.docx）或 Excel（.xlsx）。"
    )
    assert Evidence.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "evidence").exists()
    assert ReportEvent.objects.filter(action="evidence_added").count() == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.png", "这不是图片".encode()),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 64),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30),
    ],
)
def test_other_disguised_or_broken_files_are_refused(report, liaison_a, name, data):
    with pytest.raises(DomainError) as exc:
        services.evidence_add_file(report=report, by=liaison_a, file=upload(name, data))

    assert name in exc.value.message
    assert Evidence.objects.count() == 0


def test_file_over_the_limit_is_refused(report, liaison_a, settings):
    settings.EVIDENCE_MAX_BYTES = 2 * 1024
    data = png_bytes(size=(400, 400), color=(1, 2, 3)) + b"\x00" * 4096

    with pytest.raises(DomainError) as exc:
        services.evidence_add_file(report=report, by=liaison_a, file=upload("big.png", data))

    assert exc.value.message.startswith("文件“big.png”大小为 ")
    assert exc.value.message.endswith("超过了 2 KB 的上限，请压缩后再上传。")
    assert Evidence.objects.count() == 0


def test_link_is_added_as_a_second_kind(report, liaison_a):
    evidence = services.evidence_add_link(
        report=report, by=liaison_a, url="https://mp.weixin.qq.com/s/abc", caption="公众号报道"
    )

    assert (evidence.kind, evidence.url, evidence.caption) == (
        "link",
        "https://mp.weixin.qq.com/s/abc",
        "公众号报道",
    )


def test_invalid_link_is_refused(report, liaison_a):
    with pytest.raises(DomainError) as exc:
        services.evidence_add_link(report=report, by=liaison_a, url="javascript:alert(1)")

    assert exc.value.message == "链接地址无效，请填写以 http:// 或 https:// 开头的完整网址。"


def test_removing_evidence_deletes_the_file_and_keeps_the_record(
    report, liaison_a, django_capture_on_commit_callbacks
):
    evidence = services.evidence_add_file(
        report=report, by=liaison_a, file=upload("a.png", png_bytes()), caption="照片"
    )
    path = evidence.file.path

    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_remove(evidence=evidence, by=liaison_a)

    assert Evidence.objects.count() == 0
    import os

    assert not os.path.exists(path)
    assert list(ReportEvent.objects.filter(report=report).values_list("action", "comment"))[-1] == (
        "evidence_removed",
        "照片",
    )


def test_evidence_cannot_be_added_to_an_approved_report(report, liaison_a, office_user):
    services.report_submit(report=report, by=liaison_a)
    services.report_approve(report=report, by=office_user)

    with pytest.raises(DomainError) as exc:
        services.evidence_add_file(report=report, by=liaison_a, file=upload("a.png", png_bytes()))

    assert exc.value.message == "该报告已审核通过并锁定，不能再修改。如需更正，请联系创建办。"


# ---------------------------------------------------------------- serving


@pytest.fixture
def photo_and_pdf(report, liaison_a):
    photo = services.evidence_add_file(report=report, by=liaison_a, file=upload("a.png", png_bytes()))
    pdf = services.evidence_add_file(report=report, by=liaison_a, file=upload("方案.pdf", PDF))
    return photo, pdf


@pytest.mark.parametrize("who", ["as_office", "as_leader", "as_liaison_a"])
def test_readers_get_the_pdf_inline_for_preview(request, photo_and_pdf, who):
    client = request.getfixturevalue(who)
    _, pdf = photo_and_pdf

    response = client.get(f"/reports/evidence/{pdf.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(response.streaming_content) == PDF


def test_thumbnail_is_served_as_jpeg(as_office, photo_and_pdf):
    photo, _ = photo_and_pdf

    response = as_office.get(f"/reports/evidence/{photo.pk}/thumb/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_another_units_liaison_cannot_fetch_the_file(as_liaison_b, photo_and_pdf):
    photo, pdf = photo_and_pdf

    assert as_liaison_b.get(f"/reports/evidence/{pdf.pk}/").status_code == 404
    assert as_liaison_b.get(f"/reports/evidence/{photo.pk}/thumb/").status_code == 404


def test_anonymous_cannot_fetch_the_file(client, photo_and_pdf):
    _, pdf = photo_and_pdf

    response = client.get(f"/reports/evidence/{pdf.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_report_page_shows_thumbnails_and_a_pdf_preview(as_office, report, photo_and_pdf):
    photo, pdf = photo_and_pdf

    body = as_office.get(f"/reports/{report.pk}/").content.decode()

    assert f'src="/reports/evidence/{photo.pk}/thumb/"' in body
    assert f'<iframe src="/reports/evidence/{pdf.pk}/"' in body
