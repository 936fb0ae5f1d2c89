"""Every page a liaison and the office can reach, on a phone (390×844) and a desktop (1366×900): nothing
scrolls sideways on the phone, and axe-core (WCAG 2 A/AA) finds nothing on either. Screenshots of each page go
to var/screenshots/sweep-<who>-<page>-<phone|desktop>.png.

The pages are collected from the navigation the person sees, plus the main detail pages behind it (a report,
a unit, a task, the dashboards with a filter, the inbox, the plan management pages) and the error pages
(403, 404) they can run into.
"""

from __future__ import annotations

import re

import pytest

from campaign.models import Campaign
from reports.models import ProgressReport
from tests.browser.a11y import assert_no_sideways_scroll, axe_violations, describe
from tests.browser.conftest import login, screenshot
from tests.factories import make_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
State = ProgressReport.State


@pytest.fixture
def world(plan, open_period, unit_a, unit_b):
    """A handful of reports in every state, in the open quarter and the one before."""
    previous = plan.periods.get(year=2025, quarter=3)
    states = [State.APPROVED, State.SUBMITTED, State.RETURNED, State.DRAFT]
    made = {}
    for i, task in enumerate((22, 23, 24, 25, 26, 27)):
        made[task] = make_report(
            period=open_period, unit=unit_b, task=task, state=states[i % 4], metrics={"demo_sites": 1 + i}
        )
        make_report(period=previous, unit=unit_b, task=task, state=State.APPROVED, metrics={"demo_sites": 2})
    make_report(period=open_period, unit=unit_a, task=3, state=State.SUBMITTED, metrics={"lectures": 3})
    from tasks.models import Task
    from tests.reports.dashboards.world import site

    named = site(unit_b, Task.objects.get(campaign=plan, number=24), name="崆峒区东关社区民族团结示范点")
    site(unit_b, None, named_on=None, name="崆峒区西郊学校民族团结示范点")
    from tests.assessment.conftest import build_small_system, node

    system = build_small_system(plan)
    return {
        "report": made[23],
        "period": open_period,
        "site": named,
        "system": system,
        "leaf": node(system, "1.1.1"),
    }


