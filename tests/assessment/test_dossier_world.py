"""A dossier's world for the dossier, inspector and grants tests: ``small_system`` (tests/assessment/conftest.py)
with approved reports on its linked tasks, real evidence files (PNG, PDF with text, Word), an office file,
picks in order and the office's accounts. No tests here; the other modules import ``dossier_world``."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from PIL import Image

from assessment.management.commands.benchmark_dossier import text_pdf
from assessment.models import EvidencePick, IndicatorAccount, IndicatorSystem, OfficeFile
from campaign.models import ReportingPeriod
from reports.models import Evidence, ProgressReport
from tests.assessment.conftest import node
from tests.factories import make_report
from units.models import Unit

APPROVED = ProgressReport.State.APPROVED


def png_bytes(color=(200, 30, 30), size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(color=(30, 120, 200), size=(1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=70)
    return out.getvalue()


def pdf_bytes(text: str, pages: int = 1) -> bytes:
    """A small real PDF whose pages carry ``text`` (ASCII) in Helvetica, with a correct xref."""
    return text_pdf([[f"{text} p{i + 1}"] for i in range(pages)], size=24)


def docx_bytes(text: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def add_evidence(report: ProgressReport, name: str, data: bytes, caption: str = "") -> Evidence:
    extension = name.rsplit(".", 1)[1]
    evidence = Evidence(
        report=report,
        original_name=name,
        content_type=CONTENT_TYPES[extension],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        caption=caption,
    )
    evidence.file.save(f"e.{extension}", ContentFile(data), save=False)
    evidence.save()
    return evidence


def add_office_file(indicator, name: str, data: bytes, caption: str = "") -> OfficeFile:
    extension = name.rsplit(".", 1)[1]
    office_file = OfficeFile(
        indicator=indicator,
        original_name=name,
        content_type=CONTENT_TYPES[extension],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        caption=caption,
    )
    office_file.file.save(f"o.{extension}", ContentFile(data), save=False)
    office_file.save()
    return office_file


def pick(indicator, order: int, **target) -> EvidencePick:
    return EvidencePick.objects.create(indicator=indicator, order=order, **target)


@dataclass
class World:
    system: IndicatorSystem
    reports: dict[str, ProgressReport] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # name in the world → bytes
    unpicked: dict[str, object] = field(default_factory=dict)


def dossier_world(system: IndicatorSystem, office_user=None) -> World:
    """Picks on three leaves of ``small_system``:

    1.1.1: the report of 市委统战部? — the lead unit of task 1 — (text), a PNG of it, a PDF of it (2 pages,
           text ``MERGED-EVIDENCE-ONE``), the office's Word file.
    1.1.2: a JPEG of task 2's report.
    2.1.1: task 3's report (市委宣传部) and its PDF (text ``MERGED-EVIDENCE-TWO``).
    Not picked: another PNG of task 1's report, and a returned report on task 3 with its file.
    """
    period = ReportingPeriod.objects.get(campaign=system.campaign, year=2024, quarter=3)
    world = World(system)
    xuanchuanbu = Unit.objects.get(code="xuanchuanbu")
    kongtong = Unit.objects.get(code="kongtong")
    r1 = make_report(
        period=period,
        unit=kongtong,
        task=1,
        state=APPROVED,
        progress="领导小组召开会议三次。\n研究部署创建工作。",
    )
    r2 = make_report(period=period, unit=kongtong, task=2, state=APPROVED, progress="党建考核纳入创建内容。")
    r3 = make_report(period=period, unit=xuanchuanbu, task=3, state=APPROVED, progress="建成宣传阵地十二处。")
    draft = make_report(
        period=period, unit=kongtong, task=3, state=ProgressReport.State.RETURNED, progress="退回的草稿文字。"
    )
    world.reports = {"r1": r1, "r2": r2, "r3": r3, "returned": draft}
    files = {
        "会议照片.png": png_bytes((200, 30, 30)),
        "领导小组文件.pdf": pdf_bytes("MERGED-EVIDENCE-ONE", pages=2),
        "考核现场.jpg": jpeg_bytes(),
        "阵地名录.pdf": pdf_bytes("MERGED-EVIDENCE-TWO"),
        "创建办会议纪要.docx": docx_bytes("创建办会议纪要正文"),
        "未选照片.png": png_bytes((10, 200, 10)),
        "退回报告附件.png": png_bytes((10, 10, 200)),
    }
    world.files = files
    photo = add_evidence(r1, "会议照片.png", files["会议照片.png"], "领导小组会议现场")
    paper = add_evidence(r1, "领导小组文件.pdf", files["领导小组文件.pdf"], "成立领导小组的通知")
    unpicked_photo = add_evidence(r1, "未选照片.png", files["未选照片.png"], "未入卷的照片")
    scene = add_evidence(r2, "考核现场.jpg", files["考核现场.jpg"], "考核现场")
    register = add_evidence(r3, "阵地名录.pdf", files["阵地名录.pdf"], "阵地名录")
    returned_file = add_evidence(draft, "退回报告附件.png", files["退回报告附件.png"], "退回报告的附件")
    i111, i112, i211 = node(system, "1.1.1"), node(system, "1.1.2"), node(system, "2.1.1")
    minutes = add_office_file(i111, "创建办会议纪要.docx", files["创建办会议纪要.docx"], "创建办会议纪要")
    pick(i111, 1, report=r1)
    pick(i111, 2, evidence=photo)
    pick(i111, 3, evidence=paper)
    pick(i111, 4, office_file=minutes)
    pick(i112, 1, evidence=scene)
    pick(i211, 1, report=r3)
    pick(i211, 2, evidence=register)
    # Picked while approved, then reopened: a draft again, so it is neither printed nor shown.
    pick(i211, 3, report=draft)
    pick(i211, 4, evidence=returned_file)
    world.unpicked = {"photo": unpicked_photo, "returned_file": returned_file, "returned": draft}
    for code, text, score, why in [
        ("1.1.1", "我市成立了创建工作领导小组，市委书记任组长。", "14", "领导小组健全，定期研究。"),
        ("1.1.2", "创建工作已纳入党建考核。", "15", ""),
        ("2.1.1", "全市建成宣传阵地十二处。", "18.5", "阵地数量达标，个别县区偏少。"),
    ]:
        IndicatorAccount.objects.create(
            indicator=node(system, code),
            account=text,
            score=Decimal(score),
            justification=why,
            updated_by=office_user,
        )
    return world
