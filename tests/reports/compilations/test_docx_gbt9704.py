"""GB/T 9704 checklist for every Word output, read back with python-docx: A4, margins 37/35/28/26 mm ± 1,
28 characters × 22 lines of 3号 仿宋, 2号 小标宋 title, 黑体 / 楷体 headings, "— N —" page numbers in 4号
with PAGE fields, odd pages right and even pages left."""

from __future__ import annotations

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt

from tests.reports.compilations.test_outputs import compile_now, year_2024  # noqa: F401 (fixture)
from units.models import Unit

pytestmark = pytest.mark.django_db

TYPE_AREA_PT = (156 / 25.4 * 72, 225 / 25.4 * 72)


def east_asia(style) -> str:
    return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def footer_checks(footer, alignment) -> None:
    paragraph = footer.paragraphs[0]
    assert paragraph.alignment == alignment
    assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
    instr = [e.text.strip() for e in paragraph._p.iter(qn("w:instrText"))]
    assert instr == ["PAGE"]
    kinds = [e.get(qn("w:fldCharType")) for e in paragraph._p.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert {r.font.size for r in paragraph.runs} == {Pt(14)}  # 4号
    assert {r._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) for r in paragraph.runs} == {"宋体"}


@pytest.mark.parametrize(
    "kind, scope",
    [("annual", {"year": 2024}), ("quarterly", {"period": "q3"}), ("unit", {"unit": "xuanchuanbu"})],
)
def test_word_output_follows_gb_t_9704(office_user, year_2024, kind, scope):  # noqa: F811
    values = {}
    for key, value in scope.items():
        values[key] = (
            year_2024[1] if key == "period" else Unit.objects.get(code=value) if key == "unit" else value
        )
    document = Document(compile_now(office_user, kind=kind, format="docx", **values).file.path)

    section = document.sections[0]
    assert abs(section.page_width.mm - 210) <= 1 and abs(section.page_height.mm - 297) <= 1
    margins = (
        section.top_margin.mm,
        section.bottom_margin.mm,
        section.left_margin.mm,
        section.right_margin.mm,
    )
    for measured, wanted in zip(margins, (37, 35, 28, 26), strict=True):
        assert abs(measured - wanted) <= 1, margins

    styles = document.styles
    normal = styles["Normal"]
    assert normal.font.size == Pt(16) and east_asia(normal) == "仿宋"
    fmt = normal.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    # 22 lines: the line pitch fits 22 times into the 225 mm type area, not 23 times.
    pitch = fmt.line_spacing.pt
    assert 22 * pitch <= TYPE_AREA_PT[1] < 23 * pitch
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and int(grid.get(qn("w:linePitch"))) == round(pitch * 20)
    # 28 characters: 16 pt set tighter by the style's character spacing fits 28 times into 156 mm, not 29.
    spacing = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    char = 16 + spacing
    assert 28 * char <= TYPE_AREA_PT[0] < 29 * char
    assert fmt.first_line_indent == Pt(32)  # two characters

    title = styles["Title"]
    assert title.font.size == Pt(22) and east_asia(title) == "方正小标宋简体"
    assert document.paragraphs[0].style.name == "Title"
    assert (styles["Heading 1"].font.size, east_asia(styles["Heading 1"])) == (Pt(16), "黑体")
    assert (styles["Heading 2"].font.size, east_asia(styles["Heading 2"])) == (Pt(16), "楷体")
    for name in ("Heading 1", "Heading 2", "Heading 3", "Heading 4"):
        style = styles[name]
        assert style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None  # no theme face
        assert str(style.font.color.rgb) == "000000"

    assert document.settings.odd_and_even_pages_header_footer is True
    footer_checks(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    footer_checks(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
