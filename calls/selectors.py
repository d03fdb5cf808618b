"""Reads for calls: the list of calls and one call with its rounds, rules, criteria and capacity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch
from django.http import Http404

from .models import Assignment, Call, Criterion, Proposal, Round


def call_list():
    return Call.objects.annotate(round_count=Count("rounds", distinct=True),
                                 proposal_count=Count("proposals", distinct=True)).order_by("-opens_on", "code")


def get_call(code: str) -> Call:
    """One call with what its page shows (rounds with their proposal counts, criteria, capacity,
    eligible ministries) in a fixed number of queries; 404 for an unknown code."""
    rounds = Round.objects.annotate(proposal_count=Count("proposals")).order_by("number")
    try:
        return Call.objects.prefetch_related(
            Prefetch("rounds", queryset=rounds),
            Prefetch("criteria", queryset=Criterion.objects.order_by("position", "code")),
            "capacity", "eligible_ministries",
        ).get(code=str(code)[:40])
    except Call.DoesNotExist:
        raise Http404("No such call.") from None


def call_proposals(call):
    """The call's proposals with their reviews' scores, newest round first, each with `.figures`
    (reviews, needed, weighted score and spread)."""
    proposals = list(call.proposals.select_related("round", "organisation", "ministry", "call").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.prefetch_related("scores__criterion"))
    ).order_by("-round__number", "submitted_at"))
    for proposal in proposals:
        proposal.figures = proposal_score(proposal, list(proposal.assignments.all()))
    return proposals


def proposal_reviews(proposal):
    """The proposal's assignments with reviewer and scores, and its figures."""
    assignments = list(Assignment.objects.filter(proposal=proposal).select_related("reviewer").prefetch_related(
        "scores__criterion").order_by("assigned_at"))
    return assignments, proposal_score(proposal, assignments)


@dataclass(frozen=True)
class ProposalScore:
    reviews: int  # reviews submitted
    needed: int  # the call's minimum
    score: Decimal | None  # the mean of the reviews' weighted means, on the rubric's scale
    spread: Decimal | None  # the highest review's weighted mean less the lowest

    @property
    def enough(self) -> bool:
        return self.reviews >= self.needed


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weighted_mean(scores: list[tuple[int, int]]) -> Decimal:
    """Σ(score × weight) / Σweight over (score, weight) pairs."""
    total = sum(weight for _score, weight in scores)
    return Decimal(sum(score * weight for score, weight in scores)) / Decimal(total)


def proposal_score(proposal: Proposal, assignments: list[Assignment]) -> ProposalScore:
    """From the proposal's assignments with their scores prefetched (scores__criterion)."""
    means = [weighted_mean([(s.score, s.criterion.weight) for s in a.scores.all()])
             for a in assignments if a.submitted_at is not None and a.scores.all()]
    if not means:
        return ProposalScore(0, proposal.call.min_reviews, None, None)
    return ProposalScore(len(means), proposal.call.min_reviews, _q(sum(means) / len(means)), _q(max(means) - min(means)))
