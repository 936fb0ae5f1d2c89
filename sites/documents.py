"""The register as documents: the 台账 (Excel) and the 示范点名录 (PDF, one photo per site)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook

from campaign.dates import cn_date
from campaign.decorators import domain_errors_as_pages
from campaign.models import Campaign
from reports.compilations.render.pdf import gongwen_context, no_fetch
from reports.compilations.render.xlsx import cell_value, print_setup

from . import selectors
from .views import list_filters

COLUMNS = (
    ("序号", 6),
    ("名称", 30),
    ("类别", 12),
    ("所在县(市、区)", 14),
    ("创建单位", 20),
    ("地址", 30),
    ("级别", 8),
    ("状态", 8),
    ("命名日期", 12),
    ("服务的任务", 24),
    ("联系人", 10),
    ("联系电话", 15),
)


def _rows(request):
    filters = list_filters(request)
    as_of = timezone.localdate()
    return as_of, list(selectors.register_page_sites(as_of=as_of, search=request.GET.get("q"), **filters))


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


def ledger_workbook(sites, as_of) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("示范点台账")
    for i, (_title, width) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A2"
    print_setup(ws)
    ws.append([cell_value(ws, title) for title, _w in COLUMNS])
    status_labels = dict(selectors.Site.Status.choices)
    for n, site in enumerate(sites, 1):
        values = [
            n,
            site.name,
            str(site.get_category_display()),
            site.county.name,
            site.owner.name,
            site.address,
            selectors.Site.level_label(site.level_on),
            str(status_labels[site.status_on]),
            site.named_date,
            str(site.task) if site.task else "",
            site.contact_name,
            site.contact_phone,
        ]
        ws.append([cell_value(ws, v) for v in values])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@domain_errors_as_pages
def ledger_xlsx(request):
    as_of, sites = _rows(request)
    return _attachment(
        ledger_workbook(sites, as_of),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"%E7%A4%BA%E8%8C%83%E7%82%B9%E5%8F%B0%E8%B4%A6-{as_of:%Y%m%d}.xlsx",
    )


@dataclass
class DirectoryDocument:
    title: str
    issuer: str
    date_label: str

    @property
    def title_lines(self) -> list[str]:
        return [self.title]


def _photo_uri(site) -> str | None:
    photo = site.cover
    if photo is None:
        return None
    stored = photo.thumbnail or photo.file
    try:
        with stored.open("rb") as fh:
            data = fh.read()
    except OSError:
        return None
    kind = "image/jpeg" if photo.thumbnail or photo.content_type == "image/jpeg" else "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def directory_html(sites, as_of) -> str:
    campaign = Campaign.current()
    issuer = campaign.issuer_name if campaign else "创建工作办公室"
    doc = DirectoryDocument(title="民族团结进步示范点名录", issuer=issuer, date_label=cn_date(as_of))
    entries = [{"site": s, "photo": _photo_uri(s)} for s in sites]
    return render_to_string(
        "sites/directory_pdf.html", {"doc": doc, "entries": entries, **gongwen_context(doc.issuer)}
    )


def directory_pdf_bytes(sites, as_of) -> bytes:
    from weasyprint import HTML

    return HTML(
        string=directory_html(sites, as_of), base_url=str(settings.BASE_DIR), url_fetcher=no_fetch
    ).write_pdf()


@domain_errors_as_pages
def directory_pdf(request):
    as_of, sites = _rows(request)
    return _attachment(
        directory_pdf_bytes(sites, as_of),
        "application/pdf",
        f"%E7%A4%BA%E8%8C%83%E7%82%B9%E5%90%8D%E5%BD%95-{as_of:%Y%m%d}.pdf",
    )
