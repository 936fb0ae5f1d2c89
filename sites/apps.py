from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"
    label = "sites"
    verbose_name = "示范点"
    default_auto_field = "django.db.models.BigAutoField"
