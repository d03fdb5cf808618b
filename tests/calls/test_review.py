"""Expert review: conflicts of interest refuse an assignment with the reason, reviewers see only what
is assigned to them, scores against the rubric give the weighted mean and the spread (with figures),
revise and resubmit, the committee's decision offers GPUs, and reminders go out once a day."""

import datetime as dt
from decimal import Decimal

import pytest

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import Notification
from calls import services_review as review
from calls.models import Proposal
from calls.selectors import weighted_mean
from lending.models import Loan
from tests.lending.conftest import request_values

from .conftest import CODES

pytestmark = pytest.mark.django_db


def scores(*levels):
    return {code: (level, f"why {code}") for code, level in zip(CODES, levels, strict=True)}


def test_weighted_mean_with_figures():
    # (4×40 + 3×30 + 5×30) / 100 = 4.00; (2×40 + 2×30 + 3×30) / 100 = 2.30
    assert weighted_mean([(4, 40), (3, 30), (5, 30)]) == Decimal("4")
    assert weighted_mean([(2, 40), (2, 30), (3, 30)]) == Decimal("2.3")


def test_a_conflicted_reviewer_cannot_be_assigned(world, setup):
    proposal, (one, two, three) = setup
    # Same organisation: the reviewer's affiliation is the applicant.
    two.organisation = world.org_a
    two.save()
    with pytest.raises(StateConflict) as error:
        review.assignment_create(actor=world.admin, proposal=proposal, reviewer=two)
    assert error.value.code == "conflict_of_interest"
    assert "belongs to the applicant's organisation" in error.value.message
    # A declared relationship.
    review.conflict_declare(actor=three, organisation=world.org_a, relationship="Advised their lab in 2025")
    with pytest.raises(StateConflict) as error:
        review.assignment_create(actor=world.admin, proposal=proposal, reviewer=three)
    assert "Advised their lab in 2025" in error.value.message
    with pytest.raises(StateConflict):
        review.conflict_declare(actor=three, organisation=world.org_a, relationship="again")
    with pytest.raises(ValidationFailed):
        review.conflict_declare(actor=one, organisation=world.org_b, relationship=" ")
    # Not a reviewer, not MSIT, twice.
    with pytest.raises(ValidationFailed):
        review.assignment_create(actor=world.admin, proposal=proposal, reviewer=world.auditor)
    with pytest.raises(NotPermitted):
        review.assignment_create(actor=world.auditor, proposal=proposal, reviewer=one)
    assignment = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=one)
    assert assignment.due_on == dt.date(2026, 9, 24)  # the call's 14 review days
    with pytest.raises(StateConflict):
        review.assignment_create(actor=world.admin, proposal=proposal, reviewer=one)
    assert Proposal.objects.get(pk=proposal.pk).state == "in_review"
    assert Notification.objects.filter(user=one, kind="review_assigned").count() == 1


def test_scores_against_the_rubric_give_the_weighted_mean_and_spread(world, setup):
    proposal, reviewers = setup
    assignments = [review.assignment_create(actor=world.admin, proposal=proposal, reviewer=r) for r in reviewers]
    with pytest.raises(ValidationFailed) as error:
        review.review_submit(actor=reviewers[0], assignment=assignments[0], scores={"impact": (7, "x")})
    assert set(error.value.fields) == {"score_impact", "score_ecosystem", "comment_ecosystem", "score_readiness",
                                       "comment_readiness"}
    with pytest.raises(NotPermitted):
        review.review_submit(actor=reviewers[1], assignment=assignments[0], scores=scores(5, 5, 5))
    review.review_submit(actor=reviewers[0], assignment=assignments[0], scores=scores(4, 3, 5))  # 4.00
    review.review_submit(actor=reviewers[1], assignment=assignments[1], scores=scores(2, 2, 3))  # 2.30
    with pytest.raises(StateConflict, match="1 of the 3 reviews|2 of the 3 reviews"):
        review.proposal_decide(actor=world.admin, proposal=proposal, selected=True, rank=1, reason="Strong")
    review.review_submit(actor=reviewers[2], assignment=assignments[2], scores=scores(5, 4, 4))  # 4.40
    from calls.selectors import proposal_reviews

    _assignments, figures = proposal_reviews(proposal)
    # (4.00 + 2.30 + 4.40) / 3 = 3.5666… → 3.57; spread 4.40 − 2.30 = 2.10
    assert (figures.reviews, figures.needed, figures.score, figures.spread) == (3, 3, Decimal("3.57"), Decimal("2.10"))
    # A reviewer changes their mind before the decision.
    review.review_submit(actor=reviewers[1], assignment=assignments[1], scores=scores(3, 3, 3))  # 3.00
    assert proposal_reviews(proposal)[1].score == Decimal("3.80")  # (4 + 3 + 4.4) / 3


