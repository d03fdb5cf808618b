"""Monitoring's API endpoints (reports, the board, cases, checks, policy, redistribution),
registered on the core's router."""

from django.urls import path

from allocation_portal import api_router

from . import api, case_api


def register() -> None:
    api_router.add_path(path("board/", api.BoardView.as_view(), name="board"))
    api_router.add_path(path("policy/", case_api.PolicyView.as_view(), name="policy"))
    api_router.add_path(path("projects/<str:code>/usage/", api.ProjectUsageView.as_view(), name="project-usage"))
    api_router.add_path(path("projects/<str:code>/metered-usage/", api.MeteredUsageView.as_view(),
                             name="project-metered-usage"))
    api_router.register("reports", api.ReportViewSet, "report")
    api_router.register("notifications", api.NotificationViewSet, "notification")
    api_router.register("cases", case_api.CaseViewSet, "case")
    api_router.register("checks", case_api.CheckRunViewSet, "check")
    api_router.register("redistribution/proposals", case_api.ProposalViewSet, "proposal")
