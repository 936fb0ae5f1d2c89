"""The Word file and the PDF of the same compilation say the same things: the same headings, paragraphs and
figures, in the same order. The PDF adds only its layout: the 发文机关标志 and the dashboards' charts."""

from __future__ import annotations

import html
import re
import subprocess

import pytest
from docx import Document
from pypdf import PdfReader

from reports.compilations.render import data, pdf
from tasks.models import Task
from tests.reports.compilations.test_outputs import (  # noqa: F401
    PROGRESS_A,
    PROGRESS_B,
    compile_now,
    flat,
    needs_poppler,
    year_2024,
)
from units.models import Unit

pytestmark = [pytest.mark.django_db, needs_poppler]

CASES = {
    "quarterly": lambda q3: {"kind": "quarterly", "period": q3},
    "quarterly-appendix": lambda q3: {"kind": "quarterly", "period": q3, "with_appendix": True},
    "unit": lambda q3: {"kind": "unit", "unit": Unit.objects.get(code="xuanchuanbu")},
    "task": lambda q3: {"kind": "task", "task": Task.objects.get(number=26), "period": q3},
}


def word_paragraphs(path) -> list[str]:
    return [p.text for p in Document(path).paragraphs if p.text.strip()]


def word_headings(path) -> list[tuple[int, str]]:
    return [
        (int(p.style.name[-1]), p.text)
        for p in Document(path).paragraphs
        if p.style.name.startswith("Heading")
    ]


def pdf_headings(path) -> list[tuple[int, str]]:
    """The PDF's bookmarks (h2 一、, h3 (一), h4 1.) with their depth, as Word's Heading 1–3."""
    out = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title))

    walk(PdfReader(path).outline, 1)
    return out


def html_words(compilation) -> str:
    """What the PDF's HTML says, without its layout-only parts (styles, the mark, charts)."""
    page = pdf.document_html(data.scope_for(compilation), lambda *args: None)
    page = re.sub(
        r"<head>.*?</head>|<figure>.*?</figure>|<p class=\"gw-mark\"[^>]*>.*?</p>", "", page, flags=re.S
    )
    return flat(html.unescape(re.sub(r"<[^>]+>", "", page)))


@pytest.mark.parametrize("case", list(CASES))
def test_word_and_pdf_of_one_compilation_say_the_same(office_user, year_2024, case):  # noqa: F811
    _, q3 = year_2024
    campaign = q3.campaign
    campaign.copy_to = "市委办公室，市政府办公室"
    campaign.save()
    word = compile_now(office_user, format="docx", **CASES[case](q3))
    pdf_file = compile_now(office_user, format="pdf", **CASES[case](q3))

    # The same words, whole: the PDF's text less its mark and charts is the Word file's text.
    words = word_paragraphs(word.file.path)
    assert html_words(pdf_file) == flat("".join(words))
    # The same headings at the same depth (Word's Heading 1–3, the PDF's bookmarks).
    assert pdf_headings(pdf_file.file.path) == [
        (level, text) for level, text in word_headings(word.file.path) if level <= 3
    ]
    # And the printed PDF holds every Word paragraph, figures included, in the same order.
    printed = flat(
        subprocess.run(["pdftotext", pdf_file.file.path, "-"], capture_output=True, text=True).stdout
    )
    printed = re.sub(r"—\d+—", "", printed)  # page numbers between the lines of a paragraph
    position = 0
    for paragraph in words:
        found = printed.find(flat(paragraph), position)
        assert found >= 0, paragraph
        position = found + len(flat(paragraph))
    figures = re.compile(r"\d+(?:\.\d+)?(?:%|份|个|项|次|场次|人次|块)")
    assert figures.findall(flat("".join(words))) == figures.findall(html_words(pdf_file))


def test_the_appendix_choice_is_the_same_in_both(office_user, year_2024):  # noqa: F811
    _, q3 = year_2024
    for with_appendix in (False, True):
        word = compile_now(
            office_user, format="docx", kind="quarterly", period=q3, with_appendix=with_appendix
        )
        pdf_file = compile_now(
            office_user, format="pdf", kind="quarterly", period=q3, with_appendix=with_appendix
        )
        word_text = flat("".join(word_paragraphs(word.file.path)))
        for text in (word_text, html_words(pdf_file)):
            assert ("附件：各单位报告全文" in text) is with_appendix
            assert (flat(f"工作进展：{PROGRESS_B}") in text) is with_appendix
