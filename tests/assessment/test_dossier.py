"""The 申报 dossier built through the compilations machinery (jobs in-process), read back: the PDF with pypdf
(pages, bookmarks == indicators, contents, an embedded image, a merged PDF's text, no draft's text), the zip
(every picked file with its sha256, listed in the 台账 read back with openpyxl), and resuming after a run
died part-way."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from assessment import dossier as dossier_module
from assessment.dossier_pdf import render_pdf
from assessment.dossier_zip import render_zip
from assessment.models import Indicator
from reports.compilations.build import compilation_run
from reports.compilations.models import Compilation
from reports.compilations.services import compilation_request
from tests.assessment.test_dossier_world import dossier_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(small_system, office_user):
    return dossier_world(small_system, office_user)


@pytest.fixture
def build(django_capture_on_commit_callbacks):
    """Ask for the dossier as the office does; the job runs in-process when the request commits."""

    def build(office_user, system, fmt: str) -> Compilation:
        with django_capture_on_commit_callbacks(execute=True):
            compilation, created = compilation_request(
                kind="dossier", format=fmt, extra_scope={"system": system.pk}, by=office_user
            )
        assert created
        compilation.refresh_from_db()
        assert compilation.state == Compilation.State.DONE, compilation.error
        return compilation

    return build


def flat_outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every bookmark, in order."""
    rows = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                rows.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return rows


def page_texts(reader: PdfReader) -> list[str]:
    """Each page's text without white space (the 公文 letter-spacing splits words when extracted)."""
    return ["".join((page.extract_text() or "").split()) for page in reader.pages]


# ----------------------------------------------------------------------------------------------- PDF


def test_dossier_pdf_has_cover_contents_bookmarks_and_every_indicator(build, world, office_user):
    system = world.system
    compilation = build(office_user, system, "pdf")

    assert compilation.subject_id == system.pk and compilation.campaign == system.campaign
    assert compilation.download_name == f"《{system.name}》-申报材料.pdf"
    reader = PdfReader(compilation.file.path)
    indicators = list(Indicator.objects.filter(system=system).order_by("order", "id"))
    front, outline = flat_outline(reader)[:2], flat_outline(reader)[2:]
    # The contents and the score summary, then one bookmark per indicator, in tree order, nested by level.
    assert [(depth, title) for depth, title, _ in front] == [(0, "目录"), (0, "自评得分汇总表")]
    assert [title for _, title, _ in outline] == [f"{i.code} {i.title}" for i in indicators]
    assert [depth for depth, _, _ in outline] == [i.level - 1 for i in indicators]
    texts = page_texts(reader)
    assert texts[front[0][2]].startswith("目录") and texts[front[1][2]].startswith("自评得分汇总表")
    assert "申报材料" in texts[0]
    contents = "".join(texts[1:3])
    assert "目录" in contents
    for indicator in indicators:
        assert indicator.title[:8] in contents
    # Each bookmark points at the page where its indicator's heading is printed.
    for _, title, page in outline:
        assert title.split(" ", 1)[1][:8] in texts[page], (title, page)
    # The printed page numbers in the contents agree with the bookmarks (page "— N —" is index N-1).
    leaf = next(p for _, t, p in outline if t.startswith("2.1.1"))
    assert f"—{leaf + 1}—" in texts[leaf]


def test_dossier_pdf_prints_accounts_scores_reports_and_merges_picked_pdfs_after_their_indicator(
    build, world, office_user
):
    reader = PdfReader(build(office_user, world.system, "pdf").file.path)
    texts = page_texts(reader)
    whole = "\n".join(texts)
    outline = {t.split(" ")[0]: p for _, t, p in flat_outline(reader)}

    assert "我市成立了创建工作领导小组" in whole and "自评14分" in whole and "领导小组健全" in whole
    assert "领导小组召开会议三次" in whole  # the picked report's text
    assert "《创建办会议纪要.docx》" in whole  # the office's Word file is listed by name
    # The merged PDFs come right after their indicator's pages, before the next indicator.
    one = [i for i, t in enumerate(texts) if "MERGED-EVIDENCE-ONE" in t]
    two = [i for i, t in enumerate(texts) if "MERGED-EVIDENCE-TWO" in t]
    assert len(one) == 2 and len(two) == 1
    assert outline["1.1.1"] < one[0] < one[1] < outline["1.1.2"]
    assert outline["2.1.1"] < two[0] < outline["2.1.2"]
    # Merged pages carry the binder's page numbers too: no hole in the numbering after the cover.
    for index in range(1, len(texts)):
        assert f"—{index + 1}—" in texts[index], index
    # Nothing unpicked, nothing of a report that is no longer approved.
    assert "退回的草稿文字" not in whole
    assert "未入卷的照片" not in whole and "退回报告的附件" not in whole


