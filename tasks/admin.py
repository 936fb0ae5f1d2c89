from django.contrib import admin

from .models import Metric, Responsibility, Section, Target, Task


class ResponsibilityInline(admin.TabularInline):
    model = Responsibility
    extra = 0
    autocomplete_fields = ["unit"]


class TargetInline(admin.StackedInline):
    model = Target
    extra = 0
    filter_horizontal = ["units"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "campaign", "order"]
    list_filter = ["campaign"]
    search_fields = ["title", "short_title"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "section", "campaign"]
    list_filter = ["campaign", "section"]
    search_fields = ["title", "text"]
    inlines = [ResponsibilityInline, TargetInline]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["task", "unit", "role", "by_rule"]
    list_filter = ["role", "by_rule", "unit__kind"]
    search_fields = ["task__title", "unit__name"]
    autocomplete_fields = ["unit", "task"]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "unit_of_measure", "aggregation", "is_common", "order"]
    list_filter = ["aggregation", "is_common"]
    search_fields = ["name", "code"]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["task", "metric", "value", "comparison", "scope", "scope_label", "period_kind", "due_on"]
    list_filter = ["scope", "period_kind", "metric"]
    search_fields = ["task__title", "scope_label", "source_text"]
    filter_horizontal = ["units"]
