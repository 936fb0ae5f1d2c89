"""H4b: a leaf's evidence, account and score (/assessment/indicators/<id>/…) and the score dashboard
(/assessment/systems/<id>/scores/)."""

from django.urls import path

from . import scoring_views as views

urlpatterns = [
    path("indicators/<int:pk>/", views.indicator_page, name="indicator"),
    path("indicators/<int:pk>/account/", views.account_save, name="account_save"),
    path("indicators/<int:pk>/score/", views.score_save, name="score_save"),
    path("indicators/<int:pk>/picks/", views.pick_add, name="pick_add"),
    path("indicators/<int:pk>/picks/order/", views.picks_reorder, name="picks_reorder"),
    path("indicators/<int:pk>/files/", views.office_file_add, name="office_file_add"),
    path("picks/<int:pk>/remove/", views.pick_remove, name="pick_remove"),
    path("picks/<int:pk>/move/", views.pick_move, name="pick_move"),
    path("office-files/<int:pk>/", views.office_file_download, name="office_file"),
    path("office-files/<int:pk>/remove/", views.office_file_remove, name="office_file_remove"),
    path("systems/<int:pk>/scores/", views.scores_page, name="scores"),
]
