"""API: the current person's inbox. Another person's notification is 404, never 403 (no probing ids)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors, services
from .models import Notification

api_urlpatterns: list = []


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "text", "url", "created_at", "read_at"]
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """当前用户的消息（最新在前）。`?unread=1` 只列未读。"""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; the real one is the person's own, below
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []

    def get_queryset(self):
        qs = selectors.inbox_for(self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """标为已读（可重复调用）。"""
        notification = services.notification_mark_read(
            user=request.user, notification_id=self.get_object().pk
        )
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        request=None, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """全部标为已读。"""
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
    router.register("notifications", NotificationViewSet, basename="notification")
