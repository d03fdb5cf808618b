"""Reads for calls: the list of calls and one call with its rounds, rules, criteria and capacity; the
proposals and their reviews; a call's selection (stages with counts) and a project's proposal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from allocation_portal.formatting import format_number as num
from allocation_portal.kept import kept

from .models import Assignment, Call, Criterion, Proposal, ProposalState, Round, Stage
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
            Prefetch("stages", queryset=Stage.objects.order_by("position")),
            "capacity", "eligible_ministries",
        ).get(code=str(code)[:40])
    except Call.DoesNotExist:
        raise Http404("No such call.") from None


def _assignments_with_scores() -> Prefetch:
    """What proposal_score reads: each proposal's assignments with their scores and criteria (a new
    Prefetch per query: Django may change one in place)."""
    return Prefetch("assignments", queryset=Assignment.objects.prefetch_related("scores__criterion"))


def call_proposals(call):
    """The call's proposals with their reviews' scores, newest round first, each with `.figures`
    (reviews, needed, weighted score and spread)."""
    proposals = list(call.proposals.select_related("round", "organisation", "ministry", "call",
                                                   "stage_reached").prefetch_related(
        _assignments_with_scores()
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


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    reached: int  # proposals that reached this stage
    passed: int  # of those, proposals that went on (past the last stage: selected)

    @property
    def out(self) -> int:
        return self.reached - self.passed


@dataclass(frozen=True)
class Selection:
    """How a call's proposals were chosen: its criteria, its stages with counts (121 → … → 52), and
    its proposals by ministry."""

    call: Call
    proposals: int
    selected: int
    ministries: int
    ministries_selected: int
    gpus_awarded: int
    stages: list[StageCount]
    by_ministry: list[dict]


SELECTION_KEPT_SECONDS = 3600


def kept_call_selection(code: str) -> Selection | None:
    """`call_selection`, kept until a call, criterion, stage, proposal or ministry changes (one query,
    the change number, while kept): the selection of a past call changes only when it is loaded again."""
    return kept(f"calls:selection:{code}", lambda: call_selection(code), seconds=SELECTION_KEPT_SECONDS)[0]


def call_selection(code: str) -> Selection | None:
    """A national call's selection in five queries whatever its size; None when the call is not loaded."""
    call = (Call.objects.filter(code=code).prefetch_related(
        Prefetch("criteria", queryset=Criterion.objects.order_by("position", "code")),
        Prefetch("stages", queryset=Stage.objects.order_by("position"))).first())
    if call is None:
        return None
    stages = list(call.stages.all())
    counts: dict[tuple[int | None, str], int] = {}
    for counted in call.proposals.values("stage_reached__position", "state").annotate(n=Count("id")):
        counts[(counted["stage_reached__position"], counted["state"])] = counted["n"]
    selected = sum(n for (_pos, state), n in counts.items() if state == ProposalState.SELECTED)
    stage_counts = []
    for index, stage in enumerate(stages):
        reached = sum(n for (pos, _state), n in counts.items() if pos is not None and pos >= stage.position)
        if index + 1 < len(stages):
            passed = sum(n for (pos, _state), n in counts.items() if pos is not None and pos > stage.position)
        else:
            passed = sum(n for (pos, state), n in counts.items()
                         if pos is not None and pos >= stage.position and state == ProposalState.SELECTED)
        stage_counts.append(StageCount(stage, reached, passed))
    by_ministry: list[dict] = [dict(row) for row in call.proposals.values("ministry__code", "ministry__name_ko", "ministry__name_en",
                                             "ministry__is_sample").annotate(
        proposals=Count("id"), selected=Count("id", filter=Q(state=ProposalState.SELECTED)),
        gpus=Coalesce(Sum("award_gpus"), 0)).order_by("-gpus", "-selected", "ministry__name_ko")]
    return Selection(
        call=call, proposals=sum(counts.values()), selected=selected,
        ministries=sum(1 for row in by_ministry if row["ministry__code"]),
        ministries_selected=sum(1 for row in by_ministry if row["selected"]),
        gpus_awarded=sum(row["gpus"] for row in by_ministry), stages=stage_counts, by_ministry=by_ministry)


@dataclass(frozen=True)
class StageResult:
    stage: Stage
    outcome: str  # "passed", "selected", "not_selected" (ended here), "" (not reached)


UNDECIDED = (ProposalState.SUBMITTED, ProposalState.IN_REVIEW, ProposalState.REVISION)


def proposal_stage_results(proposal: Proposal, stages: list[Stage] | None = None) -> list[StageResult]:
    """Each stage of the proposal's call (pass them when read already) and what became of the
    proposal there: passed every stage before the last one it reached; selected or not at that one
    (or, while it is not decided, under way there)."""
    stages = list(stages if stages is not None else proposal.call.stages.order_by("position"))
    # Until it passes the first stage, an open proposal is at it.
    reached = proposal.stage_reached or (stages[0] if stages and proposal.state in UNDECIDED else None)
    results = []
    for stage in stages:
        if reached is None or stage.position > reached.position:
            outcome = ""
        elif stage.position < reached.position:
            outcome = "passed"
        elif proposal.state in (ProposalState.SELECTED, ProposalState.NOT_SELECTED):
            outcome = "selected" if proposal.state == ProposalState.SELECTED else "not_selected"
        else:  # not decided yet: under way at the stage it reached
            outcome = "current"
        results.append(StageResult(stage, outcome))
    return results


def request_proposal(loan_request) -> tuple[Proposal, ProposalScore] | None:
    """A short-term request's proposal (with its call and round) and its review's figures, or None
    for a request filed before the rolling call existed."""
    proposal = (Proposal.objects.select_related("call", "round").prefetch_related(_assignments_with_scores())
                .filter(loan_request=loan_request).first())
    if proposal is None:
        return None
    return proposal, proposal_score(proposal, list(proposal.assignments.all()))


def project_proposal(project) -> Proposal | None:
    """The proposal a project was selected from, with its call and criteria."""
    return (Proposal.objects.filter(project=project).select_related("call", "round", "stage_reached")
            .prefetch_related(Prefetch("call__criteria", queryset=Criterion.objects.order_by("position", "code")))
            .first())


def ministry_proposals(call: Call, ministry_id: int):
    """A ministry's proposals to a call, newest first (the official's list on the call's page)."""
    return (call.proposals.filter(ministry_id=ministry_id, loan_request__isnull=True)
            .select_related("round", "project", "stage_reached").order_by("-submitted_at"))
