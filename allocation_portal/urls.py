from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from gpus import api as gpus_api
from projects import api as projects_api
from projects import views as project_views

from . import views
from .admin import portal_admin
from .api_views import AuditEventViewSet

router = DefaultRouter()
router.register("ministries", projects_api.MinistryViewSet, basename="ministry")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register("providers", gpus_api.ProviderViewSet, basename="provider")
router.register("clusters", gpus_api.ClusterViewSet, basename="cluster")
router.register("allocations", gpus_api.AllocationViewSet, basename="allocation")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

api_urls = [
    path("capacity/", gpus_api.CapacityView.as_view(), name="capacity"),
    *router.urls,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("programme/", project_views.programme_overview, name="programme"),
    path("projects/", project_views.project_list_view, name="project-list"),
    path("projects/<str:code>/", project_views.project_detail, name="project-detail"),
    path("projects/<str:code>/award/", project_views.project_award, name="project-award"),
    path(
        "projects/<str:code>/allocations/<uuid:allocation_id>/release/",
        project_views.project_release,
        name="project-release",
    ),
    path("ministries/", project_views.ministry_list_view, name="ministry-list"),
    path("ministries/<slug:code>/", project_views.ministry_detail, name="ministry-detail"),
    path("audit/", views.audit_log, name="audit-log"),
    path("admin/", portal_admin.urls),
    path("api/v1/", include((api_urls, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler403 = "allocation_portal.views.handler403"
handler404 = "allocation_portal.views.handler404"
handler500 = "allocation_portal.views.handler500"
