"""PDF documents with WeasyPrint, laid out after GB/T 9704 (templates in templates/compilations/pdf/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher

from ..models import Compilation
from . import annual, data, fonts

TYPE_AREA_PT = 156 / 25.4 * 72  # the 版心's width, 156 mm
MARK_MAX_PT = 36


def mark_size(issuer: str) -> float:
    """The 发文机关标志's size: as large as reads well (36 pt), small enough for one line of the 版心."""
    return round(min(MARK_MAX_PT, TYPE_AREA_PT / max(len(issuer), 1) * 0.98), 1)


def gongwen_context(issuer: str) -> dict:
    """What templates/compilations/pdf/gongwen.css and the 版头 partials need: the resolved faces and the
    mark's size. Every PDF layout (and the 通报) renders with it."""
    return {"fonts": fonts.css_fonts(), "mark_size": mark_size(issuer)}


class _NoFetch(URLFetcher):
    """Documents are self-contained (inline CSS and SVG): nothing is fetched, so text in a report can
    never make the renderer reach into the intranet. The exceptions are data: URLs (a 示范点 photo embedded
    in the page) and the font files found in settings.FONT_DIRS, by their exact file:// URL."""

    def fetch(self, url, headers=None):
        if url.startswith("data:") or url in fonts.font_dir_files():
            return super().fetch(url, headers)
        raise ValueError(f"外部资源已禁止：{url[:80]}")


# WeasyPrint 70 asks for a URLFetcher object (a plain function can no longer fetch even a data: URL).
no_fetch = _NoFetch(fail_on_errors=False)


@dataclass
class LedgerDocument:
    title: str
    subtitle: str
    issuer: str
    date_label: str
    campaign: object


def document_html(scope: data.Scope, progress) -> str:
    kind = scope.kind
    context = {"portal_name": settings.PORTAL_NAME, **gongwen_context(scope.campaign.issuer_name)}
    if kind == Compilation.Kind.ANNUAL:
        context["doc"] = annual.annual_summary(scope)
        context["no_problems"], context["no_plans"] = annual.NO_PROBLEMS, annual.NO_PLANS
        template = "compilations/pdf/annual.html"
    elif kind == Compilation.Kind.LEDGER:
        title, subtitle = data.document_titles(scope)
        context["doc"] = LedgerDocument(
            title, subtitle, scope.campaign.issuer_name, data.cn_date(scope.today), scope.campaign
        )
        context["rows"] = list(ledger_table_rows(scope))
        template = "compilations/pdf/ledger.html"
    else:
        # A quarterly summary leaves the units' full texts out unless the appendix was asked for.
        context["doc"] = data.narrative(scope, with_entries=scope.with_entries)
        template = "compilations/pdf/summary.html"
    progress(25, "排版页面")
    return render_to_string(template, context)


def ledger_table_rows(scope: data.Scope):
    metrics = data.ledger_metrics(scope)
    width = len(metrics)
    for row in data.ledger_rows(scope, metrics):
        values = row[9 : 9 + width]
        yield {
            "period": row[0],
            "unit": row[1],
            "task": f"{row[2]}. {row[3]}",
            "state": row[4],
            "status": row[5],
            "progress": row[6],
            "problems": row[7],
            "next_steps": row[8],
            "metrics": "；".join(
                f"{m.name}{data.fmt_number(v)}{m.unit_of_measure}"
                for m, v in zip(metrics, values, strict=True)
                if v is not None
            ),
            "submitted": row[-2].strftime("%Y-%m-%d") if row[-2] else "",
            "reviewed": row[-1].strftime("%Y-%m-%d") if row[-1] else "",
        }


def render_pdf(scope: data.Scope, path: Path, progress) -> None:
    from weasyprint import HTML

    progress(5, "读取报告数据")
    html = document_html(scope, progress)
    progress(30, "排版页面（版式、目录与页码）")
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=no_fetch).render()
    progress(80, f"写入 PDF（共 {len(document.pages)} 页，嵌入中文字体）")
    document.write_pdf(path)
    progress(95, "PDF 已生成")
