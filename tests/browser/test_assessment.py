"""测评 and 申报 in a real browser (Debian chromium via Playwright): the office confirms a suggested link on the
mapping page, picks the linked task's approved report, its photo and a named 示范点 of the task into the dossier,
scores the indicator, builds the dossier PDF from the dossier page and downloads it; the PDF is read back.

Jobs run in-process (as in the quick start). Screenshots go to /tmp/h5-assessment-*.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from assessment.models import IndicatorAccount, IndicatorLink
from campaign.models import ReportingPeriod
from reports.models import ProgressReport
from tests.assessment.conftest import build_small_system, node
from tests.assessment.test_dossier_sites import NAMING_TEXT, name_it, new_site
from tests.assessment.test_dossier_world import add_evidence, png_bytes
from tests.browser.conftest import login
from tests.factories import make_report
from units.models import Unit

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp")


def shot(page, name: str) -> Path:
    path = SHOTS / f"h5-assessment-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def world(plan, liaison_b, office_user):
    """The small system; leaf 2.1.2 (国民教育) has only a suggested link to task 9, whose report by 崆峒区 in
    2024 Q3 is approved and carries a photo; 崆峒区 has a named school site on task 9."""
    system = build_small_system(plan)
    kongtong = Unit.objects.get(code="kongtong")
    name_it(new_site(liaison_b, kongtong, "崆峒区第一中学", 9, category="school"), liaison_b, office_user)
    period = ReportingPeriod.objects.get(year=2024, quarter=3)
    report = make_report(
        period=period,
        unit=Unit.objects.get(code="kongtong"),
        task=9,
        state=ProgressReport.State.APPROVED,
        progress="全区中小学开设民族团结教育课程，覆盖率百分之百。",
    )
    photo = add_evidence(report, "课堂照片.png", png_bytes((40, 160, 60)), "民族团结教育课堂")
    return system, report, photo


def test_office_maps_picks_scores_and_downloads_the_dossier(page, live_server, office_user, world, tmp_path):
    system, report, photo = world
    leaf = node(system, "2.1.2")
    login(page, live_server, office_user.username)

    # 1. The mapping page: confirm the suggested task 9 on 2.1.2 (HTMX swaps the leaf's card).
    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/mapping/")
    card = page.locator(f"#leaf-{leaf.pk}")
    suggested = card.locator("[data-testid=link][data-task='9']")
    assert suggested.get_attribute("data-state") == "suggested"
    shot(page, "1-mapping")
    suggested.locator("[data-testid=confirm]").click()
    page.wait_for_selector(f"#leaf-{leaf.pk} [data-testid=link][data-task='9'][data-state='confirmed']")
    assert IndicatorLink.objects.get(indicator=leaf, task__number=9).state == IndicatorLink.State.CONFIRMED

    # 2. The leaf's page: its candidate is the approved report; pick the report and its photo.
    page.goto(f"{live_server.url}/assessment/indicators/{leaf.pk}/")
    candidate = page.locator("[data-testid=candidate]").filter(has_text="崆峒区 · 任务9")
    assert candidate.count() == 1
    candidate.locator("[data-testid=pick-report]").click()
    page.wait_for_selector("[data-testid=picks] [data-testid=pick]")
    page.locator(f"#pick-evidence-{photo.pk} [data-testid=pick-evidence]").click()
    expect(page.locator("[data-testid=picks] [data-testid=pick]")).to_have_count(2)  # (no eval under the CSP)
    site = page.locator("[data-testid=site-candidate]").filter(has_text="崆峒区第一中学")
    site.locator("[data-testid=pick-site]").click()
    expect(page.locator("[data-testid=picks] [data-testid=pick]")).to_have_count(3)
    expect(site.locator("[data-testid=picked]")).to_have_count(1)

    # 3. Score it, with its justification (below full points).
    score_box = page.locator("[data-testid=score-form]")
    score_box.locator("input[name=score]").fill("18")
    score_box.locator("textarea[name=justification]").fill("课程全覆盖，个别学校课时不足。")
    score_box.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=current-score]:has-text('18')")
    shot(page, "2-indicator")
    account = IndicatorAccount.objects.get(indicator=leaf)
    assert str(account.score) == "18.00"

    # 4. The dossier page: build the PDF, follow its progress page, download it.
    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/dossier/")
    # 报告 1, 图片 1 (the photo), PDF 0, 其他 0, 示范点 1 (its naming document counts with the site)
    assert page.locator("[data-testid='dossier-row-2.1.2']").inner_text().split()[-5:] == [
        "1",
        "1",
        "0",
        "0",
        "1",
    ]
    shot(page, "3-dossier")
    page.click("[data-testid=build-pdf]", timeout=120_000)
    page.wait_for_selector("[data-testid=download]", timeout=120_000)
    shot(page, "4-built")
    with page.expect_download() as info:
        page.click("[data-testid=download]")
    download = info.value
    assert download.suggested_filename == f"《{system.name}》-申报材料.pdf"
    path = tmp_path / "dossier.pdf"
    download.save_as(path)

    reader = PdfReader(path)
    outline: list[tuple[str, int]] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                outline.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    titles = [title for title, _ in outline]
    assert (
        "2.1.2 开展国民教育和学校民族团结教育" in titles
        and titles[:2] == ["目录", "自评得分汇总表"]
        and len(titles) == 2 + 9
    )
    leaf_page, next_page = (p for t, p in outline if t.startswith(("2.1.2", "3 ")))
    text = "".join("".join((p.extract_text() or "").split()) for p in reader.pages[leaf_page:next_page])
    assert "自评18分" in text and "课程全覆盖" in text and "全区中小学开设民族团结教育课程" in text
    assert any(p.images for p in reader.pages[leaf_page:next_page])
    assert "示范点：崆峒区第一中学" in text and "市级示范点" in text and NAMING_TEXT in text

    # The finished file is also on the dossier page for leadership to download.
    page.goto(f"{live_server.url}/assessment/systems/{system.pk}/dossier/")
    assert page.locator("[data-testid=download-pdf]").count() == 1
    shot(page, "5-dossier-with-file")
