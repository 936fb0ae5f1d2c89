"""The campaign's read-only API (campaigns, phases, periods)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from .api import choices_text
from .models import Campaign, Phase, ReportingPeriod

TAG = "方案与报告期"
CAMPAIGN_PARAM = OpenApiParameter("campaign", OpenApiTypes.INT, description="创建活动 id：只列该活动的")


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "title", "city", "document_title", "issued_on", "starts_on", "ends_on", "is_active"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "campaign", "order", "name", "starts_on", "ends_on", "description"]


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = ReportingPeriod
        fields = ["id", "campaign", "label", "year", "quarter", "starts_on", "ends_on", "due_on", "state"]


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="创建活动列表",
        description="平台上的创建活动（通常只有一个正在进行，`is_active` 为 true），含实施方案的文件标题和起止日期。",
    ),
    retrieve=extend_schema(summary="创建活动详情"),
)
class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="实施阶段列表",
        description="创建活动的各实施阶段（如动员部署、全面推进、巩固提升），按顺序排列。",
        parameters=[CAMPAIGN_PARAM],
    ),
    retrieve=extend_schema(summary="实施阶段详情"),
)
class PhaseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PhaseSerializer
    queryset = Phase.objects.order_by("campaign", "order")
    filterset_fields = ["campaign"]


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="报告期列表",
        description=(
            "季度报告期，按年度和季度排列。`due_on` 为报送截止日（当日 23:59:59 前报送为按时）；"
            f"`state`：{choices_text(ReportingPeriod.State.choices)}。"
        ),
        parameters=[
            CAMPAIGN_PARAM,
            OpenApiParameter("year", OpenApiTypes.INT, description="年度，如 2025"),
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                enum=ReportingPeriod.State.values,
                description=f"报告期状态：{choices_text(ReportingPeriod.State.choices)}",
            ),
        ],
    ),
    retrieve=extend_schema(summary="报告期详情"),
)
class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PeriodSerializer
    queryset = ReportingPeriod.objects.order_by("campaign", "year", "quarter")
    filterset_fields = ["campaign", "year", "state"]


def register(router) -> None:
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register("phases", PhaseViewSet, basename="phase")
    router.register("periods", PeriodViewSet, basename="period")
