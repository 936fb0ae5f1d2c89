from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("settings/", views.preferences, name="settings"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("bulletin/<int:period_id>.docx", views.bulletin_docx, name="bulletin_docx"),
    path("bulletin/<int:period_id>.pdf", views.bulletin_pdf, name="bulletin_pdf"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("<int:pk>/go/", views.follow, name="go"),
]
