"""Who sees which proposals and reviews. MSIT admins and auditors see every proposal of a call;
a reviewer sees only the proposals assigned to them (anything else is 404, as if it did not exist);
a ministry official sees their own ministry's national proposals (not their reviewers); nobody else
sees proposals here (applicants see theirs as lending requests)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from .models import Assignment, Proposal


def proposals_for_user(user):
    if not user.is_authenticated:
        return Proposal.objects.none()
    if user.reads_everything:
        return Proposal.objects.all()
    if user.is_reviewer:
        return Proposal.objects.filter(assignments__reviewer=user)
    if user.is_official:
        return Proposal.objects.filter(ministry_id=user.ministry_id, loan_request__isnull=True)
    return Proposal.objects.none()


def get_proposal_for_user(user, public_id, *, call_code: str | None = None) -> Proposal:
    qs = proposals_for_user(user).select_related("call", "round", "organisation", "ministry", "loan_request",
                                                       "project", "stage_reached")
    if call_code is not None:
        qs = qs.filter(call__code=str(call_code)[:40])
    try:
        return qs.get(public_id=public_id)
    except (Proposal.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such proposal.") from None


def assignments_for_reviewer(user):
    if not (user.is_authenticated and user.is_reviewer):
        return Assignment.objects.none()
    return Assignment.objects.filter(reviewer=user)


def get_assignment_for_reviewer(user, public_id) -> Assignment:
    try:
        return assignments_for_reviewer(user).select_related(
            "proposal__call", "proposal__round", "proposal__organisation", "proposal__loan_request").get(public_id=public_id)
    except (Assignment.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such review.") from None
