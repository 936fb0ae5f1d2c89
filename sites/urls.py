from django.urls import path

from . import documents, views

app_name = "sites"

urlpatterns = [
    path("", views.site_list, name="list"),
    path("add/", views.site_add, name="add"),
    path("<int:pk>/", views.site_detail, name="detail"),
    path("<int:pk>/edit/", views.site_edit, name="edit"),
    path("<int:pk>/upload/", views.site_upload, name="upload"),
    path("<int:pk>/naming/", views.site_naming_request, name="naming_request"),
    path("namings/", views.naming_queue, name="namings"),
    path("namings/<int:pk>/decide/", views.naming_decide, name="naming_decide"),
    path("merge/", views.site_merge, name="merge"),
    path("ledger.xlsx", documents.ledger_xlsx, name="ledger_xlsx"),
    path("directory.pdf", documents.directory_pdf, name="directory_pdf"),
]
