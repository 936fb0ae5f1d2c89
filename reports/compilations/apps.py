from django.apps import AppConfig


class CompilationsConfig(AppConfig):
    name = "reports.compilations"
    label = "compilations"
    verbose_name = "汇编与报表"

    def ready(self) -> None:
        from . import checks  # noqa: F401  registers the font check
