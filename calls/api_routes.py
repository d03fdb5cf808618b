"""Calls' API endpoints, registered on the core's router."""

from allocation_portal import api_router

from . import api


def register() -> None:
    api_router.register("calls", api.CallViewSet, "call")
    api_router.register("call-proposals", api.CallProposalViewSet, "call-proposal")
    api_router.register("reviews", api.ReviewViewSet, "call-review")
