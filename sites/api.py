"""API /api/v1/sites/: the register with the same unit rules as reports (a unit's people write its own sites;
the office and leadership read all; another unit's site is 404)."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError as DRFValidationError

from campaign.api import choices_text
from units.access import get_access
from units.models import Unit

from . import selectors, services
from .models import Site


class SiteSerializer(serializers.ModelSerializer):
    status_on = serializers.SerializerMethodField(help_text="截至 as_of 当天的状态")
    level_on = serializers.SerializerMethodField(help_text="截至 as_of 当天的级别")

    def get_status_on(self, site) -> str:
        return getattr(site, "status_on", site.status)

    def get_level_on(self, site) -> str:
        return getattr(site, "level_on", site.level)

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "category",
            "owner",
            "county",
            "address",
            "level",
            "status",
            "named_on",
            "task",
            "contact_name",
            "contact_phone",
            "status_on",
            "level_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "named_on", "created_at", "updated_at"]
        # both default in the service: the owner to the liaison's unit, the county to a county's own
        extra_kwargs = {"owner": {"required": False}, "county": {"required": False}}


FILTERS = [
    OpenApiParameter("unit", OpenApiTypes.INT, description="创建单位 id"),
    OpenApiParameter("county", OpenApiTypes.INT, description="所在县(市、区) id"),
    OpenApiParameter(
        "category",
        OpenApiTypes.STR,
        enum=Site.Category.values,
        description=f"类别（八进领域）：{choices_text(Site.Category.choices)}",
    ),
    OpenApiParameter(
        "level",
        OpenApiTypes.STR,
        enum=Site.Level.values,
        description=f"截至 as_of 的级别：{choices_text(Site.Level.choices)}",
    ),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=Site.Status.values,
        description=f"截至 as_of 的状态：{choices_text(Site.Status.choices)}",
    ),
    OpenApiParameter(
        "as_of", OpenApiTypes.DATE, description="按哪一天的状态和级别（默认今天），如 2025-12-31"
    ),
]


@extend_schema(tags=["示范点"])
@extend_schema_view(
    list=extend_schema(
        summary="示范点台账",
        description="当天（或 as_of）存在的示范点，每个只列一次；合并掉的不列。",
        parameters=FILTERS,
    ),
    retrieve=extend_schema(summary="示范点详情"),
    create=extend_schema(
        summary="添加示范点", description="本单位联络员添加；`owner` 省略时为本人所在单位。"
    ),
    update=extend_schema(summary="修改示范点"),
    partial_update=extend_schema(summary="修改示范点的部分字段"),
)
class SiteViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SiteSerializer

    def get_queryset(self):
        params = self.request.query_params
        try:
            as_of = dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None
        except ValueError as exc:
            raise DRFValidationError({"as_of": "日期格式应为 YYYY-MM-DD，如 2025-12-31。"}) from exc
        if as_of is not None and not dt.date(1900, 1, 1) <= as_of <= dt.date(2100, 12, 31):
            raise DRFValidationError({"as_of": "日期应在1900年至2100年之间，如 2025-12-31。"})
        filters = {}
        for key in ("unit", "county"):
            if raw := params.get(key):
                if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
                    raise DRFValidationError({key: "应为单位编号（正整数）。"})
                filters[key] = Unit.objects.filter(pk=int(raw)).first() or Unit(pk=0)
        for key in ("category", "level", "status"):
            if params.get(key):
                filters[key] = params[key]
        qs = selectors.sites_as_of(as_of, **filters)
        access = get_access(self.request.user)
        if not access.sees_everything:
            qs = qs.filter(owner_id__in=access.unit_ids)
        return qs.order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        owner = data.pop("owner", None)
        if owner is None:
            own = sorted(get_access(self.request.user).liaison_unit_ids)
            owner = Unit.objects.filter(pk=own[0]).first() if own else None
        if owner is None:
            raise DRFValidationError({"owner": "请指定创建单位（您所在的单位）。"})
        serializer.instance = services.site_create(by=self.request.user, owner=owner, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("owner", None)
        site = serializer.instance
        serializer.instance = services.site_update(site=site, by=self.request.user, **data)


def register(router) -> None:
    router.register("sites", SiteViewSet, basename="site")
