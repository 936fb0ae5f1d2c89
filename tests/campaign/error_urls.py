"""The portal's URLs plus views that fail in each way Django turns into a 400, 403, 404 or 500 (for
tests/campaign/test_error_pages.py). Importing campaign.urls brings its handler400…handler500 along."""

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from campaign.urls import *  # noqa: F403
from campaign.urls import urlpatterns as portal_urlpatterns


def _raise(error: Exception):
    def view(request):
        raise error

    return view


urlpatterns = [
    path("boom/400/", _raise(BadRequest("bad things in the query"))),
    path("boom/400-suspicious/", _raise(SuspiciousOperation("odd header"))),
    path("boom/403/", _raise(PermissionDenied())),
    path("boom/403-chinese/", _raise(PermissionDenied("只有创建办可以导出此名单。"))),
    path("boom/404/", _raise(Http404("No Thing matches the given query."))),
    path("boom/500/", _raise(RuntimeError("a bug"))),
    *portal_urlpatterns,
]
