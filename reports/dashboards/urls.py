from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.period_dashboard, name="period"),
    path("targets/", views.targets_dashboard, name="targets"),
    path("trends/", views.trends_dashboard, name="trends"),
    path("leadership/", views.leadership_overview, name="leadership"),
    path("units/<slug:code>/", views.unit_dashboard, name="unit"),
]
