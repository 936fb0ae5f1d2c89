"""GB/T 9704 checklist, measured on the quarterly PDF itself (pypdf's text positions and sizes; pdfplumber is
not installed): A4, margins 37/28/35/26 mm, 28 characters × 22 lines of 3号 body, 2号 title, 4号 page numbers
outside (odd right, even left)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from pypdf import PdfReader

from tests.reports.compilations.test_outputs import compile_now, needs_poppler, year_2024  # noqa: F401

pytestmark = [pytest.mark.django_db, needs_poppler]
MM = 72 / 25.4
BODY, TITLE, PAGE_NUMBER = 16.0, 22.0, 14.0  # 3号, 2号, 4号 in points


def fragments(page) -> list[tuple[str, float, float, float]]:
    """(text, size pt, x pt from the left edge, baseline pt from the top) of each text run on the page."""
    out = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = cm[0]  # WeasyPrint draws in CSS px under a 0.75 pt/px matrix
            out.append((text.strip(), round(size * scale, 1), tm[4] * scale, tm[5] * scale))

    page.extract_text(visitor_text=visit)
    return out


def body_lines(page) -> dict[float, list[tuple[str, float]]]:
    lines: dict[float, list[tuple[str, float]]] = defaultdict(list)
    for text, size, x, y in fragments(page):
        if size == BODY:
            lines[round(y, 0)].append((text, x))
    return lines


def test_quarterly_pdf_follows_gb_t_9704(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    compilation = compile_now(office_user, kind="quarterly", format="pdf", period=q3, with_appendix=True)
    reader = PdfReader(compilation.file.path)
    pages = reader.pages

    # A4
    assert all((round(float(p.mediabox.width)), round(float(p.mediabox.height))) == (595, 842) for p in pages)

    # Title: 2号; the 发文机关标志 sits 72 mm from the page top (35 mm below the type area), within a line.
    first = fragments(pages[0])
    assert [f for f in first if f[1] == TITLE], first
    title_lines = [f for f in first if f[1] == TITLE]
    assert (
        "".join(t for t, *_ in title_lines)
        == "平凉市创建全国民族团结进步示范市工作2024年第三季度进展情况汇总"
    )
    assert title_lines[0][0] == "平凉市创建全国民族团结进步示范市工作"  # broken between words, not in "工作"
    mark = first[0]
    assert 72 * MM <= mark[3] <= 72 * MM + mark[1] * 1.2

    full_pages, starts = [], []
    for number, page in enumerate(pages, start=1):
        lines = body_lines(page)
        # Page numbers: 4号 "— N —" below the type area, outside: odd right, even left, one character in.
        numbers = [f for f in fragments(page) if f[0].replace(" ", "") == f"—{number}—"]
        assert numbers, f"page {number} has no page number"
        text, size, x, y = numbers[0]
        assert size == PAGE_NUMBER and y > (297 - 35) * MM
        if number % 2:
            assert x > 105 * MM, f"page {number}: odd page number must be on the right"
        else:
            assert x < 105 * MM + 1 and abs(x - (28 * MM + PAGE_NUMBER)) < 1, f"page {number}: even, left"
        if len(lines) == 22:
            full_pages.append(lines)
        # Never more than 22 body lines, never outside the type area.
        assert len(lines) <= 22, f"page {number}: {len(lines)} lines"
        for baseline, runs in lines.items():
            assert 37 * MM < baseline <= (297 - 35) * MM
            starts.append(min(x for _, x in runs))
    # Left margin 28 mm: unindented lines start there (± 1 mm), none further left.
    assert abs(min(starts) - 28 * MM) < 1 * MM

    # 22 lines a page on pages of plain body text, 28.98 pt apart (225 mm / 22), starting at 37 mm.
    assert full_pages, "no page is all body text"
    for lines in full_pages:
        baselines = sorted(lines)
        assert baselines[0] - 37 * MM < 28.98
        assert abs((baselines[-1] - baselines[0]) / 21 - 28.98) < 0.1
    # 28 characters a line: counting a half-width digit or letter as about half a character, the widest
    # body line holds 28 (a 16 pt face set solid holds only 27, which is what this guards against).
    texts = ["".join(t for t, _ in runs) for page in pages for runs in body_lines(page).values()]
    widths = [sum(1 if ord(ch) >= 0x2E80 else 0.5 for ch in t) for t in texts]
    assert 27.5 < max(widths) <= 28.5
    assert [t for t, w in zip(texts, widths, strict=True) if w > 27.5 and all(ord(c) >= 0x2E80 for c in t)]


def test_manage_py_check_names_the_document_faces_and_their_stand_ins():
    from reports.compilations.checks import check_document_fonts

    (message,) = check_document_fonts(always=True)

    assert message.id in ("compilations.I001", "compilations.I002")
    for role in ("仿宋", "楷体", "小标宋", "黑体"):
        assert role in message.msg
    assert check_document_fonts() == []  # not repeated outside `manage.py check`
