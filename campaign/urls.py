from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

import campaign.api_views
import notifications.api
import reports.api
import reports.compilations.api
import reports.dashboards.api
import tasks.api
import units.api
from tasks import views as task_views
from units import views as unit_views

from . import views

# One router for the whole API; each app registers its own viewsets.
router = DefaultRouter()
API_MODULES = [
    campaign.api_views,
    units.api,
    tasks.api,
    reports.api,
    reports.dashboards.api,
    reports.compilations.api,
    notifications.api,
]
api_extra: list = []
for module in API_MODULES:
    module.register(router)
    api_extra += getattr(module, "api_urlpatterns", [])

admin.site.site_header = settings.PORTAL_NAME
admin.site.site_title = settings.PORTAL_NAME
admin.site.index_title = "数据管理"

units_patterns = (
    [
        path("", unit_views.directory, name="directory"),
        path("<slug:code>/", unit_views.unit_page, name="detail"),
    ],
    "units",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("plan/", views.plan, name="plan"),
    path("plan/tasks/<int:number>/", task_views.task_page, name="task_detail"),
    path("plan/import/", include("tasks.urls_import")),
    path("units/", include(units_patterns)),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("reports.dashboards.urls")),
    path("compilations/", include("reports.compilations.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include(api_extra)),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