def drawn_images(page) -> list:
    """The images a page draws (``Do`` of an image XObject, also inside form XObjects), as PIL images. A
    part's pages may share one resource dictionary listing all its images, so ``page.images`` alone is not
    enough: it is filtered by the names the page's content actually draws."""
    from pypdf.generic import ContentStream

    drawn = set()

    def visit(content, resources):
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else {}
        for operands, operator in ContentStream(content, page.pdf).operations if content is not None else []:
            if operator != b"Do" or operands[0] not in xobjects:
                continue
            xobject = xobjects[operands[0]].get_object()
            if xobject["/Subtype"] == "/Image":
                drawn.add(operands[0][1:])
            elif xobject["/Subtype"] == "/Form":
                visit(xobject, xobject.get("/Resources", resources).get_object())

    visit(page.get_contents(), page["/Resources"].get_object())
    return [image.image for image in page.images if image.name.rsplit(".", 1)[0].split("/")[-1] in drawn]


def distinct_images(reader: PdfReader, first: int, stop: int) -> list:
    """The distinct images (by content) drawn on pages ``first`` … ``stop - 1``."""
    seen = {}
    for page in reader.pages[first:stop]:
        for image in drawn_images(page):
            seen.setdefault(hashlib.sha256(image.tobytes()).hexdigest(), image)
    return list(seen.values())


def test_dossier_pdf_embeds_picked_images_scaled(build, world, office_user):
    reader = PdfReader(build(office_user, world.system, "pdf").file.path)
    outline = {t.split(" ")[0]: p for _, t, p in flat_outline(reader)}

    images_111 = distinct_images(reader, outline["1.1.1"], outline["1.1.2"])
    assert len(images_111) == 1  # the picked PNG, not the unpicked one
    picture = images_111[0]
    assert picture.size == (800, 600)
    red, green, blue = picture.convert("RGB").getpixel((400, 300))
    assert red > 180 and green < 60 and blue < 60  # the red meeting photo
    # The 1600×1200 JPEG is scaled to IMAGE_MAX_SIDE.
    images_112 = distinct_images(reader, outline["1.1.2"], outline["2"])
    assert [img.size for img in images_112] == [(1400, 1050)]
    # The sections without pictures carry none.
    assert distinct_images(reader, outline["2"], len(reader.pages)) == []


# ----------------------------------------------------------------------------------------------- zip


