from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import api_router, people_views, second_factor_views, sso, views
from .admin import portal_admin
from .api_views import AuditEventViewSet, OwnTokenView, TokenViewSet
from .people_api import PeopleViewSet


def api_urls():
    """The core's own endpoints, then every app's (they register on the core's router when ready)."""
    return [
        path("token/", OwnTokenView.as_view(), name="own-token"),
        *api_router.urlpatterns(),
    ]


api_router.register("audit-events", AuditEventViewSet, "audit-event")
api_router.register("tokens", TokenViewSet, "token")
api_router.register("people", PeopleViewSet, "person")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("privacy/", views.privacy, name="privacy"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    # OpenID Connect single sign-on (404 unless it is configured).
    path("accounts/sso/", sso.StartView.as_view(), name="sso-start"),
    path("accounts/sso/callback/", sso.CallbackView.as_view(), name=sso.CALLBACK_URL_NAME),
    path("accounts/second-factor/", second_factor_views.second_factor_page, name="second-factor"),
    path("accounts/second-factor/set-up/", second_factor_views.second_factor_enrol, name="second-factor-enrol"),
    path("accounts/second-factor/verify/", second_factor_views.second_factor_verify, name="second-factor-verify"),
    path("accounts/second-factor/reset/", second_factor_views.second_factor_reset, name="second-factor-reset"),
    path("accounts/second-factor/recovery-codes/", second_factor_views.recovery_codes_renew,
         name="second-factor-recovery-codes"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("accounts/token/", views.api_token, name="api-token"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("audit/", views.audit_log, name="audit-log"),
    path("people/", people_views.people_list, name="people-list"),
    path("people/invite/", people_views.people_invite, name="people-invite"),
    path("people/invitations/<str:token>/", people_views.invitation_accept, name="invitation-accept"),
    path("people/<uuid:person_id>/", people_views.person_detail, name="person-detail"),
    path("people/<uuid:person_id>/<slug:step>/", people_views.person_action, name="person-action"),
    # Each floor's pages (included by name: the core imports no app).
    path("", include("projects.urls")),
    path("", include("lending.urls")),
    path("", include("calls.urls")),
    path("", include("metering.urls")),
    path("", include("monitoring.urls")),
    path("", include("outcomes.urls")),
    path("admin/", portal_admin.urls),
    path("api/v1/", include((api_urls(), "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "allocation_portal.views.handler400"
handler403 = "allocation_portal.views.handler403"
handler404 = "allocation_portal.views.handler404"
handler500 = "allocation_portal.views.handler500"
