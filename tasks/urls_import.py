"""/plan/import/…: importing a plan, and the office's plan pages (all plans, activate, edit, history)."""

from django.urls import path

from . import import_views, plan_edit_views

app_name = "plan_import"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("preview/", import_views.preview, name="preview"),
    path("preview/assign/", import_views.preview_assign, name="preview_assign"),
    path("preview/tasks/<int:index>/", import_views.preview_task, name="preview_task"),
    path("cancel/", import_views.cancel, name="cancel"),
    path("plans/", plan_edit_views.plans, name="plans"),
    path("plans/<int:pk>/", plan_edit_views.plan_page, name="plan"),
    path("plans/<int:pk>/activate/", plan_edit_views.activate, name="activate"),
    path("plans/<int:pk>/history/", plan_edit_views.history, name="history"),
    path("plans/<int:pk>/periods/next/", plan_edit_views.period_next, name="period_next"),
    path("tasks/<int:pk>/", plan_edit_views.task_manage, name="task"),
    path("tasks/<int:pk>/units/", plan_edit_views.task_units, name="task_units"),
    path("tasks/<int:pk>/targets/new/", plan_edit_views.target_new, name="target_new"),
    path("targets/<int:pk>/", plan_edit_views.target_edit, name="target"),
    path("targets/<int:pk>/edit/", plan_edit_views.target_change, name="target_change"),
    path("targets/<int:pk>/delete/", plan_edit_views.target_remove, name="target_delete"),
    path("plans/<int:pk>/phases/new/", plan_edit_views.phase_new, name="phase_new"),
    path("phases/<int:pk>/", plan_edit_views.phase_edit, name="phase"),
    path("phases/<int:pk>/delete/", plan_edit_views.phase_remove, name="phase_delete"),
    path("periods/<int:pk>/", plan_edit_views.period_edit, name="period"),
    path("periods/<int:pk>/reports/", plan_edit_views.period_reports, name="period_reports"),
]
