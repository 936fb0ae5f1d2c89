"""Shared API pieces: pagination with ?page_size= and error bodies people can read, and the wording of a
choice parameter in the API docs."""

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


def choices_text(choices) -> str:
    """A choice field's values with their labels, as the API docs list them: ``draft 草稿 / submitted 已报送``."""
    return " / ".join(f"`{value}` {label}" for value, label in choices)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "该记录已被他人修改，请刷新后再试。"
    default_code = "conflict"


def exception_handler(exc, context):
    """DRF's handler, plus domain errors from services turned into 400/403/404/409 with their message."""
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.http_status)
    return drf_exception_handler(exc, context)
