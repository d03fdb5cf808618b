"""The inventory's and the ledger's API endpoints, registered on the core's router."""

from django.urls import path

from allocation_portal import api_router

from . import api


def register() -> None:
    api_router.add_path(path("capacity/", api.CapacityView.as_view(), name="capacity"))
    api_router.register("providers", api.ProviderViewSet, "provider")
    api_router.register("clusters", api.ClusterViewSet, "cluster")
    api_router.register("allocations", api.AllocationViewSet, "allocation")
