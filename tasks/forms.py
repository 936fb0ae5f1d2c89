"""Forms of the plan pages: they parse what the office typed; tasks.services checks and writes it."""

from __future__ import annotations

from django import forms

from units.models import Unit

from .models import Metric, Target

REQUIRED = "请填写此项。"
DATE = "请按“年-月-日”填写日期，如 2025-01-10。"


def active_units():
    return Unit.objects.filter(is_active=True).order_by("order", "id")


class TaskForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200, error_messages={"required": "任务标题不能为空。"})
    text = forms.CharField(
        label="任务内容",
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "任务内容不能为空。"},
    )


class UnitsForm(forms.Form):
    """One lead and any number of co-responsible units, chosen from the unit directory."""

    lead = forms.ModelChoiceField(
        label="牵头单位",
        queryset=active_units(),
        error_messages={
            "required": "请选择一个牵头单位：每项任务有且只有一个牵头单位。",
            "invalid_choice": "所选牵头单位不存在或已停用，请重新选择。",
        },
    )
    co = forms.ModelMultipleChoiceField(
        label="配合单位",
        queryset=active_units(),
        required=False,
        error_messages={"invalid_choice": "所选配合单位中有不存在或已停用的单位，请重新选择。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Fresh querysets per form: the directory may have changed since the module was imported.
        self.fields["lead"].queryset = active_units()
        self.fields["co"].queryset = active_units()


class TargetForm(forms.Form):
    value = forms.DecimalField(
        label="目标值",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "required": "请填写目标值。",
            "min_value": "目标值不能小于 0。",
            "invalid": "目标值须为数字。",
        },
    )
    comparison = forms.ChoiceField(label="比较", choices=Target.Comparison.choices)
    due_on = forms.DateField(label="截至日期", required=False, error_messages={"invalid": DATE})


class TargetFullForm(forms.Form):
    """A whole target, for adding one to a task or changing its metric and scope: an existing metric, or a
    new one (name, unit of measure, flow or stock); the comparison and value; the scope, its label and the
    units in it; the kind of deadline and its date."""

    metric = forms.ModelChoiceField(
        label="已有指标",
        queryset=Metric.objects.none(),
        required=False,
        error_messages={"invalid_choice": "所选指标不存在，请重新选择。"},
    )
    new_metric_name = forms.CharField(label="新指标名称", max_length=50, required=False)
    new_metric_uom = forms.CharField(label="新指标计量单位", max_length=10, required=False)
    new_metric_aggregation = forms.ChoiceField(
        label="新指标汇总方式",
        choices=Metric.Aggregation.choices,
        initial=Metric.Aggregation.SUM,
        required=False,
    )
    comparison = forms.ChoiceField(label="比较", choices=Target.Comparison.choices)
    value = TargetForm.base_fields["value"]
    scope = forms.ChoiceField(
        label="范围",
        choices=Target.Scope.choices,
        error_messages={"required": "请选择目标的范围。", "invalid_choice": "请选择列出的范围之一。"},
    )
    scope_label = forms.CharField(label="范围说明", max_length=60, required=False)
    units = forms.ModelMultipleChoiceField(
        label="范围内单位",
        queryset=Unit.objects.none(),
        required=False,
        error_messages={"invalid_choice": "所选单位中有不存在或已停用的单位，请重新选择。"},
    )
    period_kind = forms.ChoiceField(
        label="时限",
        choices=Target.PeriodKind.choices,
        error_messages={"required": "请选择时限。", "invalid_choice": "请选择列出的时限之一。"},
    )
    due_on = forms.DateField(label="截至日期", required=False, error_messages={"invalid": DATE})
    source_text = forms.CharField(label="方案原文或说明", max_length=300, required=False)

    def __init__(self, *args, target: Target | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = Metric.objects.order_by("order", "id")
        # Active units, and the ones already in the target's scope even if deactivated since.
        units = Unit.objects.filter(is_active=True)
        if target is not None:
            units = units | Unit.objects.filter(pk__in=target.units.values("pk"))
        self.fields["units"].queryset = units.distinct().order_by("order", "id")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        name, uom = data.get("new_metric_name", "").strip(), data.get("new_metric_uom", "").strip()
        if data.get("metric") and (name or uom):
            raise forms.ValidationError(
                "已选择已有指标，又填写了新指标：请二者选一（用已有指标时清空新指标的名称和计量单位）。"
            )
        if not data.get("metric") and not (name or uom):
            raise forms.ValidationError("请选择一个已有指标，或填写新指标的名称和计量单位。")
        return data


class PhaseForm(forms.Form):
    name = forms.CharField(label="阶段名称", max_length=50, error_messages={"required": "阶段名称不能为空。"})
    starts_on = forms.DateField(label="开始日期", error_messages={"required": REQUIRED, "invalid": DATE})
    ends_on = forms.DateField(label="结束日期", error_messages={"required": REQUIRED, "invalid": DATE})


class PeriodForm(forms.Form):
    due_on = forms.DateField(
        label="报送截止日期", error_messages={"required": "请填写报送截止日期。", "invalid": DATE}
    )


class HistoryFilter(forms.Form):
    """The history page's filters; wrong values are ignored rather than refused."""

    task = forms.IntegerField(label="任务编号", required=False, min_value=1)
    person = forms.IntegerField(label="操作人", required=False)
    date_from = forms.DateField(label="起始日期", required=False)
    date_to = forms.DateField(label="截止日期", required=False)

    def values(self) -> dict:
        if not self.is_valid():
            return {name: self.cleaned_data.get(name) for name in self.fields if name not in self.errors}
        return dict(self.cleaned_data)


class PhaseNewForm(PhaseForm):
    description = forms.CharField(
        label="工作内容", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