def test_dossier_zip_holds_every_picked_file_in_indicator_folders_with_the_index(build, world, office_user):
    compilation = build(office_user, world.system, "zip")
    assert compilation.download_name.endswith(".zip") and compilation.content_type == "application/zip"

    with zipfile.ZipFile(compilation.file.path) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
    expected = {
        "1 组织领导/1.1.1 成立创建工作领导小组，主要领导任组长/02 会议照片.png": world.files["会议照片.png"],
        "1 组织领导/1.1.1 成立创建工作领导小组，主要领导任组长/03 领导小组文件.pdf": world.files[
            "领导小组文件.pdf"
        ],
        "1 组织领导/1.1.1 成立创建工作领导小组，主要领导任组长/04 创建办会议纪要.docx": world.files[
            "创建办会议纪要.docx"
        ],
        "1 组织领导/1.1.2 将创建工作纳入党建考核/01 考核现场.jpg": world.files["考核现场.jpg"],
        "2 宣传教育/2.1.1 建设民族团结进步宣传阵地/02 阵地名录.pdf": world.files["阵地名录.pdf"],
    }
    assert sorted(names) == sorted([*expected, "台账.xlsx"])
    for name, data in expected.items():
        assert hashlib.sha256(contents[name]).hexdigest() == hashlib.sha256(data).hexdigest()

    sheet = load_workbook(io.BytesIO(contents["台账.xlsx"]), read_only=True)["台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "一级指标", "指标")
    listed = {row[7]: row for row in rows[1:]}
    assert set(listed) == set(expected)
    for name, data in expected.items():
        row = listed[name]
        assert row[8] == len(data) and row[9] == hashlib.sha256(data).hexdigest()
    photo = listed["1 组织领导/1.1.1 成立创建工作领导小组，主要领导任组长/02 会议照片.png"]
    assert photo[3:7] == (
        "崆峒区",
        "2024年第三季度",
        "任务1 " + world.reports["r1"].task.title,
        "领导小组会议现场",
    )
    assert (
        listed["1 组织领导/1.1.1 成立创建工作领导小组，主要领导任组长/04 创建办会议纪要.docx"][3] == "创建办"
    )


def test_zip_names_are_sanitised():
    assert dossier_module.safe_name('a/b\\c:d*e?"f<g>h|i', 40) == "a_b_c_d_e_f_g_h_i"
    assert dossier_module.safe_name("  ..名称..  ", 40) == "名称"
    assert dossier_module.safe_name("很长" * 50 + ".pdf", 12, keep_extension=True) == "很长很长很长很长.pdf"
    assert dossier_module.safe_name("../../etc/passwd", 40) == "_.._etc_passwd"
    assert (
        dossier_module.safe_name("7.2.2 社区经常性开展矛盾纠纷排查，打造示范点", 20)
        == "7.2.2 社区经常性开展矛盾纠纷排查"
    )


# -------------------------------------------------------------------------------------------- resume


class Died(Exception):
    pass


def dying_after(stage_marker: str, seen: list[str]):
    """A progress callback that records stages and dies (as a killed worker would) once a stage contains
    ``stage_marker``."""

    def progress(percent, stage):
        seen.append(stage)
        if stage_marker in stage:
            raise Died(stage)

    return progress


@pytest.mark.parametrize(
    "fmt, renderer, dies_at, reused, fresh",
    [
        # PDF parts: one per 一级 indicator here (1: 1.1.1–1.1.2, 2: 2.1.1–2.1.2, 3).
        ("pdf", render_pdf, "排版第2/3部分", ["排版第1/3部分", "排版第2/3部分"], ["排版第3/3部分"]),
        # Zip: a checkpoint after each leaf's folder.
        (
            "zip",
            render_zip,
            "第3/5项",
            ["第1/5项指标", "第2/5项指标", "第3/5项指标"],
            ["第4/5项指标", "第5/5项指标"],
        ),
    ],
)
def test_a_run_that_dies_part_way_is_resumed_from_its_finished_parts(
    world, office_user, tmp_path, fmt, renderer, dies_at, reused, fresh
):
    compilation = Compilation.objects.create(
        kind="dossier", format=fmt, subject_id=world.system.pk, campaign=world.system.campaign
    )
    first: list[str] = []
    with pytest.raises(Died):
        renderer(compilation, world.system, tmp_path, dying_after(dies_at, first))
    work = dossier_module.work_dir(compilation)
    kept = {p.name: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}
    assert kept, "no finished part was kept"

    second: list[str] = []
    path = renderer(compilation, world.system, tmp_path, lambda p, s: second.append(s))

    assert [s.split("：")[0] for s in second if s.endswith("（续用）")] == reused
    assert [
        s.split("：")[0] for s in second if s.split("：")[0] in fresh and not s.endswith("（续用）")
    ] == fresh
    assert not work.exists()  # cleaned when done
    if fmt == "pdf":
        assert len(flat_outline(PdfReader(path))) == 2 + Indicator.objects.filter(system=world.system).count()
    else:
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            assert len([n for n in archive.namelist() if not n.endswith(".xlsx")]) == 5


def test_a_zip_run_killed_mid_folder_drops_the_half_written_entry(world, office_user, tmp_path):
    """The archive is cut back to its last checkpoint: bytes a dead run appended after it are gone."""
    compilation = Compilation.objects.create(
        kind="dossier", format="zip", subject_id=world.system.pk, campaign=world.system.campaign
    )
    with pytest.raises(Died):
        render_zip(compilation, world.system, tmp_path, dying_after("第2/5项", []))
    archive_path = dossier_module.work_dir(compilation) / "dossier.zip"
    with archive_path.open("ab") as handle:
        handle.write(b"PK\x03\x04 half an entry from a worker that was killed")

    path = render_zip(compilation, world.system, tmp_path, lambda p, s: None)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert len(archive.namelist()) == 6


def test_changed_picks_after_a_dead_run_start_the_zip_again(world, office_user, tmp_path):
    compilation = Compilation.objects.create(
        kind="dossier", format="zip", subject_id=world.system.pk, campaign=world.system.campaign
    )
    with pytest.raises(Died):
        render_zip(compilation, world.system, tmp_path, dying_after("第3/5项", []))
    world.system.indicators.get(code="1.1.1").picks.filter(order=2).delete()  # the photo is taken out

    seen: list[str] = []
    path = render_zip(compilation, world.system, tmp_path, lambda p, s: seen.append(s))
    assert not any("（续用）" in s for s in seen)
    with zipfile.ZipFile(path) as archive:
        assert not any(name.endswith("会议照片.png") for name in archive.namelist())


def test_a_killed_run_of_the_job_resumes_on_the_next_delivery(world, office_user, monkeypatch):
    """Through ``build.compilation_run``: the first run dies in the middle (the worker process was killed, so
    the row still says running), the redelivered message claims the row again and reuses the parts."""
    import assessment.dossier_pdf as dossier_pdf

    compilation = Compilation.objects.create(
        kind="dossier",
        format="pdf",
        subject_id=world.system.pk,
        campaign=world.system.campaign,
        requested_by=office_user,
    )
    real = dossier_pdf._lay_out
    calls = {"n": 0}

    def dying_lay_out(dossier, parts, work, progress):
        calls["n"] += 1

        def progress_then_die(percent, stage):
            progress(percent, stage)
            if calls["n"] == 1 and stage.startswith("排版第2/3部分"):
                raise KeyboardInterrupt  # the process goes away mid-run

        return real(dossier, parts, work, progress_then_die)

    monkeypatch.setattr(dossier_pdf, "_lay_out", dying_lay_out)
    with pytest.raises(KeyboardInterrupt):
        compilation_run(compilation_id=compilation.pk)
    Compilation.objects.filter(pk=compilation.pk).update(state=Compilation.State.RUNNING)  # as after SIGKILL
    parts = sorted(p.name for p in (dossier_module.work_dir(compilation) / "parts").glob("*.pdf"))
    assert len(parts) == 2

    assert compilation_run(compilation_id=compilation.pk) == "done"
    compilation.refresh_from_db()
    assert compilation.attempts == 2 and compilation.state == Compilation.State.DONE
    assert Path(compilation.file.path).read_bytes()[:5] == b"%PDF-"


def test_the_score_summary_adds_up_as_the_score_board_does(build, world, office_user):
    from assessment.scoring import hint_window, points_text, score_board

    system = world.system
    board = score_board(system, hint_window(system.campaign))
    texts = page_texts(PdfReader(build(office_user, system, "pdf").file.path))
    summary = next(t for t in texts if t.startswith("自评得分汇总表"))
    for row in board.branches:
        score = points_text(row.score) if row.any_scored else "—"
        note = f"{row.unscored}项未评分" if row.unscored else ""
        line = f"{row.indicator.code}{row.indicator.title}{points_text(row.points)}{score}{note}"
        assert line in summary, line
    assert "3促进各民族交往交流交融30—1项未评分" in summary  # nothing scored under it: —, not 0
    assert f"合计{points_text(board.total_points)}{points_text(board.total)}" in summary
    assert f"尚差{points_text(board.gap)}分" in summary and board.gap > 0


def test_a_merged_page_turned_sideways_is_counted_but_not_stamped(build, world, office_user):
    from pypdf import PdfWriter

    from tests.assessment.conftest import node
    from tests.assessment.test_dossier_world import add_office_file, pdf_bytes, pick

    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes("SIDEWAYS-TABLE", pages=2)))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    leaf = node(world.system, "1.1.2")
    pick(leaf, 99, office_file=add_office_file(leaf, "横排统计表.pdf", out.getvalue(), "横排统计表"))

    texts = page_texts(PdfReader(build(office_user, world.system, "pdf").file.path))
    sideways = [i for i, t in enumerate(texts) if "SIDEWAYS-TABLE" in t]
    assert len(sideways) == 2
    assert "—" not in texts[sideways[0]]  # turned: left as it is
    assert f"—{sideways[1] + 1}—" in texts[sideways[1]]  # the next page's number counts the turned one


def test_the_dossier_page_says_when_a_finished_file_is_out_of_date(build, world, office_user, as_office):
    from django.urls import reverse

    from assessment.models import IndicatorAccount
    from tests.assessment.conftest import node

    system = world.system
    pdf = build(office_user, system, "pdf")
    assert len(pdf.source_digest) == 64
    url = reverse("assessment:dossier", args=[system.pk])
    assert 'data-testid="outdated"' not in as_office.get(url).content.decode()
    assert build(office_user, system, "zip").source_digest == pdf.source_digest  # same data, same digest

    account = IndicatorAccount.objects.get(indicator=node(system, "1.1.1"))
    account.score = account.score - 1
    account.save()
    page = as_office.get(url).content.decode()
    assert page.count('data-testid="outdated"') == 2 and "此文件不是最新" in page
