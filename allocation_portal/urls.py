from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from gpus import api as gpus_api
from gpus import lending_api
from gpus import views as lending_views
from monitoring import api as monitoring_api
from monitoring import case_api, case_views
from monitoring import views as monitoring_views
from projects import api as projects_api
from projects import views as project_views

from . import views
from .admin import portal_admin
from .api_views import AuditEventViewSet, OwnTokenView, TokenViewSet

router = DefaultRouter()
router.register("ministries", projects_api.MinistryViewSet, basename="ministry")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register("providers", gpus_api.ProviderViewSet, basename="provider")
router.register("clusters", gpus_api.ClusterViewSet, basename="cluster")
router.register("allocations", gpus_api.AllocationViewSet, basename="allocation")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("tokens", TokenViewSet, basename="token")
router.register("reports", monitoring_api.ReportViewSet, basename="report")
router.register("notifications", monitoring_api.NotificationViewSet, basename="notification")
router.register("loan-requests", lending_api.LoanRequestViewSet, basename="loan-request")
router.register("loans", lending_api.LoanViewSet, basename="loan")
router.register("cases", case_api.CaseViewSet, basename="case")
router.register("checks", case_api.CheckRunViewSet, basename="check")
router.register("redistribution/proposals", case_api.ProposalViewSet, basename="proposal")

api_urls = [
    path("capacity/", gpus_api.CapacityView.as_view(), name="capacity"),
    path("board/", monitoring_api.BoardView.as_view(), name="board"),
    path("lending/calendar/", lending_api.CalendarView.as_view(), name="lending-calendar"),
    path("policy/", case_api.PolicyView.as_view(), name="policy"),
    path("token/", OwnTokenView.as_view(), name="own-token"),
    *router.urls,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
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
    path("programme/", project_views.programme_overview, name="programme"),
    path("projects/", project_views.project_list_view, name="project-list"),
    path("projects/<str:code>/", project_views.project_detail, name="project-detail"),
    path("projects/<str:code>/award/", project_views.project_award, name="project-award"),
    path(
        "projects/<str:code>/allocations/<uuid:allocation_id>/release/",
        project_views.project_release,
        name="project-release",
    ),
    path("projects/<str:code>/plan/", project_views.project_plan, name="project-plan"),
    path("projects/<str:code>/reports/new/", monitoring_views.report_new, name="report-new"),
    path("reports/", monitoring_views.report_list, name="report-list"),
    path("reports/upload/", monitoring_views.report_upload, name="report-upload"),
    path("reports/upload/template.<str:fmt>", monitoring_views.upload_template, name="report-upload-template"),
    path("reports/<uuid:report_id>/", monitoring_views.report_detail, name="report-detail"),
    path("reports/<uuid:report_id>/edit/", monitoring_views.report_edit, name="report-edit"),
    path("reports/<uuid:report_id>/evidence/", monitoring_views.report_evidence, name="report-evidence"),
    path("reports/<uuid:report_id>/accept/", monitoring_views.report_accept_view, name="report-accept"),
    path("reports/<uuid:report_id>/return/", monitoring_views.report_return_view, name="report-return"),
    path("monitoring/board/", monitoring_views.board, name="board"),
    path("monitoring/board/export.<str:fmt>", monitoring_views.board_export, name="board-export"),
    path("monitoring/cases/", case_views.case_list, name="case-list"),
    path("monitoring/cases/off-purpose/new/", case_views.off_purpose_new, name="case-off-purpose-new"),
    path("monitoring/cases/<uuid:case_id>/", case_views.case_detail, name="case-detail"),
    path("monitoring/cases/<uuid:case_id>/evidence/", case_views.case_evidence, name="case-evidence"),
    path("monitoring/cases/<uuid:case_id>/<slug:step>/", case_views.case_action, name="case-action"),
    path("monitoring/checks/", case_views.checks, name="checks"),
    path("monitoring/policy/", case_views.policy, name="policy"),
    path("monitoring/redistribution/", case_views.redistribution_board, name="redistribution"),
    path("monitoring/redistribution/<slug:step>/", case_views.redistribution_action, name="redistribution-action"),
    path(
        "monitoring/redistribution/<uuid:proposal_id>/<slug:step>/",
        case_views.redistribution_action,
        name="redistribution-proposal-action",
    ),
    path("projects/<str:code>/gpu-request/", case_views.gpu_request_new, name="project-gpu-request"),
    path("notifications/", monitoring_views.notification_list, name="notification-list"),
    path("notifications/read/", monitoring_views.notification_read, name="notification-read"),
    path("projects/<str:code>/start/", project_views.project_start, name="project-start"),
    path("projects/<str:code>/expected-start/", project_views.project_expected_start, name="project-expected-start"),
    path("lending/", lending_views.lending_public, name="lending-public"),
    path("lending/signup/", lending_views.signup, name="lending-signup"),
    path("lending/dashboard/", lending_views.dashboard, name="lending-dashboard"),
    path("lending/organisation/", lending_views.organisation, name="lending-organisation"),
    path("lending/requests/new/", lending_views.request_new, name="lending-request-new"),
    path("lending/requests/<uuid:request_id>/", lending_views.request_detail, name="lending-request"),
    path("lending/requests/<uuid:request_id>/edit/", lending_views.request_edit, name="lending-request-edit"),
    path("lending/requests/<uuid:request_id>/withdraw/", lending_views.request_withdraw, name="lending-request-withdraw"),
    path(
        "lending/requests/<uuid:request_id>/review/<slug:step>/",
        lending_views.request_review,
        name="lending-request-review",
    ),
    path("lending/queue/", lending_views.queue, name="lending-queue"),
    path("lending/loans/", lending_views.loan_list, name="lending-loans"),
    path("lending/loans/<uuid:loan_id>/", lending_views.loan_detail, name="lending-loan"),
    path("lending/loans/<uuid:loan_id>/<slug:step>/", lending_views.loan_action, name="lending-loan-action"),
    path("ministries/", project_views.ministry_list_view, name="ministry-list"),
    path("ministries/<slug:code>/", project_views.ministry_detail, name="ministry-detail"),
    path("audit/", views.audit_log, name="audit-log"),
    path("admin/", portal_admin.urls),
    path("api/v1/", include((api_urls, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "allocation_portal.views.handler400"
handler403 = "allocation_portal.views.handler403"
handler404 = "allocation_portal.views.handler404"
handler500 = "allocation_portal.views.handler500"
