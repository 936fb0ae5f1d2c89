"""Forms of the reporting pages: they parse input; the rules live in reports.services."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from campaign.models import ReportingPeriod
from units.models import Unit

from .models import Evidence, ProgressReport
from .services import (
    MisplacedComma,
    NotWholeNumber,
    is_count,
    metric_number,
    misplaced_comma_message,
    not_whole_message,
)

TEXT_MAX = ProgressReport.TEXT_MAX_LENGTH
REMARK_MAX = ProgressReport.REMARK_MAX_LENGTH
CAPTION_MAX = Evidence._meta.get_field("caption").max_length


def metric_field_name(metric_id: int) -> str:
    return f"metric_{metric_id}"


def _figure(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _too_long(label: str, limit: int) -> dict:
    """Django's max_length message in the services' words (``ProgressReport.text_too_long``)."""
    return {"max_length": ProgressReport.text_too_long(label, limit, "%(show_value)d")}


class MetricField(forms.DecimalField):
    """A figure read by ``services.metric_number`` (the one rule: "1,234" and "１２３" are numbers, "1,2,3"
    is refused, and a count such as 场次 takes whole numbers only), then held to the DecimalField's range
    and precision."""

    metric = None
    figure_label = ""

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = metric_number(value, self.metric)
        except MisplacedComma:
            raise forms.ValidationError(
                misplaced_comma_message(self.figure_label, value), code="invalid"
            ) from None
        except NotWholeNumber:
            raise forms.ValidationError(
                not_whole_message(self.figure_label, self.metric, value), code="invalid"
            ) from None
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return number


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (``<input type=file multiple>``), cleaned one by one into a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def report_initial(report: ProgressReport | None, metrics) -> dict:
    """The form's starting values: the saved report (text, 推进情况, figures, version), or a blank one."""
    if report is None:
        return {"progress_status": ProgressReport.ProgressStatus.ON_TRACK, "version": ""}
    initial = {
        "progress": report.progress,
        "problems": report.problems,
        "next_steps": report.next_steps,
        "progress_status": report.progress_status,
        "version": report.version,
    }
    values = {mv.metric_id: mv.value for mv in report.metric_values.all()}
    for metric in metrics:
        if metric.pk in values:
            initial[metric_field_name(metric.pk)] = _figure(values[metric.pk])
    return initial


def copied_forward(initial: dict, previous: ProgressReport, metrics) -> dict:
    """``initial`` with last quarter's words and running counts: 工作进展, 存在问题 and 下一步计划 from
    ``previous``, and the value of each stock metric (a running count carries over). A flow metric counts
    what is new this quarter, so last quarter's number would be wrong here: flows, 推进情况 and the version
    stay as they are in ``initial`` (empty for a new report)."""
    copied = {**initial, "progress": previous.progress, "problems": previous.problems}
    copied["next_steps"] = previous.next_steps
    values = {mv.metric_id: mv.value for mv in previous.metric_values.all()}
    for metric in metrics:
        if not metric.is_flow and metric.pk in values:
            copied[metric_field_name(metric.pk)] = _figure(values[metric.pk])
    return copied


