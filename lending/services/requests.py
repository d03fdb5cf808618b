"""Writes for short-term lending before a loan exists: organisations, requests, review, and the
approval that writes the loan to the ledger.

Each function is one state change: it checks its rule, locks what it changes, writes its audit
event in the same transaction, and queues notices after commit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, hooks, months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from allocation_portal.limits import REASON_MAX, checked_text
from allocation_portal.messages import Message, msg
from allocation_portal.models import Compliance, NotificationKind, Role, User
from allocation_portal.notifications import notify, organisation_members
from gpus import services as ledger
from gpus.availability import period, programme_pool, unlendable
from gpus.models import GPUS_PER_SERVER, AllocationGpu, Gpu, GpuModel, HolderKind
from projects.models import Project

from ..access import can_change_request
from ..models import (
    PARTIAL_SERVER_MAX_GPUS,
    Loan,
    LoanRequest,
    LoanState,
    Organisation,
    OrganisationKind,
    Region,
    RequestState,
)
from ..registration import normalise_registration_number
from ..selectors import request_window

REQUEST_FIELDS = [
    "gpu_model", "gpu_count", "starts_on", "ends_on", "purpose", "expected_results",
    "personal_information", "training_data_copyright", "ai_basic_act", "accepts_recall_terms",
]
OPEN_REQUEST_STATES = [RequestState.SUBMITTED, RequestState.CHANGES_REQUESTED]


def _notify_org(organisation_id: int, *, kind: str, title: str | Message, body: str | Message, url: str, dedup_key: str):
    return notify(users=organisation_members(organisation_id), kind=kind, title=title, body=body, url=url,
                  dedup_key=dedup_key)


def request_snapshot(request: LoanRequest) -> dict:
    return audit.snapshot(request, [*REQUEST_FIELDS, "state", "score", "review_note"])


def loan_snapshot(loan: Loan) -> dict:
    return audit.snapshot(loan, ["state", "end_reason", "starts_at", "ends_at", "ended_at", "recall_notice_at",
                                 "renewal_state", "renewal_ends_on", "gpu_count"])


# --- Organisations ------------------------------------------------------------------------------


def _person_errors(*, username: str, email: str, password: str) -> dict[str, list[str]]:
    """A new applicant's account: a free username, an e-mail and a password Django accepts."""
    errors: dict[str, list[str]] = {}
    if not (username or "").strip():
        errors["username"] = [_("Required.")]
    elif User.objects.filter(username__iexact=username.strip()).exists():
        errors["username"] = [_("This username is taken.")]
    if not (email or "").strip():
        errors["email"] = [_("Required.")]
    try:
        validate_password(password, User(username=username, email=email))
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors


