"""Dashboard API: completeness of a period and target progress. Office and leadership only.

Decimals are strings with two places (as DRF writes decimals); rates are fractions (0.8333) or null when
nothing is expected.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from campaign.models import Campaign, ReportingPeriod
from tasks.models import Section
from units.access import get_access
from units.models import Unit

from . import selectors_dashboard as sel

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


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: "须为整数。"}) from None


def _kind_param(request) -> str | None:
    kind = request.query_params.get("kind") or None
    if kind is not None and kind not in Unit.Kind.values:
        raise ValidationError({"kind": f"须为 {'/'.join(Unit.Kind.values)} 之一。"})
    return kind


def _section_param(request, campaign: Campaign) -> Section | None:
    section_id = _int_param(request, "section")
    if section_id is None:
        return None
    section = Section.objects.filter(campaign=campaign, pk=section_id).first()
    if section is None:
        raise ValidationError({"section": "没有这个工程/活动。"})
    return section


FILTER_PARAMS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Unit.Kind.values, description="单位类别"),
    OpenApiParameter("section", OpenApiTypes.INT, description="工程/活动 id"),
]


class CompletenessView(APIView):
    """某报告期各单位报送完成情况：应报、已报（已报送+已通过）、已通过、按时、报送率、按时率，及单位×任务矩阵。"""

    permission_classes = [IsAuthenticated, IsOfficeOrLeadership]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.INT, description="报告期 id；缺省为当前报告期"),
            *FILTER_PARAMS,
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        campaign = _campaign()
        period_id = _int_param(request, "period")
        if period_id is None:
            period = sel.default_period(campaign)
            if period is None:
                raise NotFound("没有报告期。")
        else:
            period = ReportingPeriod.objects.filter(pk=period_id).first()
            if period is None:
                raise NotFound("没有这个报告期。")
        kind = _kind_param(request)
        section = _section_param(request, period.campaign)
        comp = sel.completeness(period, kind=kind, section=section)
        number = {t.pk: t.number for t in comp.tasks}
        return Response(
            {
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
                    for row in comp.units
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
                    for row in comp.units
                ],
            }
        )


class TargetsView(APIView):
    """各量化目标按单位或范围的进度：已报（已通过报告的指标合计或最新值）、目标值、按时间进度应达值、红黄绿灯。"""

    permission_classes = [IsAuthenticated, IsOfficeOrLeadership]

    @extend_schema(
        parameters=[
            *FILTER_PARAMS,
            OpenApiParameter("light", OpenApiTypes.STR, enum=["green", "yellow", "red"]),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        campaign = _campaign()
        kind = _kind_param(request)
        section = _section_param(request, campaign)
        light = request.query_params.get("light") or None
        if light is not None and light not in sel.LIGHT_LABELS:
            raise ValidationError({"light": "须为 green/yellow/red 之一。"})
        today = timezone.localdate()
        rows = sel.target_progress(campaign, today=today, section=section)
        if kind:
            rows = [r for r in rows if r.unit is not None and r.unit.kind == kind]
        if light:
            rows = [r for r in rows if r.light == light]
        return Response(
            {
                "today": today,
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
