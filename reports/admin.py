from django.contrib import admin

from . import figures
from .models import Evidence, MetricValue, PeriodReopening, ProgressReport, ReportEvent


class MetricValueInline(admin.TabularInline):
    model = MetricValue
    extra = 0


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    readonly_fields = ["sha256", "size", "content_type", "uploaded_by", "uploaded_at"]


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "actor", "at", "comment", "from_state", "to_state", "version"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProgressReport)
class ProgressReportAdmin(admin.ModelAdmin):
    list_display = ["period", "unit", "task", "state", "progress_status", "submitted_at", "reviewed_at"]
    list_filter = ["state", "progress_status", "period", "unit__kind"]
    search_fields = ["unit__name", "task__title", "progress", "problems"]
    raw_id_fields = ["period", "unit", "task"]
    inlines = [MetricValueInline, EvidenceInline, ReportEventInline]
    readonly_fields = ["version", "created_at", "updated_at"]

    # Staff editing a report here bypasses the services: the figures the dashboards read follow the change.
    # (Deleting one is refused: its events may not be deleted.)
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        figures.report_moved(form.instance, previous=ProgressReport.State.APPROVED)


@admin.register(ReportEvent)
class ReportEventAdmin(admin.ModelAdmin):
    list_display = ["report", "action", "actor", "at"]
    list_filter = ["action"]
    search_fields = ["comment", "report__unit__name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PeriodReopening)
class PeriodReopeningAdmin(admin.ModelAdmin):
    list_display = ["period", "unit", "until", "opened_by", "opened_at", "revoked_at"]
    list_filter = ["period"]
    search_fields = ["unit__name", "reason"]
