from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assessment"
    verbose_name = "测评与申报"

    def ready(self) -> None:
        # The 申报 dossier is a compiled document: registered here, so that reports never imports assessment.
        from reports.compilations import kinds

        from .dossier_kind import compilation_kind

        kinds.register(compilation_kind())
