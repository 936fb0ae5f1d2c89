"""The reports API: /api/v1/reports/ with workflow steps as explicit actions.

A liaison sees and changes only the unit's own reports (another unit's report is 404); leadership reads all
and changes none (403); the office reads all and reviews. A stale ``version`` on PATCH is 409.

Every action says who may act (401/403/404) before it reads the body, so a person who may not act learns that
whatever they sent; a body that is not a JSON object is then a 400 (``ObjectJSONParser``).
"""

from __future__ import annotations

import copy

import django_filters
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaign.api import choices_text
from campaign.errors import DomainError, NotFound
from campaign.models import ReportingPeriod
from tasks.models import Task
from units.access import get_access
from units.models import Unit, display_name

from . import selectors, services
from .models import Evidence, MetricValue, ProgressReport, ReportEvent

# ---------------------------------------------------------------- serializers


class FieldsBuiltOnce:
    """A ModelSerializer whose fields are worked out from the model once per class, not once per answer.

    DRF builds a ModelSerializer's fields for every serializer object (model introspection, verbose names,
    validators: half the time of serializing one report). Built once here, unbound; each serializer object
    gets its own copy of each field, since binding a field (``bind``: its name and parent) sets attributes on
    it: a plain copy of a simple field, a full copy of a nested serializer (whose child is bound to it). Only
    for serializers whose fields do not depend on the request."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in built.items()
        }


class MetricValueSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    code = serializers.CharField(source="metric.code", read_only=True)
    name = serializers.CharField(source="metric.name", read_only=True)
    unit_of_measure = serializers.CharField(source="metric.unit_of_measure", read_only=True)
    unusual = serializers.BooleanField(source="is_unusual", read_only=True)

    class Meta:
        model = MetricValue
        fields = ["metric", "code", "name", "unit_of_measure", "value", "unusual"]


class EvidenceSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "caption",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "url",
            "file_url",
            "thumbnail_url",
            "uploaded_by_name",
            "uploaded_at",
        ]

    def get_file_url(self, obj) -> str | None:
        return reverse("reports:evidence_file", args=[obj.pk]) if obj.file else None

    def get_thumbnail_url(self, obj) -> str | None:
        return reverse("reports:evidence_thumb", args=[obj.pk]) if obj.thumbnail else None

    def get_uploaded_by_name(self, obj) -> str:
        return display_name(obj.uploaded_by) if obj.uploaded_by else ""


class ReportSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    progress_status_label = serializers.CharField(source="get_progress_status_display", read_only=True)
    metrics = MetricValueSerializer(source="metric_values", many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    is_late = serializers.BooleanField(read_only=True)
    signed_off_by_name = serializers.SerializerMethodField(
        help_text="分管领导（最近一次审核签发或退回的人）；单位无需分管领导审核时为空"
    )

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "period",
            "unit",
            "task",
            "progress",
            "problems",
            "next_steps",
            "progress_status",
            "progress_status_label",
            "state",
            "state_label",
            "version",
            "return_reason",
            "metrics",
            "evidence",
            "is_late",
            "created_at",
            "updated_at",
            "first_submitted_at",
            "submitted_at",
            "sent_for_signoff_at",
            "signed_off_at",
            "signed_off_by_name",
            "reviewed_at",
        ]
        read_only_fields = fields

    def get_signed_off_by_name(self, obj) -> str:
        return display_name(obj.signed_off_by) if obj.signed_off_by else ""


def _choice_error() -> dict:
    labels = "、".join(f"{v}（{label}）" for v, label in ProgressReport.ProgressStatus.choices)
    return {"invalid_choice": f"progress_status 只能是：{labels}。"}


class ReportWriteSerializer(serializers.Serializer):
    """联络员填写或修改报告时提交的内容。"""

    # Shapes only: the rules are checked by reports.services.

    period = serializers.PrimaryKeyRelatedField(
        queryset=ReportingPeriod.objects.all(),
        required=False,
        error_messages={
            "does_not_exist": "报告期 {pk_value} 不存在。",
            "incorrect_type": "报告期编号应为整数。",
        },
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(),
        required=False,
        error_messages={"does_not_exist": "单位 {pk_value} 不存在。", "incorrect_type": "单位编号应为整数。"},
    )
    task = serializers.PrimaryKeyRelatedField(
        queryset=Task.objects.all(),
        required=False,
        error_messages={"does_not_exist": "任务 {pk_value} 不存在。", "incorrect_type": "任务编号应为整数。"},
    )
    progress = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    problems = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    next_steps = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    progress_status = serializers.ChoiceField(
        choices=ProgressReport.ProgressStatus.choices, required=False, error_messages=_choice_error()
    )
    metrics = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        error_messages={"not_a_list": '指标数值应为列表：[{{"metric": 指标编号, "value": 数值}}]。'},
    )
    version = serializers.IntegerField(required=False, error_messages={"invalid": "version 应为整数。"})


class EventSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ReportEvent
        fields = [
            "id",
            "action",
            "action_label",
            "actor",
            "actor_name",
            "at",
            "comment",
            "from_state",
            "to_state",
            "version",
        ]

    def get_actor_name(self, obj) -> str:
        return display_name(obj.actor) if obj.actor else ""


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="退回原因（必填，告诉联络员如何修改）"
    )


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, help_text="审核意见（可选）")


class SubmitSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, allow_null=True, error_messages={"invalid": "version 应为整数。"}
    )


class EvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    url = serializers.CharField(required=False, allow_blank=True)
    caption = serializers.CharField(required=False, allow_blank=True)


# ---------------------------------------------------------------- viewset


class ReportFilter(django_filters.FilterSet):
    # Through the related row's id, so that Django's integer range check applies: an id too large for the
    # database matches nothing instead of failing (SQLite raises OverflowError on a foreign-key column).
    # The labels are the parameters' descriptions in the API docs.
    period = django_filters.NumberFilter(field_name="period__id", label="报告期 id")
    unit = django_filters.NumberFilter(field_name="unit__id", label="单位 id")
    task = django_filters.NumberFilter(field_name="task__id", label="任务 id")
    task_number = django_filters.NumberFilter(
        field_name="task__number", label="任务编号（方案中的序号，如 3）"
    )
    state = django_filters.ChoiceFilter(choices=ProgressReport.State.choices, label="报告状态")
    progress_status = django_filters.ChoiceFilter(
        choices=ProgressReport.ProgressStatus.choices, label="推进情况"
    )

    class Meta:
        model = ProgressReport
        fields = ["period", "unit", "task", "task_number", "state", "progress_status"]

    def get_form_class(self):
        """The form that reads the query string, made once per class (django-filter makes a new form class,
        with a form field per filter, for every request); the filters do not depend on the request."""
        cls = type(self)
        form = cls.__dict__.get("_form_class_once")
        if form is None:
            form = super().get_form_class()
            cls._form_class_once = form
        return form


TAG = "进展报告"
STALE = OpenApiResponse(description="版本冲突：报告已被他人修改，请重新读取、核对后再提交")


@extend_schema(tags=[TAG])
@extend_schema_view(
    list=extend_schema(
        summary="进展报告列表",
        description=(
            "季度进展报告，最新报告期在前。联络员只看到本单位的报告，创建办和领导看到全部。"
            f"`state` 为报告状态：{choices_text(ProgressReport.State.choices)}。"
        ),
    ),
    retrieve=extend_schema(
        summary="进展报告详情",
        description="一份报告的内容、指标数值和佐证材料。其他单位的报告对联络员为 404。",
    ),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    # Actions on one report that read only the report row and what the checks look at (its period, unit and
    # task), not its figures and files: the steps, which answer with what they wrote (``_written``), and the
    # report's own lists (evidence, events), which read their rows themselves.
    ROW_ACTIONS = frozenset(
        ["partial_update", "submit", "return_", "signoff", "approve", "evidence", "evidence_remove", "events"]
    )

    def get_queryset(self):
        visible = selectors.visible_reports(get_access(self.request.user))
        if self.action in self.ROW_ACTIONS:
            return visible.select_related("period", "unit", "task")
        return (
            visible.select_related("period", "signed_off_by")
            .prefetch_related(*self._shown())
            .order_by("-period__year", "-period__quarter", "unit__order", "task__number")
        )

    @staticmethod
    def _shown(*, evidence: bool = True) -> list[Prefetch]:
        """What a report's answer shows besides its own row: its figures (with their metric) and its files."""
        shown = [
            Prefetch(
                "metric_values",
                queryset=MetricValue.objects.select_related("metric").order_by("metric__order"),
            )
        ]
        if evidence:
            shown.append(Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")))
        return shown

    def _written(self, report: ProgressReport, *, created: bool = False) -> dict:
        """The report as the step just wrote it, from the row the service returns (every column as written,
        under its row lock, with the period, unit and task it was checked against): only its figures and
        files are read to show them (2 queries; 1 after a create, which has no files yet), never the whole
        report again."""
        prefetch_related_objects([report], *self._shown(evidence=not created))
        if created:
            no_files = Evidence.objects.none()
            no_files._result_cache, no_files._prefetch_done = [], True
            report._prefetched_objects_cache["evidence"] = no_files
        return ReportSerializer(report, context=self.get_serializer_context()).data

    def get_object(self):
        try:
            return super().get_object()
        except Http404:  # answer in Chinese
            raise NotFound(selectors.NOT_FOUND) from None

    def _report_for(self, who: str) -> ProgressReport:
        """The report in the URL, once the person may take this step on it, before the body is read: another
        unit's report is 404 (the queryset), a role that may not take the step 403, with the services' own
        checks and words (``who``: "author", "office" or "signer"). The service checks again under its row
        lock."""
        report = self.get_object()
        if who == "office":
            services.require_office(self.request.user)
        elif who == "signer":
            services.require_signer(report.unit_id, self.request.user)
        else:
            services.require_author(report.unit_id, self.request.user)
        return report

    @extend_schema(
        summary="填写进展报告（草稿）",
        description=(
            "联络员为本单位的一项任务在一个报告期新建报告，保存为草稿；必须指定 `period`、`unit`、`task`，"
            "同一报告期、单位、任务只能有一份。`metrics` 为 "
            '`[{"metric": 指标 id, "value": 数值}]`。创建办和领导不能填写报告（403）。'
        ),
        request=ReportWriteSerializer,
        responses={201: ReportSerializer},
    )
    def create(self, request):
        if not get_access(request.user).is_unit_member:  # the office and leadership never author a report
            services.require_author(None, request.user)
        data = self._input(request)
        missing = [
            label
            for key, label in (("period", "报告期"), ("unit", "单位"), ("task", "任务"))
            if key not in data
        ]
        if missing:
            raise DomainError(f"请指定{'、'.join(missing)}。", code="required")
        report = services.report_save(
            period=data["period"],
            unit=data["unit"],
            task=data["task"],
            by=request.user,
            version=None,
            fields=self._fields(data),
            metrics=data.get("metrics"),
        )
        return Response(self._written(report, created=True), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改进展报告",
        description=(
            "只改请求中给出的字段，未给出的保持原值；报告期、单位和任务创建后不能更改。"
            "必须带上读取时的 `version`，报告已被他人修改时返回 409，内容不会被覆盖。"
        ),
        request=ReportWriteSerializer,
        responses={200: ReportSerializer, 409: STALE},
    )
    def partial_update(self, request, pk=None):
        report = self._report_for("author")
        data = self._input(request)
        for key, label in (("period", "报告期"), ("unit", "单位"), ("task", "任务")):
            if key in data and getattr(report, f"{key}_id") != data[key].pk:
                raise DomainError(f"报告创建后不能更改{label}。", code="immutable")
        if "version" not in data:
            raise DomainError(
                "请提供 version（报告当前的版本号），以免覆盖他人的修改。", code="version_required"
            )
        report = services.report_save(
            period=report.period,
            unit=report.unit,
            task=report.task,
            by=request.user,
            version=data["version"],
            fields=self._fields(data),
            metrics=data.get("metrics"),
        )
        return Response(self._written(report))

    def _input(self, request) -> dict:
        return self._valid(ReportWriteSerializer, request)

    @staticmethod
    def _fields(data: dict) -> services.ReportFields:
        """Only what was sent: on PATCH a field left out keeps its saved value."""
        return {name: data.get(name) for name in ("progress", "problems", "next_steps", "progress_status")}

    # Submit is the one step without content, so it calls report_submit itself: going through report_save
    # would write a "saved" event and bump the version for nothing. Evidence has its own action below.
    @extend_schema(
        summary="报送报告",
        description=(
            "联络员把草稿或被退回的报告报送创建办审核。单位设置了“报送前需分管领导审核”时，报告先进入 "
            "`awaiting_signoff`（待分管领导审核），分管领导签发后才报送到创建办。可带 `version`，"
            "报告已被他人修改时返回 409。报告期已截止且未开放补报时不能报送。"
        ),
        request=SubmitSerializer,
        responses={200: ReportSerializer, 409: STALE},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self._report_for("author")
        version = self._valid(SubmitSerializer, request).get("version")
        report = services.report_submit(report=report, by=request.user, version=version)
        return Response(self._written(report))

    @extend_schema(
        summary="退回报告",
        description=(
            "把报告退回联络员修改，须写明退回原因（`reason`）。已报送（`submitted`）的报告由创建办退回；"
            "待分管领导审核（`awaiting_signoff`）的报告由本单位分管领导退回。"
        ),
        request=ReturnSerializer,
        responses={200: ReportSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        report = self._report_for_return()
        reason = self._valid(ReturnSerializer, request).get("reason", "")
        report = services.report_return(report=report, by=request.user, reason=reason)
        return Response(self._written(report))

    def _report_for_return(self) -> ProgressReport:
        """A report waiting for sign-off is its unit leader's to return; any other, the office's."""
        report = self.get_object()
        if report.state == ProgressReport.State.AWAITING_SIGNOFF:
            services.require_signer(report.unit_id, self.request.user)
        else:
            services.require_office(self.request.user)
        return report

    @extend_schema(
        summary="分管领导审核签发",
        description=(
            "单位分管领导审核签发本单位待审核（`awaiting_signoff`）的报告，签发后报告报送到创建办"
            "（状态变为 `submitted`），可附审核意见（`comment`）。按时以报送到创建办（分管领导审核通过）"
            "的时间计算。其他单位的报告为 404，联络员、创建办和领导为 403。"
        ),
        request=ApproveSerializer,
        responses={200: ReportSerializer},
    )
    @action(detail=True, methods=["post"])
    def signoff(self, request, pk=None):
        report = self._report_for("signer")
        comment = self._valid(ApproveSerializer, request).get("comment", "")
        report = services.report_signoff(report=report, by=request.user, comment=comment)
        return Response(self._written(report))

    @extend_schema(
        summary="审核通过报告",
        description="创建办审核通过已报送的报告，可附审核意见（`comment`）。",
        request=ApproveSerializer,
        responses={200: ReportSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        report = self._report_for("office")
        comment = self._valid(ApproveSerializer, request).get("comment", "")
        report = services.report_approve(report=report, by=request.user, comment=comment)
        return Response(self._written(report))

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _page(self, queryset, serializer_class) -> Response:
        """A report's own list (its evidence, its events) in pages, as every list of this API and its schema."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    # The report's filters (?state=, ?unit=…) do not apply to its evidence and events: filter_backends=[]
    # keeps them out of the schema and out of get_object.
    @extend_schema(
        methods=["POST"],
        summary="上传佐证材料",
        description=(
            "联络员为本单位的报告添加一份佐证材料：上传文件（`multipart/form-data` 的 `file` 字段，"
            "图片、PDF、Office 文档等，会检查文件内容）或填写链接（`url`），可附说明（`caption`）。"
        ),
        request=EvidenceInputSerializer,
        responses={201: EvidenceSerializer},
    )
    @extend_schema(
        methods=["GET"],
        summary="佐证材料列表",
        description="一份报告的佐证材料，按上传先后排列；`file_url`、`thumbnail_url` 为文件和缩略图的地址。",
        responses={200: EvidenceSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def evidence(self, request, pk=None):
        if request.method == "GET":
            report = self.get_object()
            return self._page(
                report.evidence.select_related("uploaded_by").order_by("uploaded_at", "id"),
                EvidenceSerializer,
            )
        report = self._report_for("author")
        data = self._valid(EvidenceInputSerializer, request)
        upload, url, caption = data.get("file"), data.get("url", ""), data.get("caption", "")
        if upload is not None:
            evidence = services.evidence_add_file(
                report=report, by=request.user, file=upload, caption=caption
            )
        elif url:
            evidence = services.evidence_add_link(report=report, by=request.user, url=url, caption=caption)
        else:
            raise DomainError("请上传文件（字段 file）或填写链接（字段 url）。", code="required")
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="删除佐证材料",
        description=(
            "联络员删除本单位报告的一份佐证材料（`evidence_id`）。与修改报告相同，"
            "只有草稿或被退回、且报告期可填写（未截止或已开放补报）的报告可以删除。"
        ),
        parameters=[
            OpenApiParameter(
                "evidence_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^\d+$",
                description="佐证材料 id",
            )
        ],
        request=None,
        responses={204: OpenApiResponse(description="已删除")},
    )
    @action(detail=True, methods=["delete"], url_path=r"evidence/(?P<evidence_id>\d+)", filter_backends=[])
    def evidence_remove(self, request, pk=None, evidence_id=None):
        report = self._report_for("author")
        evidence = report.evidence.filter(pk=evidence_id).first()
        if evidence is None:
            raise NotFound("佐证材料不存在。")
        services.evidence_remove(evidence=evidence, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="报告操作记录",
        description="一份报告从填写到审核的每一步：谁、何时、做了什么（`action`）、状态如何变化，按时间先后排列。",
        responses={200: EventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        report = self.get_object()
        return self._page(report.events.select_related("actor").order_by("at", "id"), EventSerializer)


class ReopenSerializer(serializers.Serializer):
    period = serializers.PrimaryKeyRelatedField(queryset=ReportingPeriod.objects.all())
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    reason = serializers.CharField(required=False, allow_blank=True)
    until = serializers.DateField(required=False, allow_null=True)


@extend_schema(tags=[TAG])
class ReopeningViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = ReopenSerializer

    @extend_schema(
        summary="开放补报",
        description=(
            "创建办为某单位开放已截止报告期的补报：须写明原因（`reason`），可指定补报截止日（`until`，"
            "不填则直至撤销）。开放后该单位可在该报告期新建、修改和报送报告，其联络员会收到通知。"
        ),
        request=ReopenSerializer,
        responses={201: inline_serializer("Reopening", {"id": serializers.IntegerField()})},
    )
    def create(self, request):
        services.require_office(request.user)  # who may act, before the body is read
        serializer = ReopenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reopening = services.period_reopen_for_unit(
            period=data["period"],
            unit=data["unit"],
            by=request.user,
            reason=data.get("reason", ""),
            until=data.get("until"),
        )
        return Response(
            {
                "id": reopening.pk,
                "period": reopening.period_id,
                "unit": reopening.unit_id,
                "until": reopening.until,
            },
            status=status.HTTP_201_CREATED,
        )


api_urlpatterns: list = []


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
    router.register("reports", ReportViewSet, basename="report")
    router.register("reopenings", ReopeningViewSet, basename="reopening")
