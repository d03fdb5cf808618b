"""Metering's API endpoints, registered on the core's router."""

from django.urls import path

from allocation_portal import api_router

from . import api


def register() -> None:
    api_router.add_path(path("metering/sacct/", api.SacctUploadView.as_view(), name="metering-sacct"))
    api_router.add_path(path("metering/telemetry/", api.TelemetryPullView.as_view(), name="metering-telemetry"))
