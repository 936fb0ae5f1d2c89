"""The shell every page shares, in Debian chromium: the error pages (Chinese, with the navigation), touch
targets of at least 44 px on a phone, readable navigation links, charts that scale, the favicon and the print
layout of the report matrix. Screenshots: var/screenshots/shell-*.png."""

from __future__ import annotations

import pytest

from tests.browser.a11y import assert_accessible, assert_no_sideways_scroll
from tests.browser.conftest import login, screenshot
from tests.factories import make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTRAST = """(el) => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = el; while (getComputedStyle(bg).backgroundColor.match(/rgba\\(.*, 0\\)|transparent/)) bg = bg.parentElement;
  const back = rgb(getComputedStyle(bg).backgroundColor);
  const [r, g, b, a = 1] = rgb(getComputedStyle(el).color);
  const fore = [r, g, b].map((c, i) => c * a + back[i] * (1 - a));
  const [hi, lo] = [lum(fore), lum(back)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_error_pages_are_chinese_with_the_navigation(request, live_server, liaison_a, open_period, size):
    page = request.getfixturevalue("phone_page" if size == "phone" else "page")
    login(page, live_server, "liaison_a")

    for path, status, heading in [
        ("/dashboard/", 403, "无权访问"),
        ("/notifications/bulletin/", 403, "无权访问"),
        ("/no-such-page/", 404, "未找到"),
        ("/reports/999999/", 404, "未找到"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == status, path
        message = page.get_by_test_id("error-message")
        assert message.get_attribute("data-status") == str(status)
        assert message.locator("h1").inner_text() == heading
        assert "Forbidden" not in page.content() and "Not Found" not in page.content()
        # The navigation is there: on a phone behind the menu button, on a desktop in the bar.
        nav = page.locator("#mainnav a.nav-link")
        assert nav.evaluate_all("links => links.map(a => a.textContent)")[:2] == ["首页", "本季度报送"]
        if size == "phone":
            page.get_by_role("button", name="展开菜单").click()
        page.get_by_role("link", name="本季度报送").wait_for(state="visible")
        assert page.get_by_role("link", name="返回首页").is_visible()
        assert_accessible(page)
        screenshot(page, f"shell-error-{status}-{path.strip('/').replace('/', '-')}-{size}")


def test_touch_targets_are_44_px_on_a_phone(phone_page, live_server, office_user, liaison_a, open_period):
    page = phone_page
    login(page, live_server, "office_t")

    bell = box(page, "[data-testid=bell]")
    assert bell["width"] >= 44 and bell["height"] >= 44, bell
    toggler = box(page, ".navbar-toggler")
    assert toggler["height"] >= 44, toggler

    page.goto(f"{live_server.url}/compilations/new/")
    radio = page.locator(".form-check:has(input[type=radio])").first
    assert radio.bounding_box()["height"] >= 44
    assert radio.locator("input").bounding_box()["width"] >= 20
    page.goto(f"{live_server.url}/notifications/settings/")
    switch = page.locator(".form-check:has(input[type=checkbox])").first
    assert switch.bounding_box()["height"] >= 44
    page.goto(f"{live_server.url}/notifications/")
    for button in page.locator("main .btn").all():
        assert button.bounding_box()["height"] >= 44, button.inner_text()
    screenshot(page, "shell-touch-inbox-phone")


def test_inactive_navigation_links_are_readable(page, live_server, office_user, open_period):
    login(page, live_server, "office_t")

    links = page.locator("#mainnav a.nav-link:not(.active)")
    assert links.count() >= 8
    ratios = [link.evaluate(CONTRAST) for link in links.all()]
    assert min(ratios) >= 4.5, ratios
    page.locator("nav.navbar").screenshot(
        path=str(screenshot(page, "shell-nav").with_name("shell-navbar.png"))
    )


def test_charts_scale_with_the_window(request, live_server, office_user, open_period, unit_a):
    make_report(period=open_period, unit=unit_a, task=3, state="approved", metrics={"lectures": 3})
    widths = {}
    for size in ("phone", "desktop"):
        page = request.getfixturevalue("phone_page" if size == "phone" else "page")
        login(page, live_server, "office_t")
        for path in ("/dashboard/", "/dashboard/targets/", "/dashboard/trends/"):
            page.goto(f"{live_server.url}{path}")
            chart = page.locator(".chart svg").first
            assert chart.get_attribute("viewBox").startswith("0 0 ")
            widths[size, path] = chart.bounding_box()["width"]
            if size == "phone":
                assert_no_sideways_scroll(page)
        screenshot(page, f"shell-charts-{size}")

    for path in ("/dashboard/", "/dashboard/targets/", "/dashboard/trends/"):
        assert widths["phone", path] <= 390 - 16, widths  # inside the phone's column, not a fixed 540 px
        assert widths["desktop", path] > 540, widths


def test_the_favicon_is_served(page, live_server, liaison_a, open_period):
    login(page, live_server, "liaison_a")

    href = page.locator("link[rel=icon]").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()


def test_the_matrix_prints_landscape_with_every_column_and_its_colours(
    page, live_server, office_user, open_period, unit_b
):
    for task in (1, 15, 29):
        make_report(period=open_period, unit=unit_b, task=task, state="approved")
    login(page, live_server, "office_t")
    page.goto(f"{live_server.url}/dashboard/")
    # A4 landscape less the margins, at 96 px an inch: about 1047 px.
    page.set_viewport_size({"width": 1047, "height": 740})
    page.emulate_media(media="print")

    assert page.locator("nav.navbar").is_hidden()
    assert page.locator(".dash-filters").first.is_hidden()
    wrap = page.locator(".matrix-wrap").first
    assert wrap.evaluate("el => getComputedStyle(el).overflowX") == "visible"
    last = page.locator(".matrix thead th").last.bounding_box()
    assert last["x"] + last["width"] <= 1047, last  # column 29 is on the paper
    cell = page.locator(".matrix td.c-approved").first
    assert cell.evaluate("el => getComputedStyle(el).printColorAdjust") == "exact"
    screenshot(page, "shell-print-matrix")
