"""Dashboard API: completeness of a period and target progress. Office and leadership only.

Decimals are strings with two places (as DRF writes decimals); rates are fractions (0.8333) or null when
nothing is expected.

At province scale a period has ~1,000 units × 29 tasks and the targets ~3,000 rows, so both endpoints page
their long lists (``units`` with ``matrix``; ``targets``) like every list endpoint: ``?page=`` and
``?page_size=`` (default 100, at most 1000), with ``count``, ``next``, ``previous``, ``page`` and ``pages``
beside them. The summaries (``groups``, ``overall``; ``totals`` by light) always cover every row.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.api import Pagination, choices_text
from campaign.lights import GREEN, RED, YELLOW
from campaign.models import Campaign
from units.access import get_access
from units.models import Unit

from . import selectors as sel
from .filters import LIGHT_FILTERS, FilterError, Filters

CENT = Decimal("0.01")


class IsOfficeOrLeadership(BasePermission):
    message = "看板数据仅向创建办和领导开放。"

    def has_permission(self, request, view) -> bool:
        return get_access(request.user).sees_everything


def _decimal(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _campaign() -> Campaign:
    campaign = Campaign.current()
    if campaign is None:
        raise NotFound("尚未设置创建活动。")
    return campaign


def _filters(request, campaign: Campaign, *, needs_period: bool = False) -> Filters:
    """The page's own filter parser, strict: a bad parameter is a 400 naming it, an unknown period a 404."""
    try:
        return Filters(request.query_params, campaign, needs_period=needs_period, strict=True)
    except FilterError as error:
        if error.not_found:
            raise NotFound(error.message) from None
        raise ValidationError({error.field: error.message}) from None


class DashboardPagination(Pagination):
    page_size = 100


def _paged(request, view, items: list) -> tuple[list, dict]:
    """One page of ``items`` and where it sits (an unknown page is a 404, as on every list endpoint)."""
    paginator = DashboardPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return page, {
        "count": paginator.page.paginator.count,
        "page": paginator.page.number,
        "pages": paginator.page.paginator.num_pages,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
    }


TAG = "看板"
FILTER_PARAMS = [
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        enum=Unit.Kind.values,
        description=f"单位类别：{choices_text(Unit.Kind.choices)}；不填为全部单位",
    ),
    OpenApiParameter("section", OpenApiTypes.INT, description="工程/活动 id：只看其中的任务；不填为全部"),
]
PERIOD_PARAM = OpenApiParameter(
    "period", OpenApiTypes.INT, description="报告期 id：截至该报告期末的数据；缺省为当前（今日）"
)
PAGE_PARAMS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="页码，从 1 开始"),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"每页条数，默认 {DashboardPagination.page_size}，最多 {DashboardPagination.max_page_size}",
    ),
]


