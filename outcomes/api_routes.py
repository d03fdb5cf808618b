"""The outcomes' API endpoints, registered on the core's router."""

from django.urls import path

from allocation_portal import api_router

from . import api


def register() -> None:
    api_router.add_path(path("programme/outcomes/", api.OutcomesView.as_view(), name="programme-outcomes"))
    api_router.add_path(path("programme/outcomes/rows/", api.OutcomeRowsView.as_view(), name="programme-outcome-rows"))
    api_router.add_path(path("programme/simulations/", api.SimulationsView.as_view(), name="programme-simulations"))
    api_router.add_path(path("programme/simulations/<uuid:id>/", api.SimulationView.as_view(), name="programme-simulation"))
    api_router.add_path(path("programme/forecast/", api.ForecastView.as_view(), name="programme-forecast"))
