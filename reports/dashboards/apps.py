from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Read-only views over reports, tasks and units: no models of its own."""

    name = "reports.dashboards"
    label = "dashboards"
    verbose_name = "看板"