class CompletenessView(APIView):
    permission_classes = [IsAuthenticated, IsOfficeOrLeadership]

    @extend_schema(
        tags=[TAG],
        summary="报送完成情况",
        description=(
            "某报告期各单位的报送完成情况：应报、已报（已报送+已通过）、已通过、按时、报送率、按时率，"
            "按单位类别的小计和全市合计，以及单位×任务矩阵（每格为该报告的状态）。"
            "比率为小数（0.8333），无应报时为 null。单位及其矩阵分页返回（count、next、previous），"
            "小计与合计始终覆盖全部单位。仅创建办和领导可查看。"
        ),
        parameters=[
            OpenApiParameter("period", OpenApiTypes.INT, description="报告期 id；缺省为当前报告期"),
            *FILTER_PARAMS,
            *PAGE_PARAMS,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        campaign = _campaign()
        filters = _filters(request, campaign, needs_period=True)
        period = filters.period
        if period is None:
            raise NotFound("没有报告期。")
        kind, section = filters.kind or None, filters.section
        comp = sel.completeness(period, kind=kind, section=section, with_cells=False)
        rows, paging = _paged(request, self, comp.units)
        sel.fill_cells(comp, rows)
        number = {t.pk: t.number for t in comp.tasks}
        return Response(
            {
                **paging,
                "period": {
                    "id": period.pk,
                    "label": period.label,
                    "starts_on": period.starts_on,
                    "ends_on": period.ends_on,
                    "due_on": period.due_on,
                    "state": period.state,
                },
                "filters": {"kind": kind, "section": section.pk if section else None},
                "units": [
                    {
                        "unit": row.unit.pk,
                        "unit_code": row.unit.code,
                        "unit_name": row.unit.name,
                        "kind": row.unit.kind,
                        **row.as_dict(),
                    }
                    for row in rows
                ],
                "groups": [{"kind": g.kind, "label": g.label, **g.totals.as_dict()} for g in comp.groups],
                "overall": {"units": len(comp.units), **comp.overall.as_dict()},
                "tasks": [{"id": t.pk, "number": t.number, "title": t.title} for t in comp.tasks],
                "matrix": [
                    {
                        "unit": row.unit.pk,
                        "cells": [
                            {
                                "task": number[task_id],
                                "state": cell.state,
                                "report": cell.report_id,
                                "on_time": cell.on_time,
                            }
                            for task_id, cell in sorted(row.cells.items(), key=lambda item: number[item[0]])
                            if task_id in number
                        ],
                    }
                    for row in rows
                ],
            }
        )


class TargetsView(APIView):
    permission_classes = [IsAuthenticated, IsOfficeOrLeadership]

    @extend_schema(
        tags=[TAG],
        summary="量化目标进度",
        description=(
            "各量化目标按单位或范围的进度：已报（已通过报告的指标，流量类逐季相加，存量类取最新值）、"
            "目标值、按时间进度应达值和红黄绿灯。数值为保留两位小数的字符串。各行分页返回（count、next、"
            "previous），totals 为全部行按灯的计数。仅创建办和领导可查看。"
        ),
        parameters=[
            *PAGE_PARAMS,
            PERIOD_PARAM,
            *FILTER_PARAMS,
            OpenApiParameter(
                "light",
                OpenApiTypes.STR,
                enum=[GREEN, YELLOW, RED],
                description=f"只看某种灯：{choices_text(LIGHT_FILTERS)}",
            ),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        campaign = _campaign()
        filters = _filters(request, campaign)
        all_rows = filters.target_rows(
            sel.target_progress(campaign, as_of=filters.as_of, section=filters.section)
        )
        rows, paging = _paged(request, self, all_rows)
        totals = {GREEN: 0, YELLOW: 0, RED: 0}
        for r in all_rows:
            totals[r.light] += 1
        return Response(
            {
                **paging,
                "totals": totals,
                "today": filters.today,
                "as_of": filters.as_of,
                "targets": [
                    {
                        "target": r.target.pk,
                        "task": r.target.task.number,
                        "metric": r.target.metric.code,
                        "metric_name": r.target.metric.name,
                        "unit_of_measure": r.target.metric.unit_of_measure,
                        "comparison": r.target.comparison,
                        "scope": r.target.scope,
                        "scope_label": r.scope_label,
                        "unit": r.unit.pk if r.unit else None,
                        "unit_name": r.unit.name if r.unit else None,
                        "window": r.window_label,
                        "window_start": r.window.start,
                        "window_end": r.window.end,
                        "reported": _decimal(r.reported),
                        "promised": _decimal(r.promised),
                        "expected_by_now": _decimal(r.expected),
                        "light": r.light,
                    }
                    for r in rows
                ],
            }
        )


api_urlpatterns = [
    path("dashboard/completeness/", CompletenessView.as_view(), name="dashboard-completeness"),
    path("dashboard/targets/", TargetsView.as_view(), name="dashboard-targets"),
]


def register(router) -> None:
    """Plain API views only (see ``api_urlpatterns``); nothing on the router."""
