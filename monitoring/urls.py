from django.urls import path

from . import board_views, case_views, views

urlpatterns = [
    path("projects/<str:code>/reports/new/", views.report_new, name="report-new"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/upload/", views.report_upload, name="report-upload"),
    path("reports/upload/template.<str:fmt>", views.upload_template, name="report-upload-template"),
    path("reports/<uuid:report_id>/", views.report_detail, name="report-detail"),
    path("reports/<uuid:report_id>/edit/", views.report_edit, name="report-edit"),
    path("reports/<uuid:report_id>/evidence/", views.report_evidence, name="report-evidence"),
    path("reports/<uuid:report_id>/accept/", views.report_accept_view, name="report-accept"),
    path("reports/<uuid:report_id>/return/", views.report_return_view, name="report-return"),
    path("monitoring/board/", board_views.board, name="board"),
    path("monitoring/board/export.<str:fmt>", board_views.board_export, name="board-export"),
    path("monitoring/cases/", case_views.case_list, name="case-list"),
    path("monitoring/cases/off-purpose/new/", case_views.off_purpose_new, name="case-off-purpose-new"),
    path("monitoring/cases/<uuid:case_id>/", case_views.case_detail, name="case-detail"),
    path("monitoring/cases/<uuid:case_id>/evidence/", case_views.case_evidence, name="case-evidence"),
    path("monitoring/cases/<uuid:case_id>/<slug:step>/", case_views.case_action, name="case-action"),
    path("monitoring/checks/", case_views.checks, name="checks"),
    path("monitoring/policy/", case_views.policy, name="policy"),
    path("monitoring/redistribution/", case_views.redistribution_board, name="redistribution"),
    path("monitoring/redistribution/<slug:step>/", case_views.redistribution_action, name="redistribution-action"),
    path("monitoring/redistribution/<uuid:proposal_id>/<slug:step>/", case_views.redistribution_action,
         name="redistribution-proposal-action"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/read/", views.notification_read, name="notification-read"),
]
