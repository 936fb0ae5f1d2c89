"""API of compiled documents: ask for one, follow its progress, list, retry.

``POST /api/v1/compilations/`` {"kind", "format", "period"|"year"|"unit"|"task"} → 201 {id, state, …}
``GET /api/v1/compilations/{id}/`` → state, progress, stage and ``download_url`` once done.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaign.errors import DomainError

from . import selectors
from . import services as service
from .models import Compilation


class CompilationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    format_label = serializers.CharField(source="get_format_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    scope_label = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Compilation
        fields = [
            "id",
            "kind",
            "kind_label",
            "format",
            "format_label",
            "period",
            "year",
            "unit",
            "task",
            "scope_label",
            "title",
            "state",
            "state_label",
            "progress",
            "stage",
            "error",
            "attempts",
            "automatic",
            "size",
            "created_at",
            "started_at",
            "finished_at",
            "url",
            "download_url",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, obj) -> str:
        return self._absolute(reverse("compilations:detail", args=[obj.pk]))

    def get_download_url(self, obj) -> str | None:
        if not obj.has_file:
            return None
        # The API's own download, so the token that asked for the file can fetch it (the page's URL
        # would send a token client to the login page).
        return self._absolute(reverse("compilation-download", args=[obj.pk]))


class CompilationRequestSerializer(serializers.Serializer):
    """Shapes only; the service checks kind, format, scope and permission and words the errors."""

    kind = serializers.CharField(help_text="quarterly | unit | task | annual | ledger")
    format = serializers.CharField(help_text="pdf | xlsx | docx")
    period = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="报告期编号")
    year = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="年度，如 2024")
    unit = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="单位编号")
    task = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="任务编号（id）"
    )

    def to_internal_value(self, data):
        missing = [name for name in ("kind", "format") if data.get(name) in (None, "")]
        if missing:
            raise serializers.ValidationError(
                {
                    name: ["必须提供" + ("汇编类型" if name == "kind" else "文件格式") + "。"]
                    for name in missing
                }
            )
        return super().to_internal_value(
            {k: (str(v) if v is not None and not isinstance(v, str) else v) for k, v in data.items()}
        )


@extend_schema_view(
    list=extend_schema(summary="汇编列表（联络员只看到本单位的单位报告）"),
    retrieve=extend_schema(summary="汇编状态、进度与下载地址"),
)
class CompilationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = CompilationSerializer
    filterset_fields = ["kind", "format", "state", "automatic", "period", "unit", "task", "year"]

    def get_queryset(self):
        return selectors.compilations_visible_to(self.request.user)

    def retrieve(self, request, *args, **kwargs):
        # A row whose in-process build died is shown failed here too, as on the progress page.
        compilation = service.compilation_check_stuck(compilation=self.get_object())
        return Response(CompilationSerializer(compilation, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="申请生成汇编文件",
        request=CompilationRequestSerializer,
        responses={201: CompilationSerializer, 200: CompilationSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = CompilationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        compilation, created = service.compilation_request(
            kind=values["kind"],
            format=values["format"],
            period=values.get("period") or None,
            year=values.get("year") or None,
            unit=values.get("unit") or None,
            task=values.get("task") or None,
            by=request.user,
        )
        body = CompilationSerializer(compilation, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="下载已生成的汇编文件", responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        try:
            return selectors.compilation_file_response(self.get_object())
        except DomainError as error:
            return Response({"detail": error.message, "code": error.code}, status=error.http_status)

    @extend_schema(summary="重试失败的汇编", request=None, responses={200: CompilationSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        compilation = service.compilation_retry(compilation=self.get_object(), by=request.user)
        return Response(CompilationSerializer(compilation, context=self.get_serializer_context()).data)


api_urlpatterns: list = []


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
    router.register("compilations", CompilationViewSet, basename="compilation")
