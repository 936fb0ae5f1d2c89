from django.contrib import admin

from .models import (
    EvidencePick,
    Indicator,
    IndicatorAccount,
    IndicatorLink,
    IndicatorSystem,
    InspectorGrant,
    InspectorView,
    OfficeFile,
    ScoreEntry,
)


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["code", "title", "level", "points", "parent", "order"]
    raw_id_fields = ["parent"]
    show_change_link = True


@admin.register(IndicatorSystem)
class IndicatorSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "scope", "is_example", "is_active", "full_score", "pass_score", "created_at"]
    list_filter = ["scope", "is_example", "is_active"]
    search_fields = ["name", "source"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [IndicatorInline]


class IndicatorLinkInline(admin.TabularInline):
    model = IndicatorLink
    extra = 0
    raw_id_fields = ["task", "metric"]
    readonly_fields = ["similarity", "shared_words", "decided_by", "decided_at"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "system", "level", "points"]
    list_filter = ["system", "level"]
    search_fields = ["code", "title", "scoring_rule"]
    raw_id_fields = ["parent"]
    inlines = [IndicatorLinkInline]


@admin.register(IndicatorLink)
class IndicatorLinkAdmin(admin.ModelAdmin):
    list_display = ["indicator", "task", "metric", "state", "similarity", "decided_by", "decided_at"]
    list_filter = ["state", "indicator__system"]
    search_fields = ["indicator__title", "task__title", "shared_words"]
    raw_id_fields = ["indicator", "task", "metric"]


@admin.register(IndicatorAccount)
class IndicatorAccountAdmin(admin.ModelAdmin):
    list_display = ["indicator", "score", "version", "updated_by", "updated_at"]
    raw_id_fields = ["indicator"]
    readonly_fields = ["version", "updated_by", "updated_at"]


@admin.register(ScoreEntry)
class ScoreEntryAdmin(admin.ModelAdmin):
    list_display = ["indicator", "score", "hint", "by", "at"]
    raw_id_fields = ["indicator"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OfficeFile)
class OfficeFileAdmin(admin.ModelAdmin):
    list_display = ["original_name", "indicator", "size", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["indicator"]
    readonly_fields = ["sha256", "size", "content_type", "uploaded_by", "uploaded_at"]


@admin.register(EvidencePick)
class EvidencePickAdmin(admin.ModelAdmin):
    list_display = ["indicator", "report", "evidence", "office_file", "order", "picked_by", "picked_at"]
    raw_id_fields = ["indicator", "report", "evidence", "office_file"]


@admin.register(InspectorGrant)
class InspectorGrantAdmin(admin.ModelAdmin):
    list_display = ["name", "system", "expires_at", "revoked_at", "created_by", "created_at"]
    readonly_fields = ["token", "code_hash", "created_by", "created_at"]


@admin.register(InspectorView)
class InspectorViewAdmin(admin.ModelAdmin):
    list_display = ["grant", "path", "what", "ip", "at"]
    list_filter = ["grant"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