def test_revise_and_resubmit_then_the_decision_offers_the_gpus(world, setup):
    proposal, reviewers = setup
    assignments = [review.assignment_create(actor=world.admin, proposal=proposal, reviewer=r) for r in reviewers]
    review.proposal_ask_revision(actor=world.admin, proposal=proposal, note="Say which data you train on")
    proposal.refresh_from_db()
    assert proposal.state == "revision" and proposal.loan_request.state == "changes_requested"
    with pytest.raises(StateConflict):
        review.review_submit(actor=reviewers[0], assignment=assignments[0], scores=scores(5, 5, 5))
    from lending import services as lending

    lending.request_update(actor=world.applicant, request=proposal.loan_request,
                           values=request_values(purpose="Fine-tuning a Korean legal LLM on licensed case law"))
    proposal.refresh_from_db()
    assert proposal.state == "submitted"
    for reviewer, assignment in zip(reviewers, assignments, strict=True):
        review.review_submit(actor=reviewer, assignment=assignment, scores=scores(5, 4, 4))
    decided, offer = review.proposal_decide(actor=world.admin, proposal=proposal, selected=True, rank=1,
                                            reason="Ranked first by the panel")
    assert (decided.state, decided.rank, decided.decision_reason) == ("selected", 1, "Ranked first by the panel")
    assert offer.state == "offered" and Loan.objects.get(request=proposal.loan_request).gpu_count == 2
    with pytest.raises(StateConflict):
        review.proposal_decide(actor=world.admin, proposal=Proposal.objects.get(pk=proposal.pk), selected=False,
                               rank=None, reason="again")


def test_not_selected_rejects_the_request(world, setup):
    proposal, reviewers = setup
    for reviewer in reviewers:
        assignment = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=reviewer)
        review.review_submit(actor=reviewer, assignment=assignment, scores=scores(1, 2, 1))
    with pytest.raises(ValidationFailed):
        review.proposal_decide(actor=world.admin, proposal=proposal, selected=False, rank=None, reason="")
    decided, offer = review.proposal_decide(actor=world.admin, proposal=proposal, selected=False, rank=9,
                                            reason="Below the line")
    assert offer is None and decided.state == "not_selected"
    assert decided.loan_request.state == "rejected"


def test_reminders_go_out_once_a_day_until_the_review_is_in(world, setup, clock, mailoutbox):
    proposal, (one, two, _three) = setup
    first = review.assignment_create(actor=world.admin, proposal=proposal, reviewer=one, due_on=dt.date(2026, 9, 12))
    review.assignment_create(actor=world.admin, proposal=proposal, reviewer=two, due_on=dt.date(2026, 9, 30))
    assert review.review_reminders_send(today=dt.date(2026, 9, 10)) == 1  # due in 2 days; the other in 20
    assert review.review_reminders_send(today=dt.date(2026, 9, 10)) == 0  # once a day
    assert Notification.objects.filter(user=one, kind="review_due").count() == 1
    assert review.review_reminders_send(today=dt.date(2026, 9, 13)) == 1  # overdue
    overdue = Notification.objects.get(user=one, kind="review_due", dedup_key__endswith="2026-09-13")
    assert "2026-09-12" in overdue.title and overdue.title != Notification.objects.exclude(pk=overdue.pk).get(
        user=one, kind="review_due").title  # "overdue since", not "due"
    review.review_submit(actor=one, assignment=first, scores=scores(3, 3, 3))
    assert review.review_reminders_send(today=dt.date(2026, 9, 14)) == 0
