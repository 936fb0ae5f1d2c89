from django.db.models import Prefetch
from rest_framework import serializers, viewsets

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


class SectionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SectionSerializer
    queryset = Section.objects.order_by("campaign", "order")
    filterset_fields = ["campaign"]


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """实施方案的任务，含责任单位（role: lead 牵头 / co 配合）和量化目标。"""

    serializer_class = TaskSerializer
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


class MetricViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MetricSerializer
    queryset = Metric.objects.order_by("order", "id")


def register(router) -> None:
    router.register("sections", SectionViewSet, basename="section")
    router.register("tasks", TaskViewSet, basename="task")
    router.register("metrics", MetricViewSet, basename="metric")
