"""Forms of the plan pages: they parse what the office typed; tasks.services checks and writes it."""

from __future__ import annotations

from django import forms

from units.models import Unit

from .models import Target

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
