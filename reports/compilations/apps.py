from django.apps import AppConfig


class CompilationsConfig(AppConfig):
    name = "reports.compilations"
    label = "compilations"
    verbose_name = "汇编与报表"
