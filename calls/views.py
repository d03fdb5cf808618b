"""Pages for calls: the list of calls and one call (rounds, eligibility, criteria and rubric,
capacity, portfolio rules), public like the lending page; MSIT adds a round with its cut-off."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal.access import role_required
from allocation_portal.errors import PortalError, ValidationFailed
from allocation_portal.forms import add_portal_error
from allocation_portal.models import User
from lending.models import Organisation, OrganisationKind, Region

from . import services, services_review
from .access import assignments_for_reviewer, get_assignment_for_reviewer, get_proposal_for_user
from .forms import (
    AdvanceForm,
    AssignForm,
    ConflictForm,
    DecideForm,
    NationalProposalForm,
    ReviewForm,
    RevisionForm,
    RoundForm,
)
from .models import CallKind
from .selectors import (
    call_list,
    call_proposals,
    get_call,
    ministry_proposals,
    proposal_reviews,
    proposal_stage_results,
    ranked_list,
)


def call_list_page(request):
    return render(request, "calls/call_list.html", {"calls": call_list()})


def _labels(values, choices) -> list[str]:
    names = dict(choices)
    return [str(names.get(value, value)) for value in values]


def call_detail(request, code, form=None, status=200):
    call = get_call(code)
    shares = [(str(dict(OrganisationKind.choices).get(kind, kind)), percent) for kind, percent in call.shares.items()]
    official = request.user.is_authenticated and request.user.is_official and call.kind == CallKind.NATIONAL
    return render(request, "calls/call_detail.html", {
        "call": call,
        "eligible_kinds": _labels(call.eligible_kinds, OrganisationKind.choices),
        "eligible_regions": _labels(call.eligible_regions, Region.choices),
        "shares": shares,
        "round_form": form or RoundForm(),
        # From the rounds already read for the page.
        "open_round": next((r for r in call.rounds.all() if r.opens_on <= timezone.localdate() <= r.closes_on), None)
        if call.kind == CallKind.NATIONAL else None,
        "my_proposals": ministry_proposals(call, request.user.ministry_id) if official else None,
    }, status=status)


@role_required("is_official")
def call_propose(request, code):
    """A ministry official proposes a national project for their ministry to the call's open round."""
    call = get_call(code)
    if call.kind != CallKind.NATIONAL:
        raise Http404("Not a national call.")
    form = NationalProposalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                proposal = services.proposal_national_submit(actor=request.user, call=call, values=form.cleaned_data)
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("Your ministry's proposal is submitted to round %(n)s.")
                                 % {"n": proposal.round.number})
                return redirect("call-proposal", code=call.code, proposal_id=proposal.public_id)
        status = 400
    return render(request, "calls/proposal_new.html", {"call": call, "form": form,
                                                       "open_round": services.open_round(call)}, status=status)


