"""H4a: indicator systems, their tree, import and the indicator ↔ task mapping."""

from django.urls import path

from . import system_views as views

urlpatterns = [
    path("", views.system_list, name="systems"),
    path("systems/new/", views.system_create, name="system_create"),
    path("import/", views.system_import, name="import"),
    path("import/confirm/", views.system_import_confirm, name="import_confirm"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
    path("systems/<int:pk>/archive/", views.system_archive, name="system_archive"),
    path("systems/<int:pk>/indicators/add/", views.indicator_add, name="indicator_add"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/move/", views.indicator_move, name="indicator_move"),
    path("indicators/<int:pk>/shift/", views.indicator_shift, name="indicator_shift"),
    path("indicators/<int:pk>/delete/", views.indicator_delete, name="indicator_delete"),
    path("systems/<int:pk>/mapping/", views.mapping, name="mapping"),
    path("systems/<int:pk>/mapping/suggest/", views.mapping_suggest, name="mapping_suggest"),
    path("systems/<int:pk>/mapping/tasks/", views.task_search, name="task_search"),
    path("indicators/<int:pk>/links/add/", views.link_add, name="link_add"),
    path("links/<int:pk>/decide/", views.link_decide, name="link_decide"),
]