def nav_paths(page) -> list[str]:
    return page.locator("#mainnav a.nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def sweep(page, live_server, who: str, size: str, paths: list[tuple[str, str, int]]) -> list[str]:
    """Visits each (name, path, status); returns what went wrong, page by page, so one run shows it all."""
    problems = []
    for name, path, status in paths:
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        if response.status != status:
            problems.append(f"{path}: HTTP {response.status}, expected {status}")
        if size == "phone":
            try:
                assert_no_sideways_scroll(page)
            except AssertionError as error:
                problems.append(str(error))
        violations = axe_violations(page)
        if violations:
            problems.append(f"axe-core {path} ({size}):\n" + describe(violations))
        screenshot(page, f"sweep-{who}-{name}-{size}")
    return problems


def liaison_pages(world) -> list[tuple[str, str, int]]:
    report = world["report"]
    return [
        ("home", "/", 200),
        ("period", "/reports/", 200),
        ("history", "/reports/history/", 200),
        ("report", f"/reports/{report.pk}/", 200),
        ("fill", f"/reports/fill/{report.period_id}/{report.unit_id}/{report.task_id}/", 200),
        ("plan", "/plan/", 200),
        ("task", "/plan/tasks/26/", 200),
        ("units", "/units/", 200),
        ("unit", "/units/kongtong/", 200),
        ("compilations", "/compilations/", 200),
        ("inbox", "/notifications/", 200),
        ("sites", "/sites/", 200),
        ("site", f"/sites/{world['site'].pk}/", 200),
        ("site-add", "/sites/add/", 200),
        ("notification-settings", "/notifications/settings/", 200),
        ("password", "/password/", 200),
        ("error-403", "/dashboard/", 403),
        ("error-403-assessment", "/assessment/", 403),
        ("error-404", "/no-such-page/", 404),
        ("error-404-report", "/reports/999999/", 404),
    ]


def office_pages(world) -> list[tuple[str, str, int]]:
    report = world["report"]
    plan_pk = Campaign.current().pk
    system = world["system"].pk
    return [
        ("home", "/", 200),
        ("review", "/reports/review/", 200),
        ("report", f"/reports/{report.pk}/", 200),
        ("dashboard", "/dashboard/", 200),
        ("dashboard-county", "/dashboard/?kind=county", 200),
        ("targets", "/dashboard/targets/", 200),
        ("trends", "/dashboard/trends/", 200),
        ("leadership", "/dashboard/leadership/", 200),
        ("dashboard-unit", "/dashboard/units/kongtong/", 200),
        ("plan", "/plan/", 200),
        ("task", "/plan/tasks/26/", 200),
        ("units", "/units/", 200),
        ("unit", "/units/kongtong/", 200),
        ("compilations", "/compilations/", 200),
        ("compilation-new", "/compilations/new/", 200),
        ("inbox", "/notifications/", 200),
        ("bulletin", "/notifications/bulletin/", 200),
        ("sites", "/sites/", 200),
        ("site", f"/sites/{world['site'].pk}/", 200),
        ("site-namings", "/sites/namings/", 200),
        ("site-merge", "/sites/merge/", 200),
        ("import", "/plan/import/", 200),
        ("plans", "/plan/import/plans/", 200),
        ("plan-detail", f"/plan/import/plans/{plan_pk}/", 200),
        ("assessment", "/assessment/", 200),
        ("assessment-import", "/assessment/import/", 200),
        ("assessment-new", "/assessment/systems/new/", 200),
        ("assessment-system", f"/assessment/systems/{system}/", 200),
        ("assessment-mapping", f"/assessment/systems/{system}/mapping/", 200),
        ("assessment-indicator", f"/assessment/indicators/{world['leaf'].pk}/", 200),
        ("assessment-scores", f"/assessment/systems/{system}/scores/", 200),
        ("assessment-dossier", f"/assessment/systems/{system}/dossier/", 200),
        ("assessment-grants", f"/assessment/systems/{system}/grants/", 200),
        ("error-404-period", "/dashboard/?period=999", 404),
        ("error-404", "/no-such-page/", 404),
    ]


def check_nav_is_covered(page, paths):
    visited = {re.sub(r"\?.*", "", p) for _n, p, _s in paths}
    missing = [href for href in nav_paths(page) if href not in visited]
    assert not missing, f"navigation links not in the sweep: {missing}"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_liaison_page_fits_a_phone_and_passes_axe(request, live_server, world, liaison_b, size):
    page = request.getfixturevalue("phone_page" if size == "phone" else "page")
    login(page, live_server, "liaison_b")
    paths = liaison_pages(world)
    check_nav_is_covered(page, paths)

    problems = sweep(page, live_server, "liaison", size, paths)

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_office_page_fits_a_phone_and_passes_axe(request, live_server, world, office_user, size):
    page = request.getfixturevalue("phone_page" if size == "phone" else "page")
    login(page, live_server, "office_t")
    paths = office_pages(world)
    check_nav_is_covered(page, paths)

    problems = sweep(page, live_server, "office", size, paths)

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_login_page_fits_a_phone_and_passes_axe(request, live_server, plan, size):
    page = request.getfixturevalue("phone_page" if size == "phone" else "page")

    problems = sweep(page, live_server, "visitor", size, [("login", "/login/", 200)])

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_unit_leader_page_fits_a_phone_and_passes_axe(request, live_server, world, unit_b, size):
    from tests.conftest import make_user
    from units.models import Membership

    leader = make_user("leader_b", surname="马", given="领")
    Membership.objects.create(user=leader, unit=unit_b, role=Membership.Role.LEADER)
    unit_b.requires_signoff = True
    unit_b.save(update_fields=["requires_signoff"])
    waiting = make_report(period=world["period"], unit=unit_b, task=28, state=State.AWAITING_SIGNOFF)
    page = request.getfixturevalue("phone_page" if size == "phone" else "page")
    login(page, live_server, "leader_b")
    paths = [
        ("home", "/", 200),
        ("period", "/reports/", 200),
        ("signoff", "/reports/signoff/", 200),
        ("report", f"/reports/{waiting.pk}/", 200),
        ("plan", "/plan/", 200),
        ("units", "/units/", 200),
        ("sites", "/sites/", 200),
        ("compilations", "/compilations/", 200),
    ]
    check_nav_is_covered(page, paths)

    problems = sweep(page, live_server, "leader", size, paths)

    assert not problems, "\n".join(problems)
