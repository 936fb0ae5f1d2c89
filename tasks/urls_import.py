from django.urls import path

from . import import_views

app_name = "plan_import"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("preview/", import_views.preview, name="preview"),
    path("cancel/", import_views.cancel, name="cancel"),
]
