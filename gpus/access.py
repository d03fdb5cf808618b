"""Which ledger entries a user may see. Every view and endpoint fetches through here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
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


def requests_for_user(user):
    """Applicants see their organisation's requests; MSIT admins and auditors all."""
    from .models import LoanRequest

    if not user.is_authenticated:
        return LoanRequest.objects.none()
    if user.reads_everything:
        return LoanRequest.objects.all()
    if user.is_applicant:
        return LoanRequest.objects.filter(organisation_id=user.organisation_id)
    return LoanRequest.objects.none()


def loans_for_user(user):
    from .models import Loan

    if not user.is_authenticated:
        return Loan.objects.none()
    if user.reads_everything:
        return Loan.objects.all()
    if user.is_applicant:
        return Loan.objects.filter(organisation_id=user.organisation_id)
    return Loan.objects.none()


def get_request_for_user(user, public_id):
    from .models import LoanRequest

    try:
        return requests_for_user(user).select_related("organisation", "submitted_by", "reviewed_by").get(public_id=public_id)
    except (LoanRequest.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such request.") from None


def get_loan_for_user(user, public_id):
    from .models import Loan

    try:
        return loans_for_user(user).select_related("organisation", "request").get(public_id=public_id)
    except (Loan.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such loan.") from None
