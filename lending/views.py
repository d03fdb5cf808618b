"""Pages for short-term lending of idle GPUs: the public page, applicants' sign-up, requests and
loans, and MSIT admins' review queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal import hooks
from allocation_portal import policy as programme_policy
from allocation_portal.access import role_required
from allocation_portal.confirm import confirm_step, is_confirmed
from allocation_portal.errors import PortalError
from allocation_portal.forms import add_portal_error
from allocation_portal.models import Notification
from allocation_portal.templatetags.portal import end_moment, moment
from allocation_portal.throttles import signup_allowed
from gpus.availability import programme_capacity
from gpus.models import Gpu

from . import services as lending
from .access import get_loan_for_user, get_request_for_user, loans_for_user, requests_for_user
from .forms import (
    EndReportForm,
    LoanRequestForm,
    NoteForm,
    ReasonForm,
    RenewalForm,
    ScoreForm,
    SignupForm,
)
from .models import Loan, LoanState, RenewalState
from .selectors import (
    current_loans,
    idle_calendar,
    loan_providers,
    loan_servers,
    propose,
    request_queue,
    request_window,
)


def lending_public(request):
    """What is idle now and over the next three months, how to apply, and the terms. No login."""
    return render(
        request,
        "gpus/lending_public.html",
        {
            "calendar": idle_calendar(),
            "capacity": programme_capacity(),
        },
    )


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        allowed, wait = signup_allowed(request)
        if not allowed:
            form.errors.clear()
            form.add_error(None, _("Too many sign-ups from this address. Try again in %(minutes)s minutes.")
                           % {"minutes": max(1, wait // 60)})
            response = render(request, "gpus/signup.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = lending.organisation_signup(
                name=data["name"], kind=data["kind"], region=data["region"],
                registration_number=data["registration_number"], username=data["username"], email=data["email"],
                password=data["password"], display_name=data["display_name"],
                privacy_consent=data["privacy_consent"], confirm_duplicate_name=data["confirm_duplicate_name"],
            )
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your organisation is registered. You can apply for idle GPUs now."))
            return redirect("lending-dashboard")
    duplicate = request.method == "POST" and lending.duplicate_organisation_name(request.POST.get("name", ""))
    return render(request, "gpus/signup.html", {"form": form, "duplicate_name": bool(duplicate)},
                  status=400 if form.errors else 200)


@role_required("is_applicant")
def dashboard(request):
    org = request.user.organisation
    requests_ = requests_for_user(request.user).select_related("submitted_by").order_by("-submitted_at")
    loans = loans_for_user(request.user).select_related("request").order_by("-starts_at")
    notices = Notification.objects.filter(user=request.user).order_by("-created_at")[:8]
    return render(request, "gpus/dashboard.html", {"organisation": org, "requests": requests_, "loans": loans, "notices": notices})


@role_required("is_applicant")
def organisation(request):
    """The organisation's people are managed in People (allocation_portal.people): invitations by
    e-mail from the managing member. This address stays for old links."""
    return redirect("people-list")


def _request_form_page(request, form, loan_request=None, status=200):
    return render(request, "gpus/request_form.html",
                  {"form": form, "loan_request": loan_request, "calendar": idle_calendar()}, status=status)


@role_required("is_applicant")
def request_new(request):
    form = LoanRequestForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                created = lending.request_submit(actor=request.user, values=form.values())
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("Your request was submitted. MSIT reviews requests in ranked order."))
                return redirect("lending-request", request_id=created.public_id)
        return _request_form_page(request, form, status=400)
    return _request_form_page(request, form)


@role_required("is_applicant")
def request_edit(request, request_id):
    loan_request, can_change = get_request_for_user(request.user, request_id)
    initial = {name: getattr(loan_request, name) for name in lending.REQUEST_FIELDS}
    form = LoanRequestForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                lending.request_update(actor=request.user, request=loan_request, values=form.values())
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("Your request was changed and submitted again."))
                return redirect("lending-request", request_id=loan_request.public_id)
        return _request_form_page(request, form, loan_request, status=400)
    return _request_form_page(request, form, loan_request)


@role_required("is_applicant", "reads_everything")
def request_detail(request, request_id, forms_=None, status=200):
    loan_request, can_change = get_request_for_user(request.user, request_id)
    context = {"loan_request": loan_request, "forms": forms_ or {}}
    if request.user.reads_everything and loan_request.state in lending.OPEN_REQUEST_STATES:
        starts_at, ends_at = request_window(loan_request)
        proposal = propose(loan_request.gpu_model, loan_request.gpu_count, starts_at, ends_at)
        context.update(
            proposal=proposal,
            score_form=(forms_ or {}).get("score") or ScoreForm(initial={"score": loan_request.score}),
            note_form=(forms_ or {}).get("note") or NoteForm(),
            reject_form=(forms_ or {}).get("reject") or ReasonForm(),
            has_current_loan=current_loans().filter(organisation=loan_request.organisation).exists(),
        )
    if hasattr(loan_request, "loan"):
        context["loan"] = loan_request.loan
    context.update(hooks.context(hooks.LOAN_REQUEST_PAGE, request=request, loan_request=loan_request))
    return render(request, "gpus/request_detail.html", context, status=status)


def _act(request, redirect_name, call, success, **redirect_kwargs):
    try:
        call()
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(redirect_name, **redirect_kwargs)


@require_POST
@role_required("is_applicant")
def request_withdraw(request, request_id):
    loan_request, can_change = get_request_for_user(request.user, request_id)
    return _act(request, "lending-request",
                lambda: lending.request_withdraw(actor=request.user, request=loan_request, reason=request.POST.get("reason", "")),
                _("The request was withdrawn."), request_id=loan_request.public_id)


@require_POST
@role_required("is_msit_admin")
def request_review(request, request_id, step):
    loan_request, can_change = get_request_for_user(request.user, request_id)
    forms_ = {}
    if step == "score":
        form = ScoreForm(request.POST)
        forms_["score"] = form
        if form.is_valid():
            return _act(request, "lending-request", lambda: lending.request_score(
                actor=request.user, request=loan_request, score=form.cleaned_data["score"], note=form.cleaned_data["note"]),
                _("The score was saved."), request_id=loan_request.public_id)
    elif step == "changes":
        form = NoteForm(request.POST)
        forms_["note"] = form
        if form.is_valid():
            return _act(request, "lending-request", lambda: lending.request_ask_changes(
                actor=request.user, request=loan_request, note=form.cleaned_data["note"]),
                _("The applicant was asked for changes."), request_id=loan_request.public_id)
    elif step == "reject":
        form = ReasonForm(request.POST)
        forms_["reject"] = form
        if form.is_valid():
            return _act(request, "lending-request", lambda: lending.request_reject(
                actor=request.user, request=loan_request, reason=form.cleaned_data["reason"]),
                _("The request was rejected."), request_id=loan_request.public_id)
    elif step == "approve":
        gpu_ids = request.POST.getlist("gpu")
        if not is_confirmed(request):
            return _approve_confirm_step(request, loan_request, gpu_ids)
        try:
            loan = lending.request_approve(actor=request.user, request=loan_request, gpu_ids=gpu_ids,
                                           note=request.POST.get("note", ""))
        except (PortalError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
            return redirect("lending-request", request_id=loan_request.public_id)
        messages.success(request, _("Approved: the GPUs are offered to the applicant, who accepts or declines the offer."))
        return redirect("lending-loan", loan_id=loan.public_id)
    else:
        raise Http404
    return request_detail(request, request_id, forms_=forms_, status=400)


def _approve_confirm_step(request, loan_request, gpu_ids):
    """What approving with these GPUs will do: whom they are offered to, which servers, their recall
    risk, and the pending redistribution proposals that counted on them."""
    try:
        ids = sorted({int(g) for g in gpu_ids})
    except ValueError:
        messages.error(request, _("Choose GPUs of the requested model."))
        return redirect("lending-request", request_id=loan_request.public_id)
    hosts = sorted(set(Gpu.objects.filter(pk__in=ids).values_list("server__hostname", flat=True)))
    starts_at, ends_at = request_window(loan_request)
    lapse = programme_policy.current().offer_lapse_hours
    return confirm_step(
        request, title=_("Approve with these GPUs"),
        consequences=[
            _("%(n)s %(model)s GPUs on %(count)s servers (%(servers)s) are offered to %(org)s from %(start)s to %(end)s.")
            % {"n": len(ids), "model": loan_request.gpu_model, "count": len(hosts), "servers": ", ".join(hosts[:12]),
               "org": loan_request.organisation.name, "start": moment(starts_at), "end": end_moment(ends_at)},
            _("The GPUs are held for them at once; the offer lapses if it is not accepted within %(hours)s hours.")
            % {"hours": lapse},
            *hooks.lines(hooks.LOAN_APPROVAL_PREVIEW, loan_request=loan_request, gpu_ids=ids),
        ],
        action_label=_("Approve and offer %(n)s GPUs") % {"n": len(ids)},
        cancel_url=reverse("lending-request", kwargs={"request_id": loan_request.public_id}), danger=False,
    )


@role_required("reads_everything")
def queue(request):
    page = Paginator(request_queue(), 50).get_page(request.GET.get("page"))
    return render(request, "gpus/queue.html", {"ranked": page, "page": page, "query": ""})


@role_required("reads_everything")
def loan_list(request):
    loans = Loan.objects.select_related("organisation", "request").order_by("-starts_at")
    state = request.GET.get("state", "")
    if state in LoanState.values:
        loans = loans.filter(state=state)
    page = Paginator(loans, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "gpus/loan_list.html", {"page": page, "query": query.urlencode(), "state": state,
                                                   "states": LoanState.choices})


@role_required("is_applicant", "reads_everything")
def loan_detail(request, loan_id, forms_=None, status=200):
    loan, can_change = get_loan_for_user(request.user, loan_id)
    forms_ = forms_ or {}
    servers = loan_servers(loan)
    # Upper floors add to the page (metering: the borrower's measured use, which the report starts from).
    extra = hooks.context(hooks.LOAN_PAGE, request=request, loan=loan)
    gpu_hours = loan.end_report_gpu_hours if loan.end_report_gpu_hours is not None else extra.get("measured_gpu_hours")
    return render(
        request,
        "gpus/loan_detail.html",
        {
            "loan": loan,
            "servers": servers,
            "providers": loan_providers(servers),
            "risk_projects": list({p.pk: p for s in servers for p in s.risks}.values()),
            "renewal_form": forms_.get("renew") or RenewalForm(),
            "report_form": forms_.get("report") or EndReportForm(initial={"text": loan.end_report,
                                                                           "gpu_hours": gpu_hours}),
            "recall_form": forms_.get("recall") or ReasonForm(),
            "is_holder": request.user.is_applicant and request.user.organisation_id == loan.organisation_id,
            "RenewalState": RenewalState,
            **extra,
        },
        status=status,
    )


@require_POST
@role_required("is_applicant", "is_msit_admin")
def loan_action(request, loan_id, step):
    loan, can_change = get_loan_for_user(request.user, loan_id)
    forms_ = {}
    back = {"loan_id": loan.public_id}
    if step == "accept" and request.user.is_applicant:
        return _act(request, "lending-loan", lambda: lending.offer_accept(actor=request.user, loan=loan),
                    _("You accepted the offer: the loan is yours."), **back)
    if step == "decline" and request.user.is_applicant:
        return _act(request, "lending-loan", lambda: lending.offer_decline(
            actor=request.user, loan=loan, reason=request.POST.get("reason", "")),
            _("You declined the offer: the GPUs went back to the pool."), **back)
    if step == "return" and not is_confirmed(request):
        servers = loan_servers(loan)
        return confirm_step(
            request, title=_("Return the GPUs now"),
            consequences=[
                _("The %(n)s GPUs on %(servers)s go back to the programme's pool now.")
                % {"n": loan.gpu_count, "servers": ", ".join(s.server.hostname for s in servers)},
                _("The loan ends now: it cannot be renewed or returned again, and any renewal asked for is withdrawn."),
            ],
            action_label=_("Return the GPUs now"), cancel_url=reverse("lending-loan", kwargs=back),
        )
    if step == "return":
        return _act(request, "lending-loan", lambda: lending.loan_return(
            actor=request.user, loan=loan, reason=request.POST.get("reason", "")), _("The GPUs were returned."), **back)
    if step == "renew" and request.user.is_applicant:
        form = RenewalForm(request.POST)
        forms_["renew"] = form
        if form.is_valid():
            try:
                lending.loan_request_renewal(actor=request.user, loan=loan, **form.cleaned_data)
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("The renewal was asked for. MSIT decides."))
                return redirect("lending-loan", **back)
    elif step == "report" and request.user.is_applicant:
        form = EndReportForm(request.POST)
        forms_["report"] = form
        if form.is_valid():
            try:
                lending.loan_file_end_report(actor=request.user, loan=loan, text=form.cleaned_data["text"],
                                             gpu_hours=form.cleaned_data["gpu_hours"])
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("Thank you: the end-of-loan report was filed."))
                return redirect("lending-loan", **back)
    elif step in ("renewal-approve", "renewal-reject") and request.user.is_msit_admin:
        return _act(request, "lending-loan", lambda: lending.loan_decide_renewal(
            actor=request.user, loan=loan, approve=step == "renewal-approve", note=request.POST.get("note", "")),
            _("The renewal was decided."), **back)
    elif step == "recall" and request.user.is_msit_admin:
        form = ReasonForm(request.POST)
        forms_["recall"] = form
        if form.is_valid():
            return _act(request, "lending-loan", lambda: lending.loan_recall(
                actor=request.user, loan=loan, reason=form.cleaned_data["reason"]),
                _("The recall notice was sent."), **back)
    else:
        raise PermissionDenied
    return loan_detail(request, loan_id, forms_=forms_, status=400)
