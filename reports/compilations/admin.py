from django.contrib import admin

from .models import Compilation


@admin.register(Compilation)
class CompilationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "progress", "requested_by", "created_at", "finished_at"]
    list_filter = ["kind", "format", "state"]
    search_fields = ["error", "stage"]
