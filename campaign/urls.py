from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

import assessment.api
import campaign.api_views
import notifications.api
import reports.api
import reports.compilations.api
import reports.dashboards.api
import sites.api
import tasks.api
import units.api
from tasks import views as task_views
from units import views as unit_views

from . import issuer_views, views
from .auth_views import obtain_token

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
    sites.api,
    assessment.api,
]
api_extra: list = []
for module in API_MODULES:
    module.register(router)
    api_extra += getattr(module, "api_urlpatterns", [])

# The API docs pages are for signed-in people (a visitor is sent to the login page; the schema itself answers
# 401 through SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]). Swagger UI loads its start-up script as a file
# (the "split" view) but keeps a small inline <style>; Redoc writes its styles inline and runs a blob: worker.
api_docs = login_required(
    csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema"))
)
api_redoc = login_required(
    csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="schema")
    )
)

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
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("healthz/", views.healthz, name="healthz"),
    path("plan/", views.plan, name="plan"),
    path("plan/issuer/", issuer_views.issuer_settings, name="issuer"),
    path("plan/tasks/<int:number>/", task_views.task_page, name="task_detail"),
    path("plan/import/", include("tasks.urls_import")),
    path("units/", include(units_patterns)),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("reports.dashboards.urls")),
    path("compilations/", include("reports.compilations.urls")),
    path("notifications/", include("notifications.urls")),
    path("sites/", include("sites.urls")),
    path("assessment/", include("assessment.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_token, name="api-token"),
    path("api/v1/", include(api_extra)),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/redoc/", api_redoc, name="api-redoc"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Django calls these when DEBUG is off; campaign.decorators.ErrorPagesMiddleware gives the same pages with it on.
handler400 = "campaign.decorators.bad_request"
handler403 = "campaign.decorators.permission_denied"
handler404 = "campaign.decorators.page_not_found"
handler500 = "campaign.decorators.server_error"
