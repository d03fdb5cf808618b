"""Reads for calls: the list of calls and one call with its rounds, rules, criteria and capacity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from allocation_portal.formatting import format_number as num

from .models import Assignment, Call, Criterion, Proposal, Round
from .services import eligibility_reasons


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
    mean = sum(means, Decimal(0)) / len(means)
    return ProposalScore(len(means), proposal.call.min_reviews, _q(mean), _q(max(means) - min(means)))


@dataclass(frozen=True)
class Ranked:
    proposal: Proposal
    figures: ProposalScore
    selected: bool
    reason: str  # why it is in or out, for people


def _figures(proposal: Proposal) -> ProposalScore:
    return proposal.figures  # type: ignore[attr-defined]  # attached by call_proposals


def ranked_list(call: Call, proposals: list[Proposal]) -> list[Ranked]:
    """The call's reviewed proposals by score (at equal scores applicants outside the capital region
    first when the call prefers them, then first come), each in or out by the portfolio rules, in
    this order: eligibility, the cap per proposal, the limit per organisation, the capacity offered
    for its GPU model (GPUs × months), and its organisation type's share of that capacity. Pass
    `call_proposals(call)`'s list (figures attached); `call.capacity` is read once."""
    capacity = {c.gpu_model: c.gpus * c.months for c in call.capacity.all()}
    used: dict[str, int] = {}
    used_by_kind: dict[tuple[str, str], int] = {}
    chosen_by_org: dict[int, int] = {}
    eligible_ministries = {m.pk for m in call.eligible_ministries.all()}
    scored = [(p, _figures(p)) for p in proposals]
    scored = [(p, fig) for p, fig in scored if fig.score is not None and p.state != "withdrawn"]

    def key(pair):
        p, fig = pair
        outside = bool(call.prefers_non_capital and p.organisation and p.organisation.region == "non_capital")
        return (-fig.score, not outside, p.submitted_at)

    out = []
    for p, fig in sorted(scored, key=key):
        org = p.organisation
        reasons = eligibility_reasons(call, organisation=org, ministry_id=p.ministry_id,
                                      eligible_ministry_ids=eligible_ministries)
        reason, selected = "", False
        share = call.shares.get(org.kind) if org is not None else None
        total = capacity.get(p.gpu_model)
        taken = used.get(p.gpu_model, 0)
        kind_taken = used_by_kind.get((p.gpu_model, org.kind), 0) if org is not None else 0
        if reasons:
            reason = _("Outside eligibility: %(why)s") % {"why": " ".join(reasons)}
        elif call.cap_gpu_months and p.gpu_months > call.cap_gpu_months:
            reason = _("Over the cap: %(n)s GPU-months asked, the cap is %(cap)s.") % {
                "n": num(p.gpu_months), "cap": num(call.cap_gpu_months)}
        elif (org is not None and call.limit_per_organisation
              and chosen_by_org.get(org.pk, 0) >= call.limit_per_organisation):
            reason = _("Organisation limit: %(n)s proposal(s) of this organisation are in already.") % {
                "n": chosen_by_org[org.pk]}
        elif total is not None and taken + p.gpu_months > total:
            reason = _("Capacity full: %(left)s of %(total)s GPU-months left.") % {
                "left": num(total - taken), "total": num(total)}
        elif org is not None and total is not None and share is not None and kind_taken + p.gpu_months > total * share / 100:
            reason = _("Share full: %(kind)s may have %(share)s%% (%(limit)s GPU-months); %(used)s are in.") % {
                "kind": org.get_kind_display(), "share": num(share), "limit": num(total * share // 100),
                "used": num(kind_taken)}
        else:
            selected = True
            reason = _("In: score %(score)s within every rule.") % {"score": num(fig.score, 2)}
            used[p.gpu_model] = taken + p.gpu_months
            if org is not None:
                used_by_kind[(p.gpu_model, org.kind)] = kind_taken + p.gpu_months
                chosen_by_org[org.pk] = chosen_by_org.get(org.pk, 0) + 1
        out.append(Ranked(p, fig, selected, reason))
    return out
