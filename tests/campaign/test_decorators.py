"""campaign.decorators: who may open a page, and how a refusal or a domain error becomes the one Chinese page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse

from campaign.decorators import (
    OFFICE_ONLY,
    READERS_ONLY,
    domain_errors_as_pages,
    office_required,
    readers_required,
)
from campaign.errors import DomainError, NotFound, PermissionDenied, StaleVersion

HEADINGS = {403: "无权访问", 404: "未找到"}


def nav_labels(body: str) -> list[str]:
    return re.findall(r'<a class="nav-link[^"]*" href="[^"]+"[^>]*>([^<]+)</a>', body)


def assert_error_page(response, status: int, *, message: str | None = None, nav: str) -> str:
    """The portal's error page: the status, the message in its box, a Chinese heading and the site's
    navigation (``nav`` is one link the person is expected to see), never Django's bare English page."""
    body = response.content.decode()
    assert response.status_code == status
    box = re.search(r'data-testid="error-message" data-status="(\d+)">(.*?)</div>', body, re.S)
    assert box is not None, body[:500]
    assert box.group(1) == str(status)
    assert HEADINGS.get(status, "无法完成操作") in box.group(2)
    if message is not None:
        assert f'<p class="mb-0">{message}</p>' in box.group(2)
    assert nav in nav_labels(body), nav_labels(body)
    assert '<html lang="zh-CN">' in body and "Forbidden" not in body and "Not Found" not in body
    return body


def ok(request):
    return HttpResponse("内容")


def raising(error: Exception):
    def view(request):
        raise error

    return view


def get(rf, user, view):
    request = rf.get("/some/page/")
    request.user = user
    return view(request)


@pytest.mark.parametrize("decorator", [domain_errors_as_pages, office_required, readers_required])
def test_an_anonymous_visitor_is_sent_to_the_login_page(rf, db, decorator):
    response = get(rf, AnonymousUser(), decorator(ok))

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/some/page/"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("没有这个报告期。"), 404),
        (PermissionDenied("只能查看本单位的报告。"), 403),
        (StaleVersion("该报告已被他人修改，请刷新后重试。"), 409),
        (DomainError("文件已超过保存期限被清理，请重新生成。", http_status=410), 410),
        (DomainError("请填写退回理由。"), 400),
    ],
)
def test_a_domain_error_becomes_the_error_page_with_its_status_and_message(rf, liaison_a, error, status):
    response = get(rf, liaison_a, domain_errors_as_pages(raising(error)))

    assert_error_page(response, status, message=error.message, nav="本季度报送")


def test_djangos_own_404_and_403_become_the_same_chinese_page(rf, liaison_a):
    # Django's own text is English ("No Unit matches …"), so it is never shown: a view with something
    # specific to say raises campaign.errors.NotFound.
    not_found = get(
        rf, liaison_a, domain_errors_as_pages(raising(Http404("No Unit matches the given query.")))
    )
    bare_404 = get(rf, liaison_a, domain_errors_as_pages(raising(Http404())))
    forbidden = get(rf, liaison_a, domain_errors_as_pages(raising(DjangoPermissionDenied("不行。"))))

    assert_error_page(not_found, 404, message="页面不存在，或您无权查看。", nav="实施方案")
    assert_error_page(bare_404, 404, message="页面不存在，或您无权查看。", nav="实施方案")
    assert_error_page(forbidden, 403, message="不行。", nav="实施方案")


def test_office_required_lets_only_the_office_in(rf, office_user, leadership_user, liaison_a):
    view = office_required(ok)

    assert get(rf, office_user, view).content.decode() == "内容"
    assert_error_page(get(rf, leadership_user, view), 403, message=OFFICE_ONLY, nav="总览")
    assert_error_page(get(rf, liaison_a, view), 403, message=OFFICE_ONLY, nav="本季度报送")


def test_readers_required_lets_the_office_and_leadership_in(rf, office_user, leadership_user, liaison_a):
    view = readers_required(ok)

    assert get(rf, office_user, view).content.decode() == "内容"
    assert get(rf, leadership_user, view).content.decode() == "内容"
    assert_error_page(get(rf, liaison_a, view), 403, message=READERS_ONLY, nav="本季度报送")
