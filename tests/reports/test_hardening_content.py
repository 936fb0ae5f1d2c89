"""What people supply — file names, images, Office files, PDFs, text and figures — is held to limits that fit
real reports and refused, with a message saying what was found and what to do, when it does not."""

from __future__ import annotations

import io
import os
import zipfile
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from campaign.errors import DomainError
from reports import evidence as evidence_files
from reports import services
from reports.forms import ReportForm
from reports.models import Evidence, ProgressReport, ReportEvent
from tasks.models import Metric
from tests.factories import fill_url, metric, task

LONG_NAME = (  # an ordinary official file name: 97 characters, 283 bytes in UTF-8
    "关于印发《平凉市创建全国民族团结进步示范市二〇二四年度工作要点》及各县市区和市直各部门单位"
    "铸牢中华民族共同体意识工作任务分解方案的通知附件一：佐证材料汇编含各县区报送的工作台账和活动照片.pdf"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def report(open_period, unit_a, liaison_a) -> ProgressReport:
    return services.report_create(
        period=open_period, unit=unit_a, task=task(3), by=liaison_a, progress="进展"
    )


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def refusal(report, liaison, name: str, data: bytes) -> str:
    with pytest.raises(DomainError) as exc:
        services.evidence_add_file(report=report, by=liaison, file=upload(name, data))
    assert Evidence.objects.count() == 0
    return exc.value.message


# ---------------------------------------------------------------- file names


def test_an_official_file_name_of_90_chinese_characters_uploads_and_downloads_by_its_name(
    report, liaison_a, as_office
):
    assert len(LONG_NAME) >= 84 and len(LONG_NAME.encode()) > 255

    evidence = services.evidence_add_file(report=report, by=liaison_a, file=upload(LONG_NAME, PDF))

    assert evidence.original_name == LONG_NAME
    assert len(os.path.basename(evidence.file.name)) == len("0123456789abcdef0123456789abcdef.pdf")
    response = as_office.get(reverse("reports:evidence_file", args=[evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert f"filename*=utf-8''{quote(LONG_NAME)}" in response["Content-Disposition"]


def test_a_long_name_through_the_report_form_is_kept_for_display(as_liaison_a, open_period, unit_a):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {
            "progress": "开展宣讲。",
            "progress_status": "on_track",
            "version": "",
            "action": "save",
            "evidence_file": upload(LONG_NAME, PDF),
        },
    )

    assert response.status_code == 302
    assert Evidence.objects.get().original_name == LONG_NAME


def test_an_evidence_row_stored_under_the_old_naming_still_downloads(report, liaison_a, as_office):
    evidence = services.evidence_add_file(report=report, by=liaison_a, file=upload("总结.pdf", PDF))
    storage = evidence.file.storage
    old_name = storage.save(
        f"evidence/{report.period_id}/{report.unit_id}/0123456789abcdef-总结.pdf", io.BytesIO(PDF)
    )
    Evidence.objects.filter(pk=evidence.pk).update(file=old_name)

    response = as_office.get(reverse("reports:evidence_file", args=[evidence.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert quote("总结.pdf") in response["Content-Disposition"]


# ---------------------------------------------------------------- images


def png(size: tuple[int, int], mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


def test_pillow_limit_is_the_evidence_limit():
    assert Image.MAX_IMAGE_PIXELS == evidence_files.MAX_IMAGE_PIXELS == 60_000_000


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (9500, 9500)])
def test_an_image_above_the_pixel_limit_is_refused_before_it_is_decoded(report, liaison_a, width, height):
    message = refusal(report, liaison_a, "航拍.png", png((width, height)))

    assert message == (
        f"图片“航拍.png”尺寸过大（{width}×{height}，约{width * height // 10_000}万像素），"
        "请缩小到6000万像素以内（如 8000×6000）后再上传。"
    )


def test_a_48_megapixel_phone_photo_is_accepted_with_a_small_upright_thumbnail(report, liaison_a):
    exif = Image.Exif()
    exif[0x0112] = 6  # taken holding the phone upright: the pixels lie on their side
    out = io.BytesIO()
    Image.new("L", (8000, 6000), 128).save(out, format="JPEG", exif=exif.tobytes(), quality=30)

    evidence = services.evidence_add_file(
        report=report, by=liaison_a, file=upload("现场.jpg", out.getvalue())
    )

    with Image.open(evidence.thumbnail.open("rb")) as thumb:
        assert thumb.size == (240, 320)


# ---------------------------------------------------------------- Office files and PDFs


def office_zip(kind: str, extra: dict[str, bytes | int] | None = None) -> bytes:
    """A minimal .docx/.xlsx; ``extra`` members given as a size are that many zeros, streamed in."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<document/>")
        for name, content in (extra or {}).items():
            if isinstance(content, bytes):
                archive.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_STORED)
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                for _ in range(content // (1 << 20)):
                    member.write(bytes(1 << 20))
    return out.getvalue()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_zip_bomb_dressed_as_an_office_file_is_refused(report, liaison_a, kind):
    data = office_zip(kind, {"media/image1.bin": 64 << 20})  # 64 MB of zeros in about 64 KB

    message = refusal(report, liaison_a, f"材料.{kind}", data)

    assert message.startswith(f"文件“材料.{kind}”只有 ")
    assert "解压后却有 64 MB" in message and "可能是压缩炸弹" in message
    assert message.endswith("请用 WPS/Word/Excel 打开后另存为新文件再上传。")


def test_an_office_file_expanding_past_the_total_limit_is_refused_even_at_a_modest_ratio(report, liaison_a):
    # 10 MB of photos that do not compress, and 300 MB of zeros: 310 MB from 10 MB is "only" 30×.
    data = office_zip("docx", {"media/photo.jpg": os.urandom(10 << 20), "media/blank.bin": 300 << 20})

    message = refusal(report, liaison_a, "材料.docx", data)

    assert "解压后却有 310 MB" in message and "正常文件解压后不超过 256 MB" in message


def test_a_real_word_file_with_a_photo_is_accepted(report, liaison_a):
    import docx

    document = docx.Document()
    picture = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 200)).save(picture, format="PNG")
    picture.seek(0)
    document.add_paragraph("民族团结进步宣传月活动现场")
    document.add_picture(picture)
    out = io.BytesIO()
    document.save(out)

    evidence = services.evidence_add_file(
        report=report, by=liaison_a, file=upload("活动.docx", out.getvalue())
    )

    assert evidence.content_type.endswith("wordprocessingml.document")


def test_html_behind_a_pdf_header_is_refused(report, liaison_a):
    data = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"

    message = refusal(report, liaison_a, "通知.pdf", data)

    assert message == (
        "文件“通知.pdf”开头是 PDF 标记，内容却是网页代码，不是真正的 PDF。"
        "请用 WPS/Word 的“导出为 PDF”或打印为 PDF 后再上传。"
    )


def test_a_pdf_without_its_end_marker_is_refused(report, liaison_a):
    message = refusal(report, liaison_a, "半截.pdf", PDF[:-7] + b"\x00" * 2048)

    assert (
        message
        == "文件“半截.pdf”不是完整的 PDF（缺少文件结尾标记），可能已损坏或没有下载完整，请重新导出后上传。"
    )


def test_a_pdf_made_by_weasyprint_is_accepted(report, liaison_a):
    from weasyprint import HTML

    data = HTML(string="<p>民族团结</p>").write_pdf()

    evidence = services.evidence_add_file(report=report, by=liaison_a, file=upload("说明.pdf", data))

    assert evidence.content_type == "application/pdf"


# ---------------------------------------------------------------- text


def test_a_megabyte_of_text_is_refused_and_the_saved_report_is_unchanged(
    report, liaison_a, open_period, unit_a
):
    huge = "民" * 1_050_000

    with pytest.raises(DomainError) as exc:
        services.report_save(
            period=open_period,
            unit=unit_a,
            task=task(3),
            by=liaison_a,
            version=report.version,
            fields={"progress": huge, "problems": "问题"},
        )

    assert exc.value.message == "工作进展不能超过20000字（当前1050000字），请精简后再保存。"
    report.refresh_from_db()
    assert (report.progress, report.problems, report.version) == ("进展", "", 1)


def test_text_at_the_limit_is_saved(report, liaison_a):
    text = "团" * ProgressReport.TEXT_MAX_LENGTH

    saved = services.report_save_draft(report=report, by=liaison_a, version=1, next_steps=text)

    assert ProgressReport.objects.get(pk=saved.pk).next_steps == text


def test_the_report_form_refuses_overlong_text_with_the_same_words(open_period):
    form = ReportForm({"progress": "", "problems": "问" * 20_001, "progress_status": "on_track"})

    assert not form.is_valid()
    assert form.errors["problems"] == ["存在问题不能超过20000字（当前20001字），请精简后再保存。"]


def test_the_report_page_refuses_overlong_text_and_keeps_the_saved_draft(
    as_liaison_a, report, open_period, unit_a
):
    response = as_liaison_a.post(
        fill_url(open_period, unit_a, 3),
        {"progress": "进" * 30_000, "progress_status": "on_track", "version": "1", "action": "save"},
    )

    assert response.status_code == 400
    assert "工作进展不能超过20000字（当前30000字），请精简后再保存。" in response.content.decode()
    assert ProgressReport.objects.get(pk=report.pk).progress == "进展"


def test_the_api_refuses_overlong_text(api_client, liaison_a, report):
    api_client.force_authenticate(liaison_a)

    response = api_client.patch(
        f"/api/v1/reports/{report.pk}/", {"next_steps": "下" * 25_000, "version": 1}, format="json"
    )

    assert response.status_code == 400
    assert "下一步计划不能超过20000字（当前25000字），请精简后再保存。" in str(response.json())
    assert ProgressReport.objects.get(pk=report.pk).next_steps == ""


def test_a_return_reason_is_held_to_the_remark_limit(report, liaison_a, office_user):
    services.report_submit(report=report, by=liaison_a)

    with pytest.raises(DomainError) as exc:
        services.report_return(report=report, by=office_user, reason="请" * 5_000)

    assert exc.value.message == "退回原因不能超过2000字（当前5000字），请精简后再保存。"
    assert ProgressReport.objects.get(pk=report.pk).state == ProgressReport.State.SUBMITTED
    assert not ReportEvent.objects.filter(action="returned").exists()


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234", "1234"),
        ("1,234", "1234"),
        ("12,345.5", "12345.5"),
        ("12.5", "12.5"),
        ("１２３", "123"),
        ("1，234", "1234"),
        (" 8 ", "8"),
        (7, "7"),
        (2.5, "2.5"),
    ],
)
def test_figures_people_type_are_read_by_one_rule(report, liaison_a, typed, stored):
    funding = metric("funding")  # an amount (万元): decimals allowed; counts take whole numbers only

    cleaned = services.clean_metrics(task=report.task, metrics={funding.pk: typed})

    assert cleaned == {funding.pk: Decimal(stored).quantize(Decimal("0.01"))}


@pytest.mark.parametrize("typed", ["1,2,3", "12,34", "1,2345", "1,234,5"])
def test_commas_that_are_not_thousands_separators_are_refused(report, liaison_a, typed):
    boards = metric("boards")

    with pytest.raises(DomainError) as exc:
        services.report_save_draft(report=report, by=liaison_a, version=1, metrics={boards.pk: typed})

    assert exc.value.message == (
        f"“展板”填写的“{typed}”中逗号位置不对：逗号只能用作千位分隔符（如 1,234），"
        "无法确定是一个数还是几个数，请只填写一个数。"
    )
    assert not report.metric_values.exists()


@pytest.mark.parametrize("typed", ["1_000", "1e3", "Infinity", ".5.", "12 34"])
def test_other_number_lookalikes_are_refused(report, typed):
    with pytest.raises(DomainError) as exc:
        services.clean_metrics(task=report.task, metrics={metric("boards").pk: typed})

    assert exc.value.message == f"“展板”应填写数字（单位：块），“{typed}”不是数字。"


def test_the_report_form_reads_figures_by_the_same_rule(plan):
    boards: Metric = metric("boards")
    name = f"metric_{boards.pk}"

    def form(value):
        f = ReportForm({"progress_status": "on_track", name: value}, metrics=[boards])
        f.is_valid()
        return f

    assert form("1,234").cleaned_data[name] == Decimal("1234")
    assert form("１２３").cleaned_data[name] == Decimal("123")
    assert form("1,2,3").errors[name] == [
        "“展板”填写的“1,2,3”中逗号位置不对：逗号只能用作千位分隔符（如 1,234），"
        "无法确定是一个数还是几个数，请只填写一个数。"
    ]
    assert form("很多").errors[name] == ["“展板”应填写数字，如 120。"]


def test_the_api_refuses_1_2_3_instead_of_storing_123(api_client, liaison_a, report):
    api_client.force_authenticate(liaison_a)

    response = api_client.patch(
        f"/api/v1/reports/{report.pk}/",
        {"metrics": [{"metric": metric("boards").pk, "value": "1,2,3"}], "version": 1},
        format="json",
    )

    assert response.status_code == 400
    assert "逗号只能用作千位分隔符" in response.json()["detail"]
    assert not report.metric_values.exists()
