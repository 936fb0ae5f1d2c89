"""Issue 12: the Content-Security-Policy (django-csp) in a real browser. A refused script or style is a console
error and a page that silently stops working; none of the office's pages may cause one, and the API docs still
draw for a signed-in person."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

PAGES_UNDER_CSP = [
    "/",
    "/dashboard/",
    "/dashboard/targets/",
    "/reports/review/",
    "/reports/reopen/",
    "/notifications/",
    "/notifications/bulletin/",
    "/plan/",
    "/units/",
    "/password/",
]


def test_office_pages_and_api_docs_run_under_the_policy(page, live_server, office_user, open_period):
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None,
    )
    login(page, live_server, office_user.username)
    for path in PAGES_UNDER_CSP:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # The period filter submits itself on change (static/js/portal.js, no inline onchange).
    page.goto(f"{live_server.url}/dashboard/")
    other = page.locator("#f-period option").nth(1).get_attribute("value")
    with page.expect_navigation():
        page.select_option("#f-period", other)
    filtered_url = page.url
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30000)
    operations = page.locator(".swagger-ui .opblock").count()
    ours = list(violations)
    page.goto(f"{live_server.url}/api/redoc/")
    page.wait_for_selector(".api-content h1", timeout=30000)
    redoc_title = page.locator(".api-content h1").first.inner_text()

    assert ours == []
    # Redoc still shows its vendor's logo from a CDN: refused, as it should be; nothing else is.
    assert all("https://cdn.redoc.ly/" in v for v in violations[len(ours) :]), violations
    assert f"period={other}" in filtered_url
    assert operations > 20
    assert "民族团结进步示范市创建工作平台 API" in redoc_title


def test_confirm_before_a_bulk_approval_still_asks(page, live_server, office_user, open_period):
    """data-confirm on a form (was onsubmit="return confirm(…)"): dismissing the question keeps the page."""
    login(page, live_server, office_user.username)
    page.goto(f"{live_server.url}/reports/review/")
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.eval_on_selector("#approve-many", "form => form.requestSubmit()")
    page.wait_for_timeout(300)

    assert questions == ["确定通过所勾选的报告吗？"]
    assert page.url == f"{live_server.url}/reports/review/"