@require_POST
@role_required("is_msit_admin")
def call_round_add(request, code):
    call = get_call(code)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            created = services.call_add_round(actor=request.user, call=call, closes_on=form.cleaned_data["closes_on"],
                                              opens_on=form.cleaned_data["opens_on"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("Round %(n)s added: cut-off %(day)s.")
                             % {"n": created.number, "day": created.closes_on.isoformat()})
            return redirect("call", code=call.code)
    return call_detail(request, code, form=form, status=400)


# Review: MSIT's proposal list and page (assign, revise, decide); the reviewer's own pages.

@role_required("reads_everything")
def proposal_list(request, code):
    call = get_call(code)
    proposals = call_proposals(call)
    return render(request, "calls/proposal_list.html", {"call": call, "proposals": proposals,
                                                        "ranked": ranked_list(call, proposals)})


def _decide_form(proposal, data=None, stages=None) -> DecideForm:
    national = proposal.ministry_id is not None and proposal.loan_request_id is None
    stages = stages if stages is not None else list(proposal.call.stages.order_by("position"))
    return DecideForm(data, national=national, stages=stages)


def _advance_form(proposal, data=None, stages=None) -> AdvanceForm | None:
    """The form to record a stage passed, for a national proposal of a call with stages still ahead of it."""
    if proposal.loan_request_id is not None:
        return None
    stages = stages if stages is not None else list(proposal.call.stages.order_by("position"))
    form = AdvanceForm(data, stages=stages, reached=proposal.stage_reached)
    return form if form.stages or data is not None else None


def _proposal_page(request, code, proposal_id, forms_=None, status=200):
    proposal = get_proposal_for_user(request.user, proposal_id, call_code=code)
    # A ministry official sees their proposal and its decision, not who reviewed it.
    assignments, figures = proposal_reviews(proposal) if request.user.reads_everything else ([], None)
    forms_ = forms_ or {}
    stages = list(proposal.call.stages.order_by("position"))
    return render(request, "calls/proposal_detail.html", {
        "call": proposal.call, "proposal": proposal, "assignments": assignments, "figures": figures,
        "criteria": list(proposal.call.criteria.order_by("position", "code")),
        "stages": proposal_stage_results(proposal, stages),
        "assign_form": forms_.get("assign") or AssignForm(), "revision_form": forms_.get("revise") or RevisionForm(),
        "decide_form": forms_.get("decide") or _decide_form(proposal, stages=stages),
        "advance_form": forms_.get("advance") or _advance_form(proposal, stages=stages),
    }, status=status)


@role_required("reads_everything", "is_official")
def proposal_detail(request, code, proposal_id):
    return _proposal_page(request, code, proposal_id)


PROPOSAL_STEPS = {"assign": AssignForm, "revise": RevisionForm, "decide": DecideForm, "advance": AdvanceForm}


@require_POST
@role_required("is_msit_admin")
def proposal_action(request, code, proposal_id, step):
    proposal = get_proposal_for_user(request.user, proposal_id, call_code=code)
    if step not in PROPOSAL_STEPS:
        raise Http404("No such step.")
    if step == "decide":
        form = _decide_form(proposal, request.POST)
    elif step == "advance":
        form = _advance_form(proposal, request.POST)
        if form is None:
            raise Http404("A short-term proposal has no stages.")
    else:
        form = PROPOSAL_STEPS[step](request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if step == "assign":
                reviewer = User.objects.filter(username=data["reviewer"]).first()
                if reviewer is None:
                    raise ValidationFailed(_("No user has this username."), fields={"reviewer": [_("No user has this username.")]})
                services_review.assignment_create(actor=request.user, proposal=proposal, reviewer=reviewer,
                                                  due_on=data["due_on"])
                messages.success(request, _("%(reviewer)s is assigned.") % {"reviewer": reviewer})
            elif step == "advance":
                services_review.proposal_advance(actor=request.user, proposal=proposal,
                                                 stage=form.stages[data["stage"]], note=data["note"])
                messages.success(request, _("The proposal is at the stage %(stage)s.") % {
                    "stage": form.stages[data["stage"]].name})
            elif step == "revise":
                services_review.proposal_ask_revision(actor=request.user, proposal=proposal, note=data["note"])
                messages.success(request, _("The proposal is sent back to revise and resubmit."))
            else:
                decided, _offer = services_review.proposal_decide(actor=request.user, proposal=proposal,
                                                                  **form.decision())
                if decided.project is not None:
                    messages.success(request, _("The committee's decision is recorded: project %(code)s is created "
                                                "with its award of %(gpus)s GPUs; award its servers on the project's "
                                                "page.") % {"code": decided.project.code, "gpus": decided.award_gpus})
                else:
                    messages.success(request, _("The committee's decision is recorded."))
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            return redirect("call-proposal", code=proposal.call.code, proposal_id=proposal.public_id)
    return _proposal_page(request, code, proposal_id, forms_={step: form}, status=400)


@role_required("is_reviewer")
def review_list(request):
    assignments = assignments_for_reviewer(request.user).select_related(
        "proposal__call", "proposal__organisation").order_by("submitted_at", "due_on")
    return render(request, "calls/review_list.html", {
        "assignments": assignments, "conflicts": request.user.conflicts.select_related("organisation"),
        "conflict_form": ConflictForm()})


@role_required("is_reviewer")
def review_detail(request, assignment_id):
    assignment = get_assignment_for_reviewer(request.user, assignment_id)
    criteria = list(assignment.proposal.call.criteria.order_by("position", "code"))
    initial = {}
    for score in assignment.scores.select_related("criterion"):
        initial[f"score_{score.criterion.code}"] = score.score
        initial[f"comment_{score.criterion.code}"] = score.comment
    form = ReviewForm(request.POST or None, criteria=criteria, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services_review.review_submit(actor=request.user, assignment=assignment, scores=form.scores())
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("Your review is saved."))
                return redirect("reviews")
        status = 400
    return render(request, "calls/review_detail.html", {"assignment": assignment, "proposal": assignment.proposal,
                                                        "form": form}, status=status)


@require_POST
@role_required("is_reviewer")
def conflict_declare(request):
    form = ConflictForm(request.POST)
    if form.is_valid():
        organisation = Organisation.objects.filter(registration_number=form.cleaned_data["registration_number"]).first()
        try:
            if organisation is None:
                raise ValidationFailed(_("No organisation has this registration number."),
                                       fields={"registration_number": [_("No organisation has this registration number.")]})
            services_review.conflict_declare(actor=request.user, organisation=organisation,
                                             relationship=form.cleaned_data["relationship"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("Your conflict of interest is recorded."))
            return redirect("reviews")
    return render(request, "calls/review_list.html", {
        "assignments": assignments_for_reviewer(request.user).select_related("proposal__call", "proposal__organisation"),
        "conflicts": request.user.conflicts.select_related("organisation"), "conflict_form": form}, status=400)
