from django.contrib import admin

from .models import CampaignRole, Membership, Unit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent", "order", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    list_editable = ["order"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["unit", "user", "role", "phone", "is_active"]
    list_filter = ["role", "is_active", "unit__kind"]
    search_fields = ["unit__name", "user__username", "user__first_name", "user__last_name", "phone"]
    autocomplete_fields = ["user", "unit"]


@admin.register(CampaignRole)
class CampaignRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "phone"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
