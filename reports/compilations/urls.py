from django.urls import path

from . import views

app_name = "compilations"
urlpatterns = [
    path("", views.compilation_list, name="list"),
    path("new/", views.compilation_new, name="new"),
    path("<int:pk>/", views.compilation_detail, name="detail"),
    path("<int:pk>/progress/", views.compilation_progress, name="progress"),
    path("<int:pk>/download/", views.compilation_download, name="download"),
    path("<int:pk>/retry/", views.compilation_retry, name="retry"),
]
