"""API: /api/v1/indicator-systems/, /api/v1/indicators/?system=ID. Read-only, for the office and leadership
(``access.can_read``); unit people get 403, anonymous 401. A branch's points are the sum of its leaves (as on
the pages, ``selectors.indicator_tree``); ``score`` is the office's self-score (a branch: the sum of its scored
leaves)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from campaign.api import choices_text
from units.access import get_access

from . import access as rules
from .models import Indicator, IndicatorAccount, IndicatorLink, IndicatorSystem

TAG = "测评与申报"


class CanReadAssessment(BasePermission):
    message = rules.READ_ONLY

    def has_permission(self, request, view) -> bool:
        return rules.can_read(get_access(request.user))


class IndicatorSystemSerializer(serializers.ModelSerializer):
    points = serializers.DecimalField(
        max_digits=8, decimal_places=2, read_only=True, help_text="末级指标分值合计（应等于满分）"
    )
    score = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="创建办已评末级指标的自评得分合计；尚未评分时为 null",
    )
    indicator_count = serializers.IntegerField(read_only=True, help_text="指标总数（一级、二级、三级）")
    leaf_count = serializers.IntegerField(read_only=True, help_text="计分的末级指标个数")

    class Meta:
        model = IndicatorSystem
        fields = [
            "id",
            "campaign",
            "name",
            "scope",
            "source",
            "description",
            "is_example",
            "is_active",
            "full_score",
            "pass_score",
            "points",
            "score",
            "indicator_count",
            "leaf_count",
        ]
        extra_kwargs = {
            "campaign": {"help_text": "所属创建活动 id"},
            "name": {"help_text": "指标体系名称"},
            "scope": {"help_text": f"层级：{choices_text(IndicatorSystem.Scope.choices)}"},
            "source": {"help_text": "依据文件"},
            "description": {"help_text": "说明"},
            "is_example": {"help_text": "据公开资料整理的示例，须以正式文件替换"},
            "is_active": {"help_text": "使用中；false 为已归档（只读）"},
            "full_score": {"help_text": "满分"},
            "pass_score": {"help_text": "申报分数线（自评总分达到方可申报）"},
        }


class IndicatorSerializer(serializers.ModelSerializer):
    points = serializers.SerializerMethodField(help_text="分值；上级指标为其下末级指标分值之和")
    tasks = serializers.SerializerMethodField(help_text="已确认对应的任务 id（仅末级指标有）")
    score = serializers.SerializerMethodField(
        help_text="创建办的自评得分；上级指标为其下已评末级指标之和；尚未评分时为 null"
    )
    is_leaf = serializers.SerializerMethodField(help_text="是否末级指标（计分的指标）")

    class Meta:
        model = Indicator
        fields = [
            "id",
            "system",
            "parent",
            "code",
            "title",
            "level",
            "is_leaf",
            "points",
            "scoring_rule",
            "evidence_expected",
            "tasks",
            "score",
        ]
        extra_kwargs = {
            "system": {"help_text": "所属指标体系 id"},
            "parent": {"help_text": "上级指标 id；一级指标为 null"},
            "code": {"help_text": "序号，如 1、1.2、1.2.3"},
            "title": {"help_text": "指标"},
            "level": {"help_text": "层级：1 一级、2 二级、3 三级"},
            "scoring_rule": {"help_text": "评分标准"},
            "evidence_expected": {"help_text": "佐证材料要求"},
        }

    def _facts(self, indicator) -> dict:
        return self.context["facts"][indicator.pk]

    @extend_schema_field(serializers.DecimalField(max_digits=8, decimal_places=2))
    def get_points(self, indicator) -> str:
        return _money(self._facts(indicator)["points"])

    def get_tasks(self, indicator) -> list[int]:
        return self._facts(indicator)["tasks"]

    @extend_schema_field(serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True))
    def get_score(self, indicator) -> str | None:
        score = self._facts(indicator)["score"]
        return None if score is None else _money(score)

    def get_is_leaf(self, indicator) -> bool:
        return self._facts(indicator)["is_leaf"]


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def indicator_facts(system_ids: set[int]) -> dict[int, dict]:
    """Points (branches summed), confirmed task ids and the office's score of every indicator of the systems,
    in three queries whatever their size."""
    indicators = list(
        Indicator.objects.filter(system_id__in=system_ids)
        .values("pk", "parent_id", "points")
        .order_by("order", "id")
    )
    scores = dict(
        IndicatorAccount.objects.filter(indicator__system_id__in=system_ids, score__isnull=False).values_list(
            "indicator_id", "score"
        )
    )
    tasks: dict[int, list[int]] = {}
    for indicator_id, task_id in (
        IndicatorLink.objects.filter(indicator__system_id__in=system_ids, state=IndicatorLink.State.CONFIRMED)
        .order_by("task__number", "id")
        .values_list("indicator_id", "task_id")
    ):
        found = tasks.setdefault(indicator_id, [])
        if task_id not in found:
            found.append(task_id)
    children: dict[int | None, list[int]] = {}
    for row in indicators:
        children.setdefault(row["parent_id"], []).append(row["pk"])
    own = {row["pk"]: row["points"] for row in indicators}
    facts: dict[int, dict] = {}

    def visit(pk: int) -> tuple[Decimal, Decimal | None]:
        kids = children.get(pk, [])
        if not kids:
            points, score = own[pk], scores.get(pk)
        else:
            points, score = Decimal(0), None
            for kid in kids:
                kid_points, kid_score = visit(kid)
                points += kid_points
                if kid_score is not None:
                    score = (score or Decimal(0)) + kid_score
        facts[pk] = {"points": points, "score": score, "tasks": tasks.get(pk, []), "is_leaf": not kids}
        return points, score

    for root in children.get(None, []):
        visit(root)
    return facts


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ValidationError({name: "应为指标体系编号（正整数）。"})
    return int(raw)


LEAF = Q(indicators__children__isnull=True)


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="指标体系列表",
        description="测评指标体系（国家、省级、市级），含满分、申报分数线、末级指标分值合计和自评得分合计。"
        "仅创建办和领导可查看。",
    ),
    retrieve=extend_schema(summary="指标体系详情"),
)
class IndicatorSystemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorSystemSerializer
    permission_classes = [CanReadAssessment]

    def get_queryset(self):
        return IndicatorSystem.objects.annotate(
            points=Sum("indicators__points", filter=LEAF),
            score=Sum("indicators__account__score", filter=LEAF),
            indicator_count=Count("indicators", distinct=True),
            leaf_count=Count("indicators", filter=LEAF, distinct=True),
        ).order_by("-is_active", "name", "id")


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="测评指标列表",
        description="指标体系中的指标，按体系和目录顺序（一级、其下二级、三级依次排列）。上级指标的 `points` 为其下末级"
        "指标之和；`tasks` 为已确认对应的任务；`score` 为创建办的自评得分。仅创建办和领导可查看。",
        parameters=[OpenApiParameter("system", OpenApiTypes.INT, description="指标体系 id（建议总是指定）")],
    ),
    retrieve=extend_schema(summary="测评指标详情"),
)
class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndicatorSerializer
    permission_classes = [CanReadAssessment]

    def get_queryset(self):
        qs = Indicator.objects.order_by("system_id", "order", "id")
        system = _int_param(self.request, "system") if self.action == "list" else None
        if system is not None:
            qs = qs.filter(system_id=system)
        return qs

    def _respond(self, items, paged: bool):
        facts = indicator_facts({item.system_id for item in items})
        serializer = self.get_serializer(
            items, many=True, context={**self.get_serializer_context(), "facts": facts}
        )
        return self.get_paginated_response(serializer.data) if paged else Response(serializer.data)

    def list(self, request, *args, **kwargs):
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        if page is not None:
            return self._respond(page, paged=True)
        return self._respond(list(qs), paged=False)

    def retrieve(self, request, *args, **kwargs):
        indicator = self.get_object()
        facts = indicator_facts({indicator.system_id})
        serializer = self.get_serializer(indicator, context={**self.get_serializer_context(), "facts": facts})
        return Response(serializer.data)


def register(router) -> None:
    router.register("indicator-systems", IndicatorSystemViewSet, basename="indicator-system")
    router.register("indicators", IndicatorViewSet, basename="indicator")
