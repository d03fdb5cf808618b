"""Short-term lending's API endpoints, registered on the core's router."""

from django.urls import path

from allocation_portal import api_router

from . import api


def register() -> None:
    api_router.add_path(path("lending/calendar/", api.CalendarView.as_view(), name="lending-calendar"))
    api_router.register("loan-requests", api.LoanRequestViewSet, "loan-request")
    api_router.register("loans", api.LoanViewSet, "loan")
