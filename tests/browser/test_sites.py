"""The 示范点 register in a real browser: a liaison adds a site with a photo on a phone and asks for its naming;
the office names it; it appears in the 八进 table; the 示范点名录 PDF carries its photo."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from PIL import Image

from sites.documents import directory_pdf_bytes
from sites.models import Site
from sites.selectors import register_page_sites
from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import SCREENSHOTS, login, screenshot

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def photo_bytes() -> bytes:
    """A photo-like JPEG: a sky, a building and a door, so the thumbnail and the 名录 show something."""
    image = Image.new("RGB", (640, 480), (135, 190, 235))
    image.paste((200, 60, 50), (160, 160, 480, 480))
    image.paste((250, 220, 120), (290, 330, 350, 480))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def test_liaison_adds_a_site_on_a_phone_the_office_names_it_and_it_counts_in_the_eight_into_table(
    phone_page, page, live_server, liaison_b, unit_b, office_user, tmp_path
):
    # The liaison of 崆峒区 adds a community site with a photo, on a phone.
    login(phone_page, live_server, "liaison_b")
    phone_page.goto(f"{live_server.url}/sites/add/")
    assert_accessible(phone_page)
    assert_no_sideways_scroll(phone_page)
    phone_page.fill("#id_name", "崆峒区东关社区")
    phone_page.select_option("#id_category", "community")
    assert phone_page.locator("#id_county").input_value() == str(unit_b.pk)  # a county's own site
    phone_page.locator("#id_task").select_option(
        phone_page.locator("#id_task option", has_text="进社区(村)").first.get_attribute("value")
    )
    phone_page.fill("#id_address", "崆峒区东关街1号")
    phone_page.set_input_files(
        "#id_photo", files=[{"name": "社区大门.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
    )
    screenshot(phone_page, "sites-01-add-phone")
    phone_page.get_by_role("button", name="保存").click()
    phone_page.wait_for_load_state("networkidle")

    site = Site.objects.get(name="崆峒区东关社区")
    assert phone_page.url.endswith(f"/sites/{site.pk}/")
    assert "已添加示范点“崆峒区东关社区”" in phone_page.content()
    assert phone_page.get_by_test_id("site-status").inner_text() == "培育中（拟创建县级）"
    thumb = phone_page.get_by_test_id("site-photos").locator("img")
    assert thumb.count() == 1 and thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    assert_accessible(phone_page)
    assert_no_sideways_scroll(phone_page)
    screenshot(phone_page, "sites-02-detail-phone")

    # It asks for the naming: 市级, with the naming document.
    phone_page.select_option("#id_level", "city")
    phone_page.fill("#id_named_on", "2025-06-30")
    phone_page.set_input_files(
        "#id_document", files=[{"name": "命名文件.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    phone_page.get_by_role("button", name="提交命名申请").click()
    phone_page.wait_for_load_state("networkidle")
    assert "已提交命名申请，等待创建办审核。" in phone_page.content()
    assert_no_sideways_scroll(phone_page)

    # Not yet named: the 八进 table does not count it.
    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/dashboard/targets/")
    assert eight_into_cell(page, "崆峒区", "进社区(村)").startswith("0")

    # The office names it.
    page.goto(f"{live_server.url}/sites/namings/")
    assert "崆峒区东关社区" in page.content()
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    screenshot(page, "sites-03-naming-queue")
    page.get_by_role("button", name="通过，确认命名").click()
    page.wait_for_load_state("networkidle")
    assert "已命名“崆峒区东关社区”为市级示范点。" in page.content()
    site.refresh_from_db()
    assert (site.status, site.level, str(site.named_on)) == ("named", "city", "2025-06-30")

    # It now counts in the 八进 table: 崆峒区 × 进社区(村), and in the city's total.
    page.goto(f"{live_server.url}/dashboard/targets/")
    assert eight_into_cell(page, "崆峒区", "进社区(村)").startswith("1")
    assert_accessible(page)
    assert_no_sideways_scroll(page)
    screenshot(page, "sites-04-targets")
    page.get_by_test_id("eight-into").screenshot(path=str(SCREENSHOTS / "sites-04-eight-into-table.png"))

    # The liaison sees it named on the phone.
    phone_page.goto(f"{live_server.url}/sites/{site.pk}/")
    assert phone_page.get_by_test_id("site-status").inner_text() == "已命名 · 市级"
    assert_accessible(phone_page)
    assert_no_sideways_scroll(phone_page)
    screenshot(phone_page, "sites-05-named-phone")

    # The 示范点名录 PDF lists it with its photo.
    pdf = tmp_path / "名录.pdf"
    pdf.write_bytes(directory_pdf_bytes(list(register_page_sites()), site.named_on))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "崆峒区东关社区" in text and "民族团结进步示范点名录" in text.replace(" ", "")
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
    assert len(images.stdout.strip().splitlines()) >= 3  # header, rule, at least one image
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(SCREENSHOTS / "sites-06-directory"),
        ],
        check=True,
    )


def eight_into_cell(page, row_label: str, column_title: str) -> str:
    table = page.get_by_test_id("eight-into")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    column = headers.index(column_title)
    row = table.locator("tbody tr", has=page.locator("th", has_text=row_label)).first
    return row.locator("th, td").nth(column).inner_text().strip()
