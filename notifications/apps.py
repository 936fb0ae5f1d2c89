from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "消息提醒"

    def ready(self) -> None:
        # reports may not import notifications (it is downstream: notifications reads reports), so the
        # workflow steps offer typed hooks and this app plugs its functions in, by reference. They run after
        # the step commits; a failing one is logged and never undoes the step (reports.services._after_commit).
        from reports import services as reports

        from . import services

        for hooks, hook in (
            (reports.on_report_submitted, services.notify_report_submitted),
            (reports.on_report_returned, services.notify_report_returned),
            (reports.on_report_sent_for_signoff, services.notify_report_sent_for_signoff),
            (reports.on_period_reopened, services.notify_period_reopened),
        ):
            if hook not in hooks:  # ready() may run more than once (tests, management commands)
                hooks.append(hook)
