"""Debian chromium driven by Playwright against pytest-django's live server. Screenshots go to var/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def pytest_collection_modifyitems(config, items):
    # One Playwright per run: a second session-scoped `browser` fixture (a module importing these fixtures
    # from outside tests/browser/) starts a second sync_playwright inside the first one's event loop, and
    # every browser test after it errors. Browser tests therefore live here, under this conftest.
    here = Path(__file__).parent
    strays = [
        item.nodeid for item in items if item.get_closest_marker("browser") and here not in item.path.parents
    ]
    if strays:
        raise pytest.UsageError(
            "浏览器测试须放在 tests/browser/ 下（共用一个 Playwright）：" + "，".join(strays)
        )
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"没有找到 {CHROMIUM}：apt-get install chromium（.ci/run 会安装）")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, live_server, username: str, password: str = "test-pass-123") -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
