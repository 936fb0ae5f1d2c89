"""400, 403, 404 and 500 are one Chinese page with the site's navigation, with DEBUG off (Django's handlers,
campaign/urls.py) and on (campaign.decorators.ErrorPagesMiddleware; the quick start runs with DEBUG on)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from campaign.decorators import BAD_REQUEST, CSRF_FAILED, FORBIDDEN, NOT_FOUND, SERVER_ERROR
from tests.campaign.test_decorators import assert_error_page
from tests.conftest import logged_in

MIDDLEWARE = "campaign.decorators.ErrorPagesMiddleware"
pytestmark = pytest.mark.urls("tests.campaign.error_urls")


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def liaison(liaison_a):
    # A crash is answered with the page, not re-raised into the test (as a browser would see it).
    return logged_in(Client(raise_request_exception=False), liaison_a)


def test_the_middleware_sits_where_it_sees_the_person_the_nonce_and_the_slash():
    order = django_settings.MIDDLEWARE
    assert MIDDLEWARE in order, (
        "campaign/settings.py MIDDLEWARE needs campaign.decorators.ErrorPagesMiddleware"
    )
    at = order.index(MIDDLEWARE)
    assert order.index("django.contrib.auth.middleware.AuthenticationMiddleware") < at
    assert order.index("django.middleware.common.CommonMiddleware") < at
    assert order.index("csp.middleware.CSPMiddleware") < at


def test_an_unknown_address_is_the_chinese_404_page_with_the_navigation(liaison, debug):
    response = liaison.get("/no-such-page/")

    assert_error_page(response, 404, message=NOT_FOUND, nav="本季度报送")


def test_a_views_own_404_is_the_chinese_page_not_djangos_text(liaison, debug):
    body = assert_error_page(liaison.get("/boom/404/"), 404, message=NOT_FOUND, nav="实施方案")

    assert "No Thing matches" not in body


@pytest.mark.parametrize("path", ["/boom/400/", "/boom/400-suspicious/"])
def test_a_bad_request_is_the_chinese_400_page(liaison, debug, path):
    body = assert_error_page(liaison.get(path), 400, message=BAD_REQUEST, nav="实施方案")

    assert "bad things" not in body and "odd header" not in body


def test_a_refusal_without_chinese_words_gets_the_portals_words(liaison, debug):
    assert_error_page(liaison.get("/boom/403/"), 403, message=FORBIDDEN, nav="实施方案")


def test_a_refusal_with_its_own_chinese_reason_shows_it(liaison, debug):
    assert_error_page(
        liaison.get("/boom/403-chinese/"), 403, message="只有创建办可以导出此名单。", nav="实施方案"
    )


def test_a_crash_is_the_chinese_500_page_and_hides_the_traceback(liaison, debug, caplog):
    response = liaison.get("/boom/500/")

    body = response.content.decode()
    assert response.status_code == 500
    assert 'data-testid="error-message" data-status="500"' in body
    assert "服务器出错" in body and SERVER_ERROR in body
    assert "本季度报送" in body  # the navigation
    assert "RuntimeError" not in body and "Traceback" not in body
    # … and the traceback is in the log for whoever runs the site.
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_the_office_asking_for_a_period_that_does_not_exist_gets_the_chinese_404(as_office, debug):
    assert_error_page(as_office.get("/dashboard/?period=999"), 404, nav="看板")


def test_a_visitor_gets_the_chinese_404_with_a_way_to_log_in(client, plan, debug):
    response = client.get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert 'data-status="404"' in body and NOT_FOUND in body
    assert 'href="/login/?next=/no-such-page/"' in body


def test_a_missing_slash_is_still_added_before_the_404(liaison, debug):
    response = liaison.get("/plan")

    assert response.status_code == 301
    assert response["Location"] == "/plan/"


def test_the_api_answers_an_unknown_address_in_json(liaison, debug):
    response = liaison.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}


def test_a_stale_form_is_told_in_chinese_that_nothing_was_saved(liaison_a, debug):
    assert django_settings.CSRF_FAILURE_VIEW == "campaign.decorators.csrf_failure"
    client = logged_in(Client(enforce_csrf_checks=True), liaison_a)

    response = client.post("/notifications/settings/", {"email_enabled": "on"})

    assert_error_page(response, 403, message=CSRF_FAILED, nav="本季度报送")