class ReportForm(forms.Form):
    progress = forms.CharField(
        label="工作进展",
        required=False,
        max_length=TEXT_MAX,
        error_messages=_too_long("工作进展", TEXT_MAX),
        widget=forms.Textarea(
            attrs={"rows": 8, "placeholder": "本季度开展了哪些工作、取得了哪些成效（必填后才能报送）"}
        ),
    )
    problems = forms.CharField(
        label="存在问题",
        required=False,
        max_length=TEXT_MAX,
        error_messages=_too_long("存在问题", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_steps = forms.CharField(
        label="下一步计划",
        required=False,
        max_length=TEXT_MAX,
        error_messages=_too_long("下一步计划", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    progress_status = forms.ChoiceField(
        label="推进情况",
        choices=ProgressReport.ProgressStatus.choices,
        initial=ProgressReport.ProgressStatus.ON_TRACK,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择推进情况。", "invalid_choice": "请选择推进情况。"},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    evidence_file = MultipleFileField(label="上传佐证材料", required=False)
    evidence_url = forms.CharField(label="或添加链接", required=False, max_length=500)
    evidence_link_caption = forms.CharField(
        label="链接说明",
        required=False,
        max_length=CAPTION_MAX,
        error_messages=_too_long("链接说明", CAPTION_MAX),
    )

    def __init__(self, *args, metrics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.metrics = list(metrics)
        for metric in self.metrics:
            label = f"“{metric.name}”"
            self.fields[metric_field_name(metric.pk)] = MetricField(
                label=f"{metric.name} · {metric.input_label}",
                help_text=metric.input_help,
                required=False,
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                error_messages={
                    "invalid": f"{label}应填写数字，如 {'120' if is_count(metric) else '120 或 3.5'}。",
                    "min_value": f"{label}不能为负数，请填写 0 或正数。",
                    "max_digits": f"{label}数值过大，请核对单位。",
                    "max_decimal_places": f"{label}最多保留两位小数。",
                    "max_whole_digits": f"{label}数值过大，请核对单位。",
                },
                widget=forms.TextInput(
                    attrs={"inputmode": "numeric" if is_count(metric) else "decimal", "autocomplete": "off"}
                ),
            )
            self.fields[metric_field_name(metric.pk)].widget.attrs.update(
                {
                    "data-typical-max": _figure(metric.typical_max) if metric.typical_max is not None else "",
                    "data-metric-kind": "flow" if metric.is_flow else "stock",
                }
            )
            self.fields[metric_field_name(metric.pk)].metric = metric
            self.fields[metric_field_name(metric.pk)].figure_label = label
        for name, field in self.fields.items():
            if name != "progress_status":
                field.widget.attrs.setdefault("class", "form-control")

    def metric_fields(self):
        return [self[metric_field_name(m.pk)] for m in self.metrics]

    def metric_values(self) -> dict[int, Decimal | None]:
        return {m.pk: self.cleaned_data.get(metric_field_name(m.pk)) for m in self.metrics}

    def report_fields(self) -> dict[str, str]:
        """The report's own content, for ``services.report_save(fields=...)``."""
        return {
            name: self.cleaned_data[name]
            for name in ("progress", "problems", "next_steps", "progress_status")
        }

    def evidence_uploads(self) -> list[tuple[object, str]]:
        """The chosen files with their captions, in order: the i-th ``evidence_caption`` describes the i-th
        file (the page adds one caption box per chosen file)."""
        files = self.cleaned_data.get("evidence_file") or []
        captions = self.data.getlist("evidence_caption") if hasattr(self.data, "getlist") else []
        return [(file, captions[i] if i < len(captions) else "") for i, file in enumerate(files)]

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary at the top of the form: each field's errors link to it."""
        links = []
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            field = self[name]
            anchor = field.auto_id if name != "progress_status" else f"{field.auto_id}_0"
            label = field.label.split(" · ")[0]
            # A message that already names its field ("“展板”不能为负数") is not prefixed with it again.
            links.extend((anchor, error if label in error else f"{label}：{error}") for error in errors)
        return links

    def mark_invalid(self) -> None:
        """Fields with errors say so to the eye (Bootstrap's is-invalid) and to screen readers."""
        for name in self.errors:
            if name in self.fields and name != "progress_status":
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def rebase(self, version: int) -> None:
        """Keep what the person typed on screen but make their next save against ``version``: after a
        conflict (they then overwrite knowingly) or after their draft was saved and the submit refused."""
        self.data = self.data.copy()
        self.data["version"] = str(version)

    def text_fields(self):
        return [self["progress"], self["problems"], self["next_steps"]]


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label="退回原因",
        max_length=REMARK_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "请写明需要补充或修改的内容"}),
        error_messages={
            "required": "退回时必须填写退回原因，以便联络员知道如何修改。",
            **_too_long("退回原因", REMARK_MAX),
        },
    )


class ReopenForm(forms.Form):
    period = forms.ModelChoiceField(
        label="报告期",
        queryset=ReportingPeriod.objects.none(),
        error_messages={"required": "请选择报告期。", "invalid_choice": "请选择已截止的报告期。"},
    )
    unit = forms.ModelChoiceField(
        label="单位",
        queryset=Unit.objects.none(),
        error_messages={"required": "请选择单位。", "invalid_choice": "请选择单位。"},
    )
    reason = forms.CharField(
        label="开放原因",
        max_length=REMARK_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": "请填写开放补报的原因。", **_too_long("开放原因", REMARK_MAX)},
    )
    until = forms.DateField(
        label="开放至（可不填）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
        error_messages={"invalid": "请填写有效日期。"},
    )

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = ReportingPeriod.objects.filter(
            campaign=campaign, state=ReportingPeriod.State.CLOSED
        ).order_by("-year", "-quarter")
        self.fields["period"].label_from_instance = lambda p: p.label
        self.fields["unit"].queryset = Unit.objects.filter(is_active=True).order_by("order", "id")
