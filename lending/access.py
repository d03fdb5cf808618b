"""Which requests and loans a user may see, and whether they may change them. Every view and
endpoint fetches through here; services ask `can_change_*` for the same rule, so it is written once.

Applicants see and change their organisation's requests and loans; MSIT admins see and act on all;
auditors see all and change nothing; anyone else sees none (404)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from .models import Loan, LoanRequest


def _in_organisation(user, organisation_id) -> bool:
    return bool(user.is_authenticated and user.is_applicant and user.organisation_id == organisation_id)


def can_change_request(user, request: LoanRequest) -> bool:
    return bool(user.is_authenticated and (user.is_msit_admin or _in_organisation(user, request.organisation_id)))


def can_change_loan(user, loan: Loan) -> bool:
    return bool(user.is_authenticated and (user.is_msit_admin or _in_organisation(user, loan.organisation_id)))


def requests_for_user(user):
    if not user.is_authenticated:
        return LoanRequest.objects.none()
    if user.reads_everything:
        return LoanRequest.objects.all()
    if user.is_applicant:
        return LoanRequest.objects.filter(organisation_id=user.organisation_id)
    return LoanRequest.objects.none()


def loans_for_user(user):
    if not user.is_authenticated:
        return Loan.objects.none()
    if user.reads_everything:
        return Loan.objects.all()
    if user.is_applicant:
        return Loan.objects.filter(organisation_id=user.organisation_id)
    return Loan.objects.none()


def get_request_for_user(user, public_id) -> tuple[LoanRequest, bool]:
    """(the request, whether the user may change it); 404 outside the user's scope."""
    try:
        request = requests_for_user(user).select_related(
            "organisation", "submitted_by", "reviewed_by", "pool").get(public_id=public_id)
    except (LoanRequest.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such request.") from None
    return request, can_change_request(user, request)


def get_loan_for_user(user, public_id) -> tuple[Loan, bool]:
    """(the loan, whether the user may change it); 404 outside the user's scope."""
    try:
        loan = loans_for_user(user).select_related("organisation", "request").get(public_id=public_id)
    except (Loan.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such loan.") from None
    return loan, can_change_loan(user, loan)
