from django.contrib import admin

from .models import Campaign, Phase, ReportingPeriod


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["title", "city", "starts_on", "ends_on", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["title", "city"]
    inlines = [PhaseInline]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "order", "starts_on", "ends_on"]
    list_filter = ["campaign"]
    search_fields = ["name"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    list_display = ["label", "campaign", "starts_on", "ends_on", "due_on", "state"]
    list_filter = ["campaign", "state", "year"]
    search_fields = ["year"]
