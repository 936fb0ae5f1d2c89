from django.apps import AppConfig


class CampaignConfig(AppConfig):
    name = "campaign"
    verbose_name = "创建活动"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the CJK font check)
