from __future__ import annotations

from django import forms

from tasks.models import Task
from units.models import Unit

from .models import Site


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "category", "county", "address", "level", "task", "contact_name", "contact_phone"]
        widgets = {"contact_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = Unit.objects.filter(
            is_active=True, kind__in=[Unit.Kind.COUNTY, Unit.Kind.PARK]
        ).order_by("order", "id")
        self.fields["task"].queryset = Task.objects.filter(section__title__contains="八进").order_by("number")
        self.fields["task"].label = "服务的“八进”任务"
        self.fields["level"].label = "级别（拟创建或已命名）"
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class NamingForm(forms.Form):
    level = forms.ChoiceField(label="命名级别", choices=Site.Level.choices)
    named_on = forms.DateField(label="命名日期", widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.FileField(label="命名文件（PDF、图片或 Word）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
