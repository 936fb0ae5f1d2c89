from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Read-only views over reports, tasks and units: no models of its own (its read model, the figures it
    reads, lives in ``reports.figures`` and ``reports.models``)."""

    name = "reports.dashboards"
    label = "dashboards"
    verbose_name = "看板"

    def ready(self) -> None:
        # A period's due date moved by the plan editor changes who was on time: the read model recounts the
        # period in the same transaction. tasks may not import reports (units → campaign → tasks → reports),
        # so tasks/services.py offers a list of callables, as reports/services.py does for notifications.
        from reports import figures
        from tasks import services as plan_services

        hooks = getattr(plan_services, "on_period_due_changed", None)
        if hooks is not None and figures.period_due_changed not in hooks:
            hooks.append(figures.period_due_changed)
