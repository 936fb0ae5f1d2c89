"""API of compiled documents: ask for one, follow its progress, list, retry.

``POST /api/v1/compilations/`` {"kind", "format", "period"|"year"|"unit"|"task"} → 201 {id, state, …}; a kind
registered by another app (``kinds.py``) takes its own parameter: {"kind": "dossier", "format": "pdf"|"zip",
"system": ID}.
``GET /api/v1/compilations/{id}/`` → state, progress, stage and ``download_url`` once done.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaign.api import choices_text
from campaign.errors import DomainError

from . import kinds, selectors
from . import services as service
from .models import Compilation


class CompilationSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="汇编类型")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    subject_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="范围对象编号：申报材料（dossier）为指标体系 id，其他类型为空",
    )
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
            "with_appendix",
            "subject_id",
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
    """申请生成汇编文件：类型、格式和范围。"""

    # Shapes only; the service checks kind, format, scope and permission and words the errors.

    kind = serializers.CharField(help_text="汇编类型")
    format = serializers.CharField(help_text=f"文件格式：{choices_text(Compilation.Format.choices)}")
    period = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="报告期编号")
    year = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="年度，如 2024")
    unit = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="单位编号")
    task = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="任务编号（id）"
    )
    with_appendix = serializers.BooleanField(
        required=False,
        default=False,
        help_text="附录：各单位报告全文（季度汇总、单位报告、任务报告的 PDF/Word；其他类型忽略）",
    )

    def get_fields(self):
        """The registered kinds' scope parameters (``system``) join the fields: they are known only once the
        apps are ready, and the schema docs list them too."""
        fields = super().get_fields()
        fields["kind"].help_text = f"汇编类型：{choices_text(kinds.kind_choices())}"
        for extra in kinds.extra():
            fields[extra.scope] = serializers.CharField(
                required=False,
                allow_null=True,
                allow_blank=True,
                help_text=f"{extra.scope_label}编号（{extra.label}必填，其他类型不用）",
            )
        return fields

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


def _request_description() -> str:
    """The request's docs, with the registered kinds (known once the apps are ready) in them."""
    built_in = "、".join(str(label) for label in Compilation.Kind.labels)
    extras = "".join(
        f"`{k.value}`（{k.label}）须给出 `{k.scope}`（{k.scope_label} id），格式为 "
        f"{'或'.join(f'`{f}`' for f in k.formats)}。{k.api_help}"
        for k in kinds.extra()
    )
    return (
        f"`kind` 为汇编类型（{choices_text(kinds.kind_choices())}），`format` 为文件格式"
        f"（{choices_text(Compilation.Format.choices)}）。{built_in}可用 `pdf`、`xlsx` 或 `docx`，再按类型给出范围："
        f"{'；'.join(str(text) for text in service.KIND_HELP.values())}。{extras}"
        "文件在后台生成：返回 201 和新记录；同样的文件已在排队或生成中时返回 200 和那条记录。"
        "之后用 `GET /api/v1/compilations/{id}/` 查看进度，完成后从 `download_url` 下载。"
        "请求有误（类型、格式或范围不对，所选对象不存在）返回 400 和中文说明，无权申请返回 403。"
    )


@extend_schema(tags=["汇编文件"])
@extend_schema_view(
    list=extend_schema(
        summary="汇编文件列表",
        description=(
            "已申请的汇编文件，最新在前。创建办和领导看到全部，联络员只看到本单位的单位报告。"
            f"`state`：{choices_text(Compilation.State.choices)}；完成后 `download_url` 为下载地址。"
        ),
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, description="汇编类型，见 `POST` 的说明"),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=Compilation.Format.values,
                description=f"文件格式：{choices_text(Compilation.Format.choices)}",
            ),
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                enum=Compilation.State.values,
                description=f"生成状态：{choices_text(Compilation.State.choices)}",
            ),
            OpenApiParameter(
                "automatic",
                OpenApiTypes.BOOL,
                description="true 只列系统按计划自动生成的，false 只列人工申请的",
            ),
            OpenApiParameter("period", OpenApiTypes.INT, description="报告期 id"),
            OpenApiParameter("unit", OpenApiTypes.INT, description="单位 id"),
            OpenApiParameter("task", OpenApiTypes.INT, description="任务 id"),
            OpenApiParameter("year", OpenApiTypes.INT, description="年度，如 2025"),
            OpenApiParameter(
                "subject_id", OpenApiTypes.INT, description="范围对象编号（申报材料为指标体系 id）"
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="汇编文件状态",
        description=(
            "一份汇编文件的生成状态、进度（`progress`，0–100）和当前步骤（`stage`）；"
            "完成后 `download_url` 为下载地址，失败时 `error` 说明原因。"
        ),
    ),
)
class CompilationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = CompilationSerializer
    filterset_fields = [
        "kind",
        "format",
        "state",
        "automatic",
        "period",
        "unit",
        "task",
        "year",
        "subject_id",
    ]

    def get_queryset(self):
        return selectors.compilations_visible_to(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        kinds.subject_labels(page if page is not None else [])  # scope labels of a page in one query per kind
        return page

    def retrieve(self, request, *args, **kwargs):
        # A row whose in-process build died is shown failed here too, as on the progress page.
        compilation = service.compilation_check_stuck(compilation=self.get_object())
        return Response(CompilationSerializer(compilation, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="申请生成汇编文件",
        description=lazy(lambda: _request_description(), str)(),
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
            with_appendix=values.get("with_appendix", False),
            extra_scope={name: values.get(name) for name in service.scope_params()},
            by=request.user,
        )
        body = CompilationSerializer(compilation, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="下载汇编文件",
        description=(
            "下载已生成的文件（PDF、Excel、Word 或 ZIP），可用申请时的同一令牌。"
            "尚未生成完成时返回 409，文件已过保存期限被清理时返回 410，请重新生成。"
        ),
        responses={(200, "application/octet-stream"): bytes},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        try:
            return selectors.compilation_file_response(self.get_object())
        except DomainError as error:
            return Response({"detail": error.message, "code": error.code}, status=error.http_status)

    @extend_schema(
        summary="重新生成失败的汇编文件",
        description="生成失败的文件重新排队生成，返回该记录；只有失败的记录可以重试。",
        request=None,
        responses={200: CompilationSerializer},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        compilation = service.compilation_retry(compilation=self.get_object(), by=request.user)
        return Response(CompilationSerializer(compilation, context=self.get_serializer_context()).data)


api_urlpatterns: list = []


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
    router.register("compilations", CompilationViewSet, basename="compilation")
