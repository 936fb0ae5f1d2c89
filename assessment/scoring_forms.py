"""Forms of a leaf's page. They carry what the person typed back onto the page when a save is refused; the
rules (bounds, required justification, versions, file checks) are the services' (``picks``, ``scoring``)."""

from __future__ import annotations

from django import forms

from reports.models import ProgressReport

from .picks import CAPTION_MAX
from .scoring import JUSTIFICATION_MAX


class AccountForm(forms.Form):
    account = forms.CharField(
        label="情况说明",
        required=False,
        max_length=ProgressReport.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10, "class": "form-control"}),
        help_text="写明本指标的工作开展情况、取得的成效和所附材料，将编入申报材料。",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ScoreForm(forms.Form):
    score = forms.CharField(
        label="自评得分",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "form-control", "inputmode": "decimal", "autocomplete": "off"}
        ),
        help_text="0 到本指标分值之间，可填 0.5 分或两位小数；留空表示撤销评分。",
    )
    justification = forms.CharField(
        label="评分理由",
        required=False,
        max_length=JUSTIFICATION_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text="得分低于分值或与建议分不同时必须填写。",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class OfficeFileForm(forms.Form):
    file = forms.FileField(label="文件", widget=forms.ClearableFileInput(attrs={"class": "form-control"}))
    caption = forms.CharField(
        label="说明",
        required=False,
        max_length=CAPTION_MAX,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "如：市委关于成立领导小组的通知"}
        ),
    )
