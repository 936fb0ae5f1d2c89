from rest_framework import serializers, viewsets

from .models import Unit


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "parent"]


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """单位名录。可按 kind（department/county/park/other）筛选，按名称搜索（search）。"""

    serializer_class = UnitSerializer
    queryset = Unit.objects.filter(is_active=True).order_by("order", "id")
    filterset_fields = ["kind", "parent", "code"]

    def get_queryset(self):
        qs = super().get_queryset()
        search = self.request.query_params.get("search", "").strip()
        return qs.filter(name__icontains=search) if search else qs


def register(router) -> None:
    router.register("units", UnitViewSet, basename="unit")
