"""Which ledger entries a user may see, and whether they may change them. Every view and endpoint
fetches through here. Officials see their ministry's projects' entries; MSIT admins and auditors
all; only MSIT admins change the ledger."""

from __future__ import annotations

from django.http import Http404

from .models import Allocation, HolderKind


def can_change_allocation(user, allocation: Allocation | None = None) -> bool:
    return bool(user.is_authenticated and user.is_msit_admin)


def allocations_for_user(user):
    if not user.is_authenticated:
        return Allocation.objects.none()
    if user.reads_everything:
        return Allocation.objects.all()
    if user.is_official:
        return Allocation.objects.filter(holder_kind__in=[HolderKind.PROJECT, HolderKind.SUSPENDED],
                                         project__ministry_id=user.ministry_id)
    return Allocation.objects.none()


def get_allocation_for_user(user, public_id) -> tuple[Allocation, bool]:
    """(the entry, whether the user may change it); 404 outside the user's scope."""
    try:
        allocation = allocations_for_user(user).select_related("project", "cluster").get(public_id=public_id)
    except (Allocation.DoesNotExist, ValueError):
        raise Http404("No such ledger entry.") from None
    return allocation, can_change_allocation(user, allocation)
