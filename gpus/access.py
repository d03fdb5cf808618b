"""Which ledger entries a user may see. Every view and endpoint fetches through here."""

from __future__ import annotations

from django.http import Http404

from projects.access import projects_for_user

from .models import Allocation, HolderKind


def allocations_for_user(user):
    if not user.is_authenticated:
        return Allocation.objects.none()
    if user.reads_everything:
        return Allocation.objects.all()
    if user.is_official:
        return Allocation.objects.filter(holder_kind=HolderKind.PROJECT, project__in=projects_for_user(user))
    return Allocation.objects.none()


def get_allocation_for_user(user, public_id) -> Allocation:
    try:
        return allocations_for_user(user).select_related("project", "cluster").get(public_id=public_id)
    except (Allocation.DoesNotExist, ValueError):
        raise Http404("No such ledger entry.") from None
