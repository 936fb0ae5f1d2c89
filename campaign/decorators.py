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

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from units.access import Access, get_access

from .errors import DomainError, PermissionDenied

OFFICE_ONLY = "此页面仅供创建办工作人员使用。"
READERS_ONLY = "此页面仅向创建办和领导开放。"
NOT_FOUND = "页面不存在，或您无权查看。"


def error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The portal's one error page: the message, a heading for the status, and the way back."""
    return render(request, "error.html", {"message": message, "status": status}, status=status)


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
