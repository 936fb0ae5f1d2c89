from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from campaign.api import choices_text
from campaign.models import Campaign

from .models import Metric, Responsibility, Section, Target, Task
from .selectors import responsibilities_prefetch


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "campaign", "order", "numeral", "title", "short_title"]


class ResponsibilitySerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Responsibility
        fields = ["unit", "unit_code", "unit_name", "role", "by_rule"]


class TargetSerializer(serializers.ModelSerializer):
    metric_code = serializers.CharField(source="metric.code", read_only=True)
    metric_name = serializers.CharField(source="metric.name", read_only=True)
    unit_of_measure = serializers.CharField(source="metric.unit_of_measure", read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "metric",
            "metric_code",
            "metric_name",
            "unit_of_measure",
            "value",
            "comparison",
            "scope",
            "scope_label",
            "units",
            "period_kind",
            "due_on",
            "source_text",
        ]


class TaskSerializer(serializers.ModelSerializer):
    responsibilities = ResponsibilitySerializer(many=True, read_only=True)
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = ["id", "number", "title", "text", "section", "responsibilities", "targets"]


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = ["id", "code", "name", "unit_of_measure", "aggregation", "is_common"]


TAG = "任务"
CAMPAIGN_PARAM = OpenApiParameter("campaign", OpenApiTypes.INT, description="创建活动 id：只列该活动的")


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="工程/活动列表",
        description="实施方案的各项工程或活动（如“政治引领”工程），按方案中的顺序排列；任务按它们分组。",
        parameters=[CAMPAIGN_PARAM],
    ),
    retrieve=extend_schema(summary="工程/活动详情"),
)
class SectionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SectionSerializer
    queryset = Section.objects.order_by("campaign", "order")
    filterset_fields = ["campaign"]


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="任务列表",
        description=(
            "实施方案的任务，按任务编号排列，含责任单位"
            f"（`role`：{choices_text(Responsibility.Role.choices)}）和量化目标。"
            "不指定 `campaign` 时只列当前创建活动的任务。"
        ),
        parameters=[
            CAMPAIGN_PARAM,
            OpenApiParameter("section", OpenApiTypes.INT, description="工程/活动 id：只列其中的任务"),
            OpenApiParameter("number", OpenApiTypes.INT, description="任务编号（方案中的序号，如 3）"),
        ],
    ),
    retrieve=extend_schema(
        summary="任务详情",
        description=(
            f"一项任务的全文、责任单位（`role`：{choices_text(Responsibility.Role.choices)}）和量化目标。"
        ),
    ),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TaskSerializer
    queryset = Task.objects.none()  # for the schema, which must not query; the real one is below
    filterset_fields = ["campaign", "section", "number"]

    def get_queryset(self):
        qs = Task.objects.prefetch_related(
            responsibilities_prefetch(),
            Prefetch("targets", queryset=Target.objects.select_related("metric").prefetch_related("units")),
        ).order_by("campaign", "number")
        if "campaign" not in self.request.query_params:
            current = Campaign.current()
            if current is not None:
                qs = qs.filter(campaign=current)
        return qs


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="指标列表",
        description=(
            "报告中填写的量化指标及其计量单位。`aggregation` 为汇总方式："
            f"{choices_text(Metric.Aggregation.choices)}；`is_common` 为每份报告都可填写的通用宣传指标。"
        ),
    ),
    retrieve=extend_schema(summary="指标详情"),
)
class MetricViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MetricSerializer
    queryset = Metric.objects.order_by("order", "id")


def register(router) -> None:
    router.register("sections", SectionViewSet, basename="section")
    router.register("tasks", TaskViewSet, basename="task")
    router.register("metrics", MetricViewSet, basename="metric")
