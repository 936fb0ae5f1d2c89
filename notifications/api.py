"""API: the current person's inbox. Another person's notification is 404, never 403 (no probing ids)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaign.api import choices_text

from . import selectors, services
from .models import Kind, Notification

api_urlpatterns: list = []


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "text", "url", "created_at", "read_at"]
        read_only_fields = fields


# The path's id is the digits of lookup_value_regex, described here in words.
NOTIFICATION_ID = OpenApiParameter(
    "id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[0-9]+$", description="消息 id"
)


@extend_schema(tags=["通知"])
@extend_schema_view(
    list=extend_schema(
        summary="我的消息",
        description=(
            "当前用户收到的消息，最新在前；`read_at` 为空表示未读，`url` 是对应的网页。"
            f"`kind` 为消息类型：{choices_text(Kind.choices)}。"
        ),
        parameters=[
            OpenApiParameter(
                "unread", OpenApiTypes.STR, enum=["1", "true"], description="填 1 或 true 时只列未读消息"
            )
        ],
    ),
    retrieve=extend_schema(
        summary="消息详情", description="只能查看自己的消息；他人的消息为 404。", parameters=[NOTIFICATION_ID]
    ),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; the real one is the person's own, below
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def get_queryset(self):
        qs = selectors.inbox_for(self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(
        summary="标为已读",
        description="把一条消息标为已读，返回该消息；可重复调用。",
        parameters=[NOTIFICATION_ID],
        request=None,
        responses=NotificationSerializer,
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(
            user=request.user, notification_id=self.get_object().pk
        )
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="全部标为已读",
        description="把当前用户的未读消息全部标为已读；`marked` 为这次标记的条数。",
        request=None,
        responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
    router.register("notifications", NotificationViewSet, basename="notification")
