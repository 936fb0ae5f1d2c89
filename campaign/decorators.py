"""The one way a page says who may open it and turns a domain error into a page.

Every app's page views use these; a service or selector raises ``campaign.errors.DomainError`` (or one of
its kinds) and the person sees a Chinese page with the message, the right status and the site's navigation:

    @office_required            # 创建办 only
    def review_queue(request): ...

    @readers_required           # 创建办 and 领导 (dashboards)
    def targets(request): ...

    @domain_errors_as_pages     # any signed-in person; the view checks finer rules through services
    def report_page(request, pk): ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.log import log_response

from units.access import Access, get_access

from .errors import DomainError, PermissionDenied

OFFICE_ONLY = "此页面仅供创建办工作人员使用。"
READERS_ONLY = "此页面仅向创建办和领导开放。"
NOT_FOUND = "页面不存在，或您无权查看。"
FORBIDDEN = "您没有权限进行此操作。如需开通，请联系创建办。"
CSRF_FAILED = "页面已过期或安全校验未通过，刚才提交的内容没有保存。请返回上一页，刷新后重新提交（如有较长的文字，请先复制保留）。"
BAD_REQUEST = "提交的内容不完整或格式不对，无法处理。请返回上一页重新操作；如果反复出现，请联系创建办。"
SERVER_ERROR = (
    "服务器出错，刚才的操作可能没有完成。请稍后重试；如果反复出现，请联系创建办并告知出错的时间和页面。"
)
# When even the page with the navigation cannot be drawn (the database is down, so neither the person nor the
# menu can be read): the same words on a bare page.
BARE_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
    '<body><h1>{title}</h1><p>{message}</p><p><a href="/">返回首页</a></p></body></html>'
)
HEADINGS = {400: "无法完成操作", 403: "无权访问", 404: "未找到", 500: "服务器出错"}


def error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The portal's one error page: the message, a heading for the status, and the way back. The API's
    paths answer the same message as JSON (``{"detail": …}``, as Django REST framework does)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})
    return render(request, "error.html", {"message": message, "status": status}, status=status)


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# Django's handler400/403/404/500 (campaign/urls.py) when DEBUG is off, and ErrorPagesMiddleware when it is on.
def _handler_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    try:
        return error_page(request, message, status)
    except Exception:  # noqa: BLE001 - whatever broke the request may break the navigation too
        page = BARE_PAGE.format(title=HEADINGS[status], message=message)
        return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _handler_page(request, BAD_REQUEST, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A refusal with its own Chinese reason shows it; Django's and libraries' English texts are not shown.
    text = str(exception or "")
    return _handler_page(request, text if _chinese(text) else FORBIDDEN, 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: Django's own page for a stale or missing CSRF token is English."""
    return _handler_page(request, CSRF_FAILED, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _handler_page(request, NOT_FOUND, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _handler_page(request, SERVER_ERROR, 500)


class ErrorPagesMiddleware:
    """With DEBUG on, Django answers an unknown address, an Http404, a bad request and a crash with its
    English technical pages instead of calling the handlers; the quick start runs with DEBUG on, so it would
    show them to the people trying the portal. This gives them the same Chinese page as production. The
    traceback of a crash still goes to the console (the django.request log).

    Sits after AuthenticationMiddleware (the page's navigation needs the person), after the CSP middleware
    (the page gets its nonce header) and before APPEND_SLASH's CommonMiddleware sees the 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and getattr(request, "resolver_match", None) is None
        ):
            return page_not_found(request)
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG:
            return None  # Django calls the handlers
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, DjangoPermissionDenied):
            return None  # handler403 runs in both modes
        if isinstance(exception, BadRequest | SuspiciousOperation):
            response = bad_request(request, exception)
            log_response(
                "%s: %s",
                str(exception),
                request.path,
                response=response,
                request=request,
                exception=exception,
            )
            return response
        response = server_error(request)
        log_response(
            "Internal Server Error: %s",
            request.path,
            response=response,
            request=request,
            exception=exception,
            level="error",
        )
        return response


def domain_errors_as_pages(view: Callable) -> Callable:
    """Signed-in people only; a DomainError becomes a page with its message and HTTP status (404 for
    NotFound, 403 for PermissionDenied, 409 for a stale version …), as do Django's own 404 and 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return error_page(request, error.message, error.http_status)
        except Http404:
            # Django's own 404 text is English ("No Unit matches …"); a view with something more specific
            # to say raises campaign.errors.NotFound with its message.
            return error_page(request, NOT_FOUND, 404)
        except DjangoPermissionDenied as error:
            return error_page(request, str(error) or READERS_ONLY, 403)

    return wrapped


def _requires(allowed: Callable[[Access], bool], message: str) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not allowed(get_access(request.user)):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return domain_errors_as_pages(checked)

    return decorator


office_required = _requires(lambda access: access.is_office, OFFICE_ONLY)
readers_required = _requires(lambda access: access.sees_everything, READERS_ONLY)
