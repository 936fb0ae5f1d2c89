"""/assessment/…: each part of the app keeps its own URL module."""

from django.urls import include, path

app_name = "assessment"

urlpatterns = [
    path("", include("assessment.system_urls")),
    path("", include("assessment.scoring_urls")),
    path("", include("assessment.inspector_urls")),
]
