from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from campaign.api import choices_text
from campaign.search import search_words

from .models import Unit


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "parent"]


@extend_schema(tags=["单位"])
@extend_schema_view(
    list=extend_schema(
        summary="单位名录",
        description=(
            "在用的责任单位，按名录顺序排列。`code` 是单位代码（也是该单位联络员的登录名）；"
            f"`kind` 为单位类别：{choices_text(Unit.Kind.choices)}。"
        ),
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                enum=Unit.Kind.values,
                description=f"单位类别：{choices_text(Unit.Kind.choices)}",
            ),
            OpenApiParameter("parent", OpenApiTypes.INT, description="上级单位 id：只列其下属单位"),
            OpenApiParameter("code", OpenApiTypes.STR, description="单位代码（精确匹配）"),
            OpenApiParameter("search", OpenApiTypes.STR, description="按单位名称搜索（包含该文字即可）"),
        ],
    ),
    retrieve=extend_schema(summary="单位详情"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UnitSerializer
    queryset = Unit.objects.filter(is_active=True).order_by("order", "id")
    filterset_fields = ["kind", "parent", "code"]

    def get_queryset(self):
        qs = super().get_queryset()
        search = search_words(self.request.query_params.get("search"))
        return qs.filter(name__icontains=search) if search else qs


def register(router) -> None:
    router.register("units", UnitViewSet, basename="unit")
