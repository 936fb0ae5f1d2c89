"""Forms of the indicator-system pages: they collect what was typed; ``services`` checks and writes it."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from .importer import MAX_FILE_BYTES
from .models import Indicator, IndicatorSystem

TEXTAREA = {"rows": 3, "class": "form-control"}


def _styled(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault("class", "form-control")


class SystemForm(forms.Form):
    name = forms.CharField(
        label="指标体系名称",
        max_length=200,
        error_messages={"required": "请填写指标体系名称。", "max_length": "名称不能超过 200 字。"},
    )
    scope = forms.ChoiceField(label="层级", choices=IndicatorSystem.Scope.choices, initial="national")
    source = forms.CharField(
        label="依据文件",
        max_length=300,
        required=False,
        help_text="如：国家民委《全国民族团结进步示范测评指标体系（试行）》",
        error_messages={"max_length": "依据文件不能超过 300 字。"},
    )
    full_score = forms.DecimalField(
        label="满分",
        initial=Decimal(100),
        min_value=Decimal("0.01"),
        max_digits=6,
        decimal_places=2,
        error_messages={"required": "请填写满分。", "invalid": "满分应是数字，如 100。"},
    )
    pass_score = forms.DecimalField(
        label="申报分数线",
        initial=Decimal(90),
        min_value=Decimal(0),
        max_digits=6,
        decimal_places=2,
        help_text="自评总分达到此分数方可申报（国家示范州、市为 90 分）。",
        error_messages={"required": "请填写申报分数线。", "invalid": "申报分数线应是数字，如 90。"},
    )
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs=TEXTAREA))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)

    @classmethod
    def initial_from(cls, system: IndicatorSystem) -> dict:
        return {name: getattr(system, name) for name in cls.base_fields}


class ImportForm(SystemForm):
    document = forms.FileField(
        label="指标表文件",
        help_text="Word(.docx) 中的表格、Excel(.xlsx) 的第一个工作表，或文本(.txt)；列为 序号 / 指标 / 分值 / 评分标准 / 佐证材料，不超过 10MB。",
        error_messages={"required": "请选择指标表文件。", "empty": "上传的文件是空的，请选择指标表文件。"},
        allow_empty_file=True,
    )

    field_order = ["document", "name", "scope", "source", "full_score", "pass_score", "description"]

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > MAX_FILE_BYTES:
            raise forms.ValidationError("文件超过 10MB，请确认选择的文件是否正确。")
        return document


class IndicatorForm(forms.Form):
    code = forms.CharField(
        label="序号",
        max_length=20,
        help_text="如 1、1.2、1.2.3",
        error_messages={"required": "请填写序号。", "max_length": "序号不能超过 20 个字符。"},
    )
    title = forms.CharField(
        label="指标",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写指标名称。", "max_length": "指标名称不能超过 300 字。"},
    )
    points = forms.CharField(
        label="分值",
        required=False,
        help_text="只有末级指标填写分值；上级指标的分值由其下末级指标合计得出。",
    )
    scoring_rule = forms.CharField(label="评分标准", required=False, widget=forms.Textarea(attrs=TEXTAREA))
    evidence_expected = forms.CharField(
        label="佐证材料要求", required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )

    def __init__(self, *args, is_branch: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)
        if is_branch:
            self.fields["points"].widget.attrs["disabled"] = True
            self.fields["points"].help_text = "上级指标的分值由其下末级指标合计得出，不能直接填写。"

    @staticmethod
    def initial_from(indicator: Indicator) -> dict:
        return {
            "code": indicator.code,
            "title": indicator.title,
            "points": f"{indicator.points.normalize():f}",
            "scoring_rule": indicator.scoring_rule,
            "evidence_expected": indicator.evidence_expected,
        }
