"""Pages for reclamation cases, the monthly check, the policy and the redistribution board."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.access import role_required
from allocation_portal.confirm import confirm_step, is_confirmed
from allocation_portal.errors import PortalError
from allocation_portal.forms import add_portal_error
from allocation_portal.models import Policy
from allocation_portal.templatetags.portal import ratio_percent
from gpus.availability import programme_capacity
from gpus.models import GPUS_PER_SERVER
from projects.access import ministries_for_user
from projects.models import GpuRequestState, Project, ProjectGpuRequest

from . import reclamation, redistribution
from .access import cases_for_user, get_case_for_user
from .charts import usage_chart
from .forms import (
    CaseDecisionForm,
    CaseResponseForm,
    CheckRunForm,
    OffPurposeForm,
    PolicyForm,
    ReasonForm,
    SuspendForm,
)
from .models import CaseState, CheckRun, ProposalState, RedistributionProposal
from .selectors import project_usage
from .tasks import run_monthly_check


@role_required("reads_everything", "is_official")
def case_list(request):
    cases = cases_for_user(request.user).select_related("project__ministry", "policy")
    month = months.parse(request.GET.get("month", ""))
    ministry = request.GET.get("ministry", "")
    state = request.GET.get("state", "")
    if month:
        cases = cases.filter(month=month)
    if ministry:
        cases = cases.filter(project__ministry__code=ministry)
    if state == "undecided":
        cases = cases.filter(state__in=[CaseState.OPEN, CaseState.RESPONDED])
    elif state in CaseState.values:
        cases = cases.filter(state=state)
    page = Paginator(cases.order_by("-month", "project__code"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "monitoring/case_list.html", {
        "page": page, "query": query.urlencode(), "month": request.GET.get("month", ""), "ministry": ministry,
        "state": state, "states": CaseState.choices, "ministries": ministries_for_user(request.user).order_by("name_ko"),
    })


@role_required("reads_everything", "is_official")
def case_detail(request, case_id, forms_=None, status=200):
    case, can_change = get_case_for_user(request.user, case_id)
    forms_ = forms_ or {}
    usage = project_usage(case.project, until=case.month) if case.project.actual_start else []
    window_closed = timezone.localdate() > case.response_due
    can_respond = request.user.is_official and case.state == CaseState.OPEN and not window_closed
    # A refused step (decided meanwhile, not yet allowed...) is said once, at the top, whether or
    # not its form is still on the page.
    refusals = [error for form in forms_.values() for error in form.non_field_errors()]
    return render(request, "monitoring/case_detail.html", {
        "case": case, "usage": usage, "usage_chart": usage_chart(usage), "refusals": refusals,
        "response_form": forms_.get("respond") or CaseResponseForm(),
        "decision_form": forms_.get("decide") or CaseDecisionForm(initial={"servers": case.proposed_servers}),
        "suspend_form": forms_.get("suspend") or SuspendForm(),
        "resolve_form": forms_.get("resolve") or ReasonForm(),
        "can_respond": can_respond,
        "response_window_closed": window_closed,
        "can_decide": request.user.is_msit_admin and reclamation.decision_allowed(case),
        "can_resolve": request.user.is_msit_admin and not case.decided and case.evidence.get("meets_plan"),
    }, status=status)


def _decision_consequences(case, data) -> list[str]:
    project = case.project.code
    if data["decision"] == CaseState.APPROVED:
        servers = data.get("servers") or case.proposed_servers
        return [
            _("%(n)s servers (%(gpus)s GPUs) are taken from %(project)s now and go to the MSIT reserve.")
            % {"n": servers, "gpus": servers * GPUS_PER_SERVER, "project": project},
            _("The ministry is told of the decision and its reason."),
        ]
    if data["decision"] == CaseState.EXEMPTED:
        return [_("%(project)s keeps all its servers: the exemption is granted and the case is closed.") % {"project": project},
                _("The ministry is told of the decision and its reason.")]
    return [_("Nothing is reclaimed from %(project)s: the case is closed as rejected.") % {"project": project},
            _("The ministry is told of the decision and its reason.")]


@require_POST
@role_required("is_official", "is_msit_admin")
def case_action(request, case_id, step):
    case, can_change = get_case_for_user(request.user, case_id)
    forms_ = {}
    form = {"respond": CaseResponseForm, "decide": CaseDecisionForm, "suspend": SuspendForm, "resolve": ReasonForm}.get(step)
    if form is None:
        raise Http404
    form = form(request.POST)
    forms_[step] = form
    if form.is_valid() and step == "decide" and not is_confirmed(request):
        return confirm_step(request, title=_("Decide the case of %(project)s") % {"project": case.project.code},
                            consequences=_decision_consequences(case, form.cleaned_data),
                            action_label=_("Record the decision"),
                            cancel_url=reverse("case-detail", kwargs={"case_id": case.public_id}))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if step == "respond":
                reclamation.case_respond(actor=request.user, case=case, kind=data["response_kind"], text=data["response_text"])
                messages.success(request, _("Your response was sent to MSIT."))
            elif step == "decide":
                reclamation.case_decide(actor=request.user, case=case, decision=data["decision"],
                                        servers=data.get("servers"), reason=data["reason"])
                messages.success(request, _("The case was decided."))
            elif step == "resolve":
                reclamation.case_resolve(actor=request.user, case=case, reason=data["reason"])
                messages.success(request, _("The case was closed: the project meets its plan."))
            else:
                reclamation.case_suspend(actor=request.user, case=case, reason=data["reason"])
                messages.success(request, _("The project's GPUs are suspended until the decision."))
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            return redirect("case-detail", case_id=case.public_id)
    return case_detail(request, case_id, forms_=forms_, status=400)


@role_required("is_msit_admin")
def off_purpose_new(request):
    form = OffPurposeForm(request.POST or None, request.FILES or None,
                          initial={"project": request.GET.get("project", ""), "month": months.label(months.current())})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project = Project.objects.filter(code=data["project"].strip()).first()
        if project is None:
            form.add_error("project", _("No project has this code."))
        else:
            try:
                case = reclamation.off_purpose_open(
                    actor=request.user, project=project, month=data["month"], note=data["note"],
                    evidence_file=data.get("evidence_file"), proposed=data.get("proposed_servers"),
                )
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("The off-purpose case was opened and the ministry told."))
                return redirect("case-detail", case_id=case.public_id)
    return render(request, "monitoring/off_purpose_form.html", {"form": form}, status=400 if form.errors else 200)


def _check_confirm_step(request, data):
    policy_now = programme_policy.current()
    month = months.label(data["month"])
    return confirm_step(
        request, title=_("Run the monthly check for %(month)s") % {"month": month},
        consequences=[
            _("Every started project past its grace period is checked on its cumulative use against plan up to %(month)s.")
            % {"month": month},
            _("A reclamation case opens for each project below %(t2)s of plan (proposing %(s2)s of its unused servers; "
              "below %(t1)s, %(s1)s), and its ministry official is told at once and has %(days)s days to respond.")
            % {"t1": ratio_percent(policy_now.tier1_below), "s1": ratio_percent(policy_now.tier1_share),
               "t2": ratio_percent(policy_now.tier2_below), "s2": ratio_percent(policy_now.tier2_share),
               "days": policy_now.response_days},
            _("The check is forced before the reports are due.") if data["force"] else "",
        ],
        action_label=_("Run the check"), cancel_url=reverse("checks"),
    )


@role_required("reads_everything")
def checks(request):
    form = CheckRunForm(request.POST or None, initial={"month": months.label(reclamation.latest_checkable_month())})
    if request.method == "POST":
        if not request.user.is_msit_admin:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                reclamation.check_validate(actor=request.user, month=data["month"], force=data["force"], reason=data["reason"])
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                if not is_confirmed(request):
                    return _check_confirm_step(request, data)
                try:
                    run_monthly_check.apply_async(args=[data["month"].isoformat(), request.user.pk, data["force"],
                                                        data["reason"]], retry=False)
                except Exception:  # noqa: BLE001 - the broker is down: say so, nothing was changed
                    messages.error(request, _("The task queue cannot be reached; the check was not started. Try again later."))
                else:
                    messages.success(request, _("The check for %(month)s was queued; its cases appear below when it finishes.")
                                     % {"month": months.label(data["month"])})
                return redirect("checks")
    return render(request, "monitoring/checks.html", {
        "form": form, "runs": CheckRun.objects.select_related("requested_by")[:24], "policy": programme_policy.current(),
    }, status=400 if form.errors else 200)


@role_required("reads_everything")
def policy(request):
    current = programme_policy.current()
    form = PolicyForm(request.POST or None, instance=None, initial={f: getattr(current, f) for f in programme_policy.FIELDS})
    if request.method == "POST":
        if not request.user.is_msit_admin:
            raise PermissionDenied
        if form.is_valid():
            try:
                programme_policy.policy_update(actor=request.user, values=form.cleaned_data, reason=form.cleaned_data["reason"])
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("A new version of the policy applies from now."))
                return redirect("policy")
    return render(request, "monitoring/policy.html", {
        "form": form, "current": current, "history": Policy.objects.select_related("created_by")[:20],
    }, status=400 if form.errors else 200)


@role_required("reads_everything")
def redistribution_board(request):
    today = timezone.localdate()
    flag_days = programme_policy.current().delay_flag_days
    delayed = (
        Project.objects.filter(actual_start__isnull=True, planned_start__lt=today - dt.timedelta(days=flag_days))
        .select_related("ministry").order_by("planned_start")
    )
    proposals = (
        redistribution.open_proposals()
        .select_related("loan_request__organisation", "gpu_request__project")
        .order_by("rank")
    )
    recent = (
        RedistributionProposal.objects.exclude(state__in=[ProposalState.PROPOSED, ProposalState.SUPERSEDED])
        .select_related("loan_request__organisation", "gpu_request__project", "decided_by")
        .order_by("-decided_at")[:15]
    )
    return render(request, "monitoring/redistribution.html", {
        "capacity": programme_capacity(), "delayed": delayed, "proposals": proposals, "recent": recent,
        "gpu_requests": ProjectGpuRequest.objects.filter(state=GpuRequestState.OPEN).select_related("project"),
    })


def _proposal_line(proposal) -> str:
    target = (proposal.loan_request.organisation.name if proposal.loan_request is not None
              else proposal.gpu_request.project.code if proposal.gpu_request is not None else "?")
    return _("#%(rank)s: %(gpus)s GPUs on %(servers)s go to %(target)s.") % {
        "rank": proposal.rank, "gpus": len(proposal.gpu_ids), "servers": ", ".join(proposal.servers[:8]), "target": target}


@require_POST
@role_required("is_msit_admin")
def redistribution_action(request, step, proposal_id=None):
    if step in ("approve-all", "approve") and not is_confirmed(request):
        found = redistribution.open_proposals().select_related("loan_request__organisation", "gpu_request__project")
        if step == "approve":
            found = found.filter(public_id=proposal_id)
        chosen = list(found.order_by("rank"))
        if not chosen:
            if step == "approve" and not RedistributionProposal.objects.filter(public_id=proposal_id).exists():
                raise Http404
            messages.error(request, _("No proposal is waiting."))
            return redirect("redistribution")
        lines = [_("%(n)s proposals are approved in rank order; each re-checks its capacity, and one whose GPUs have gone "
                   "is marked so:") % {"n": len(chosen)}] if step == "approve-all" else []
        lines += [_proposal_line(p) for p in chosen]
        lines.append(_("Short-term requests get an offer of their GPUs; projects' awards grow."))
        return confirm_step(
            request, title=_("Approve all proposals") if step == "approve-all" else _("Approve proposal #%(rank)s") % {"rank": chosen[0].rank},
            consequences=lines, action_label=_("Approve %(n)s proposals") % {"n": len(chosen)} if step == "approve-all" else _("Approve"),
            cancel_url=reverse("redistribution"), danger=False,
        )
    try:
        if step == "propose":
            made = redistribution.redistribution_propose(actor=request.user)
            messages.success(request, _("%(n)s proposals were made.") % {"n": len(made)})
        elif step == "approve-all":
            open_ = list(redistribution.open_proposals())
            results = redistribution.proposals_approve_all(actor=request.user, proposals=open_)
            approved = sum(1 for _p, error in results if error is None)
            messages.success(request, _("%(n)s proposals were approved.") % {"n": approved})
            for proposal, error in results:
                if error:
                    messages.error(request, f"#{proposal.rank}: {error}")
        else:
            proposal = RedistributionProposal.objects.get(public_id=proposal_id)
            if step == "approve":
                redistribution.proposal_approve(actor=request.user, proposal=proposal)
                messages.success(request, _("Approved: the GPUs are written to the ledger."))
            elif step == "reject":
                redistribution.proposal_reject(actor=request.user, proposal=proposal, note=request.POST.get("note", ""))
                messages.success(request, _("The proposal was rejected."))
            else:
                raise Http404
    except RedistributionProposal.DoesNotExist:
        raise Http404 from None
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect("redistribution")


@role_required("reads_everything", "is_official")
def case_evidence(request, case_id):
    """The case's evidence file, to those who may see the case."""
    case, can_change = get_case_for_user(request.user, case_id)
    if not case.evidence_file:
        raise Http404
    return FileResponse(case.evidence_file.open("rb"), as_attachment=True,
                        filename=case.evidence_file.name.rsplit("/", 1)[-1])
