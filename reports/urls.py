from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.period_page, name="period"),
    path("history/", views.history_page, name="history"),
    path("fill/<int:period_id>/<int:unit_id>/<int:task_id>/", views.fill_page, name="fill"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/return/", views.return_report, name="return"),
    path("<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    path("evidence/<int:pk>/thumb/", views.evidence_file, {"thumb": True}, name="evidence_thumb"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("signoff/", views.signoff_queue, name="signoff_queue"),
    path("<int:pk>/signoff/", views.signoff, name="signoff"),
    path("<int:pk>/signoff/return/", views.signoff_return, name="signoff_return"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/approve/", views.approve_many, name="approve_many"),
    path("review/export/", views.review_export, name="review_export"),
    path("reopen/", views.reopen, name="reopen"),
    path("reopen/<int:pk>/revoke/", views.reopen_revoke, name="reopen_revoke"),
]
