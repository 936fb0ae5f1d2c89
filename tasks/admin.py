from django.contrib import admin

from .models import Metric, PlanChange, Responsibility, Section, Target, Task


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


@admin.register(PlanChange)
class PlanChangeAdmin(admin.ModelAdmin):
    """The plan's history, for looking up only: it is written by tasks.services and never edited."""

    list_display = ["at", "by", "campaign", "object_label", "field", "before", "after"]
    list_filter = ["kind", "campaign"]
    search_fields = ["object_label", "field", "before", "after"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
