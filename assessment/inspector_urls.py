"""/assessment/… of the dossier page, the office's grants and the evaluator's read-only pages (inspect/<token>/)."""

from django.urls import path

from . import dossier_views, inspector_views

urlpatterns = [
    path("systems/<int:pk>/dossier/", dossier_views.dossier_page, name="dossier"),
    path("systems/<int:pk>/dossier/build/", dossier_views.dossier_build, name="dossier_build"),
    path("systems/<int:pk>/grants/", inspector_views.grants_page, name="grants"),
    path("grants/<int:pk>/", inspector_views.grant_page, name="grant"),
    path("grants/<int:pk>/revoke/", inspector_views.grant_revoke, name="grant_revoke"),
    path("inspect/<str:token>/", inspector_views.inspect_home, name="inspect"),
    path(
        "inspect/<str:token>/indicators/<int:pk>/",
        inspector_views.inspect_indicator,
        name="inspect_indicator",
    ),
    path(
        "inspect/<str:token>/files/<str:source>/<int:pk>/", inspector_views.inspect_file, name="inspect_file"
    ),
    path("inspect/<str:token>/leave/", inspector_views.inspect_leave, name="inspect_leave"),
]