def duplicate_organisation_name(name: str) -> Organisation | None:
    """A registered organisation of the same name (case and spacing aside), if any."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        return None
    return Organisation.objects.filter(name__iexact=cleaned).order_by("pk").first()


def organisation_signup(
    *, name: str, kind: str, region: str, registration_number: str, username: str, email: str, password: str,
    display_name: str = "", privacy_consent: bool = False, confirm_duplicate_name: bool = False,
) -> User:
    """A company, university or research institute registers with its first person, who agrees to
    the collection and use of their personal information (개인정보 수집·이용 동의)."""
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [_("Required.")]
    elif not confirm_duplicate_name and duplicate_organisation_name(name) is not None:
        errors["confirm_duplicate_name"] = [
            _("An organisation named “%(name)s” is registered already. If it is yours, ask a colleague there to add "
              "you instead; if it is another organisation of the same name, tick the box to register yours.")
            % {"name": name}
        ]
    if kind not in OrganisationKind.values:
        errors["kind"] = [_("Choose industry, academia or research institute.")]
    if region not in Region.values:
        errors["region"] = [_("Choose capital region or outside it.")]
    registration_number = (registration_number or "").strip()
    if not registration_number:
        errors["registration_number"] = [_("Required.")]
    else:
        registration_number, problem = normalise_registration_number(kind, registration_number)
        if problem:
            errors["registration_number"] = [problem]
        elif Organisation.objects.filter(registration_number=registration_number).exists():
            errors["registration_number"] = [
                _("This organisation is registered already: ask a colleague there to add you.")
            ]
    if privacy_consent is not True:
        errors["privacy_consent"] = [_("Agree to the collection and use of your personal information to register.")]
    errors.update(_person_errors(username=username, email=email, password=password))
    if errors:
        raise ValidationFailed(_("The sign-up has errors."), fields=errors)
    consented_at = timezone.now()
    with transaction.atomic():
        organisation = Organisation.objects.create(
            name=name, kind=kind, region=region, registration_number=registration_number
        )
        # The first member manages the organisation's members (invites them: allocation_portal.people).
        user = User(username=username.strip(), email=email.strip(), role=Role.APPLICANT, organisation=organisation,
                    manages_members=True,
                    display_name=(display_name or "").strip(), privacy_consent_at=consented_at,
                    privacy_notice_version=settings.PORTAL_PRIVACY_NOTICE_VERSION)
        user.set_password(password)
        user.save()
        audit.record(actor=user, action="organisation.signup", obj=organisation,
                     after={**audit.snapshot(organisation), "privacy_notice_version": user.privacy_notice_version,
                            "privacy_consent_at": consented_at.isoformat()})
    return user


# --- Requests -------------------------------------------------------------------------------------


def max_end(starts_on: dt.date, length_months: int | None = None) -> dt.date:
    """The last day of a loan of at most `length_months` (the policy's longest loan) from `starts_on`."""
    if length_months is None:
        length_months = programme_policy.current().loan_max_months
    target = months.add_months(starts_on.replace(day=1), length_months)
    day = min(starts_on.day, (months.next_month(target) - dt.timedelta(days=1)).day)
    return target.replace(day=day) - dt.timedelta(days=1)


def valid_size(count: int) -> bool:
    return 1 <= count <= PARTIAL_SERVER_MAX_GPUS or (count >= GPUS_PER_SERVER and count % GPUS_PER_SERVER == 0)


def _request_errors(values: dict, *, organisation_id: int, pool, exclude_pk=None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    today = timezone.localdate()
    policy = programme_policy.current()
    if values.get("gpu_model") not in GpuModel.values:
        add("gpu_model", _("Choose a GPU model."))
    count = values.get("gpu_count")
    if count is None:
        add("gpu_count", _("Enter the number of GPUs."))
    elif not valid_size(count):
        add("gpu_count", _("Ask for 1 to 4 GPUs, or whole servers (8, 16, 24, ... GPUs)."))
    elif values.get("gpu_model") in GpuModel.values:
        # A request the programme could never meet, whatever is idle when it is reviewed.
        held = Gpu.objects.filter(server__pool=pool, server__cluster__gpu_model=values["gpu_model"]).count()
        if not held:
            add("gpu_model", _("The programme lends no %(model)s GPUs.") % {"model": values["gpu_model"]})
        elif count > held:
            add("gpu_count", _("The programme has %(n)s %(model)s GPUs in all: ask for at most that many.")
                % {"n": f"{held:,}", "model": values["gpu_model"]})
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts is None:
        add("starts_on", _("Enter the first day."))
    elif starts < today:
        add("starts_on", _("The start is in the past."))
    if ends is None:
        add("ends_on", _("Enter the last day."))
    elif starts is not None:
        if ends < starts:
            add("ends_on", _("The end is before the start."))
        elif ends > max_end(starts, policy.loan_max_months):
            add("ends_on", _("A loan is at most %(months)s months: the last day can be %(last)s.")
                % {"months": policy.loan_max_months, "last": max_end(starts, policy.loan_max_months)})
    for name in ("purpose", "expected_results"):
        if not (values.get(name) or "").strip():
            add(name, _("Required."))
    for name in ("personal_information", "training_data_copyright", "ai_basic_act"):
        if values.get(name) not in Compliance.values:
            add(name, _("Answer this checklist item."))
    if values.get("accepts_recall_terms") is not True:
        add("accepts_recall_terms", _("Accept the terms: a loan on a project's idle servers ends %(hours)s hours after that project starts.")
            % {"hours": policy.recall_notice_hours})
    if starts is not None and ends is not None and not errors.get("ends_on"):
        overlapping = LoanRequest.objects.filter(
            organisation_id=organisation_id, starts_on__lte=ends, ends_on__gte=starts,
            state__in=[*OPEN_REQUEST_STATES, RequestState.APPROVED],
        ).exclude(loan__state=LoanState.ENDED)
        if exclude_pk is not None:
            overlapping = overlapping.exclude(pk=exclude_pk)
        first = overlapping.first()
        if first is not None:
            add("starts_on", _("Your organisation already has a request for overlapping dates (%(start)s to %(end)s).")
                % {"start": first.starts_on, "end": first.ends_on})
    return errors


def request_submit(*, actor, values: dict) -> LoanRequest:
    if actor is None or not actor.is_applicant:
        raise NotPermitted(_("Only applicants of a registered organisation can apply."))
    pool = programme_pool()
    if pool is None:
        raise StateConflict(_("No programme lends GPUs at the moment."))
    with transaction.atomic():
        # One organisation's requests are checked for overlaps one at a time.
        Organisation.objects.select_for_update().get(pk=actor.organisation_id)
        errors = _request_errors(values, organisation_id=actor.organisation_id, pool=pool)
        if errors:
            raise ValidationFailed(_("The request has errors; nothing was saved."), fields=errors)
        request = LoanRequest.objects.create(
            organisation_id=actor.organisation_id, submitted_by=actor, submitted_at=timezone.now(), pool=pool,
            **{name: values[name] for name in REQUEST_FIELDS},
        )
        audit.record(actor=actor, action="loan_request.submit", obj=request, after=request_snapshot(request))
        # The calls floor files it as a proposal of the rolling call.
        hooks.run(hooks.LOAN_REQUEST_SAVED, loan_request=request)
    return request


def request_update(*, actor, request: LoanRequest, values: dict) -> LoanRequest:
    """Change a request MSIT asked to change, and submit it again."""
    with transaction.atomic():
        locked = LoanRequest.objects.select_for_update().get(pk=request.pk)
        if not (actor.is_applicant and can_change_request(actor, locked)):
            raise NotPermitted(_("Only your organisation can change this request."))
        if locked.state not in OPEN_REQUEST_STATES:
            raise StateConflict(_("Only a request waiting for review can be changed."))
        errors = _request_errors(values, organisation_id=locked.organisation_id, pool=locked.pool,
                                 exclude_pk=locked.pk)
        if errors:
            raise ValidationFailed(_("The request has errors; nothing was saved."), fields=errors)
        before = request_snapshot(locked)
        for name in REQUEST_FIELDS:
            setattr(locked, name, values[name])
        locked.state = RequestState.SUBMITTED
        locked.save()
        audit.record(actor=actor, action="loan_request.update", obj=locked, before=before, after=request_snapshot(locked))
        hooks.run(hooks.LOAN_REQUEST_SAVED, loan_request=locked)
    return locked


def request_withdraw(*, actor, request: LoanRequest, reason: str = "") -> LoanRequest:
    with transaction.atomic():
        locked = LoanRequest.objects.select_for_update().get(pk=request.pk)
        if not (actor.is_applicant and can_change_request(actor, locked)):
            raise NotPermitted(_("Only your organisation can withdraw this request."))
        if locked.state not in OPEN_REQUEST_STATES:
            raise StateConflict(_("Only a request waiting for review can be withdrawn; return an approved loan instead."))
        before = request_snapshot(locked)
        locked.state = RequestState.WITHDRAWN
        locked.save(update_fields=["state", "updated_at"])
        audit.record(actor=actor, action="loan_request.withdraw", obj=locked, before=before, after=request_snapshot(locked), reason=reason)
        hooks.run(hooks.LOAN_REQUEST_SAVED, loan_request=locked)
    return locked


def _review(actor, request: LoanRequest, *, action: str, state=None, note: str = "", score=None, notice=None):
    if not (actor is not None and actor.is_msit_admin):
        raise NotPermitted(_("Only an MSIT admin reviews requests."))
    with transaction.atomic():
        locked = LoanRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state not in OPEN_REQUEST_STATES:
            raise StateConflict(_("This request has been decided already."))
        before = request_snapshot(locked)
        if score is not None:
            locked.score = score
        if state is not None:
            locked.state = state
        if note:
            locked.review_note = note
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.save()
        audit.record(actor=actor, action=action, obj=locked, before=before, after=request_snapshot(locked), reason=note)
        hooks.run(hooks.LOAN_REQUEST_SAVED, loan_request=locked)
        if notice is not None:
            kind, title = notice
            _notify_org(locked.organisation_id, kind=kind, title=title, body=note or title,
                        url=f"/lending/requests/{locked.public_id}/",
                        dedup_key=f"{action}:{locked.public_id}:{locked.reviewed_at.isoformat()}")
    return locked


def request_score(*, actor, request: LoanRequest, score, note: str = "") -> LoanRequest:
    score = Decimal(score) if score is not None else None
    if score is None or not (0 <= score <= 100):
        raise ValidationFailed(_("Score from 0 to 100."), fields={"score": [_("Score from 0 to 100.")]})
    return _review(actor, request, action="loan_request.score", score=score, note=note)


def request_ask_changes(*, actor, request: LoanRequest, note: str) -> LoanRequest:
    if not (note or "").strip():
        raise ValidationFailed(_("Say what should change."), fields={"note": [_("Required.")]})
    return _review(actor, request, action="loan_request.ask_changes", state=RequestState.CHANGES_REQUESTED, note=note,
                   notice=(NotificationKind.REQUEST_CHANGES, msg(gettext_noop("MSIT asks for changes to your GPU request"))))


def request_reject(*, actor, request: LoanRequest, reason: str) -> LoanRequest:
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the rejection."), fields={"reason": [_("Required.")]})
    return _review(actor, request, action="loan_request.reject", state=RequestState.REJECTED, note=reason,
                   notice=(NotificationKind.REQUEST_DECIDED, msg(gettext_noop("Your GPU request was not approved"))))


def _lock_and_check_lendable(gpu_ids: list[int], gpu_model: str, starts_at, ends_at, *, pool, ignore_allocations=()) -> None:
    """Inside the approval's transaction: lock the servers of these GPUs, then the projects whose
    awards cover them (so a project cannot start half-way through this approval), then check every
    GPU is still lendable from the pool. The exclusion constraints stand behind this check."""
    ledger.lock_servers_of(gpu_ids)
    project_ids = set(
        AllocationGpu.objects.filter(
            gpu_id__in=gpu_ids, layer="award", period__overlap=period(starts_at, ends_at),
            allocation__project__isnull=False,
        ).values_list("allocation__project_id", flat=True)
    )
    list(Project.objects.select_for_update().filter(pk__in=project_ids).order_by("pk").values_list("pk"))
    gone = unlendable(gpu_ids, gpu_model, starts_at, ends_at, pool=pool, ignore_allocations=ignore_allocations)
    if gone:
        hosts = sorted(set(Gpu.objects.filter(pk__in=gone).values_list("server__hostname", flat=True)))
        raise CapacityConflict(
            _("The capacity has gone meanwhile: %(n)s of these GPUs are no longer idle for the whole period (%(servers)s). "
              "Nothing was written; make a new proposal.") % {"n": len(gone), "servers": ", ".join(hosts[:6])},
            fields={"gpus": [_("No longer idle.")]},
        )


def request_approve(*, actor, request: LoanRequest, gpu_ids: list[int], note: str = "") -> Loan:
    """Approve with the GPUs the admin confirmed: the loan is written as an offer the applicant
    accepts or declines (`lending.services.offers`). If any of the GPUs is no longer idle for the
    whole period, nothing is written and CapacityConflict says so."""
    if not (actor is not None and actor.is_msit_admin):
        raise NotPermitted(_("Only an MSIT admin approves requests."))
    note = checked_text(note, field="note", max_length=REASON_MAX)
    gpu_ids = sorted({int(g) for g in gpu_ids})
    with transaction.atomic():
        locked = LoanRequest.objects.select_for_update().select_related("organisation").get(pk=request.pk)
        if locked.state not in OPEN_REQUEST_STATES:
            raise StateConflict(_("This request has been decided already."))
        if len(gpu_ids) != locked.gpu_count:
            raise ValidationFailed(
                _("Confirm exactly %(n)s GPUs.") % {"n": locked.gpu_count}, fields={"gpus": [_("Wrong number of GPUs.")]}
            )
        gpus = list(Gpu.objects.filter(pk__in=gpu_ids).select_related("server__cluster"))
        if len(gpus) != len(gpu_ids) or any(g.server.cluster.gpu_model != locked.gpu_model for g in gpus):
            raise ValidationFailed(_("Choose GPUs of the requested model."), fields={"gpus": [_("Wrong GPUs.")]})
        outside = sorted({g.server.hostname for g in gpus if g.server.pool_id != locked.pool_id})
        if outside:
            raise ValidationFailed(
                _("These servers are not in the programme's pool: %(servers)s.") % {"servers": ", ".join(outside[:8])},
                fields={"gpus": [_("Outside the pool.")]},
            )
        if locked.gpu_count >= GPUS_PER_SERVER:
            per_server: dict[int, int] = {}
            for g in gpus:
                per_server[g.server_id] = per_server.get(g.server_id, 0) + 1
            if any(n != GPUS_PER_SERVER for n in per_server.values()):
                raise ValidationFailed(_("A request for whole servers gets whole servers."), fields={"gpus": [_("Not whole servers.")]})
        starts_at, ends_at = request_window(locked)
        if ends_at <= starts_at:
            raise StateConflict(_("The requested period has passed; ask the applicant for new dates."))
        _lock_and_check_lendable(gpu_ids, locked.gpu_model, starts_at, ends_at, pool=locked.pool)
        before = request_snapshot(locked)
        locked.state = RequestState.APPROVED
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        if note:
            locked.review_note = note
        locked.save()
        # The approval is an offer: the ledger holds the GPUs for the applicant (so nobody else can
        # be promised them) until it is accepted, declined, or lapses after the policy's hours.
        lapse_hours = programme_policy.current().offer_lapse_hours
        loan = Loan.objects.create(
            request=locked, organisation=locked.organisation, gpu_model=locked.gpu_model, gpu_count=locked.gpu_count,
            starts_at=starts_at, ends_at=ends_at, state=LoanState.OFFERED,
            offer_expires_at=min(timezone.now() + dt.timedelta(hours=lapse_hours), ends_at),
        )
        by_cluster: dict[int, list[Gpu]] = {}
        for g in gpus:
            by_cluster.setdefault(g.server.cluster_id, []).append(g)
        for cluster_gpus in by_cluster.values():
            ledger.allocation_award(
                actor=actor, holder_kind=HolderKind.LOAN, loan=loan, gpus=cluster_gpus, starts_at=starts_at,
                ends_at=ends_at, reason=msg(gettext_noop("Short-term loan to %(org)s."), org=locked.organisation.name),
            )
        audit.record(actor=actor, action="loan_request.approve", obj=locked, before=before, after=request_snapshot(locked), reason=note)
        hooks.run(hooks.LOAN_APPROVED, actor=actor, loan_request=locked, gpu_ids=gpu_ids)
        hooks.run(hooks.LOAN_REQUEST_SAVED, loan_request=locked)
        audit.record(actor=actor, action="loan.create", obj=loan, after=loan_snapshot(loan))
        _notify_org(
            locked.organisation_id, kind=NotificationKind.REQUEST_DECIDED,
            title=msg(gettext_noop("GPUs are offered to you: %(n)s %(model)s from %(start)s; accept by %(until)s"),
                      n=loan.gpu_count, model=loan.gpu_model, start=locked.starts_on,
                      until=timezone.localtime(loan.offer_expires_at).strftime("%Y-%m-%d %H:%M")),
            body=note or msg(gettext_noop("See the offer for its servers, dates and recall risk, and accept or decline it.")),
            url=f"/lending/loans/{loan.public_id}/", dedup_key=f"loan-approved:{loan.public_id}",
        )
    return loan
