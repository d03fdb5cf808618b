"""Writes for loan offers: an approval offers the GPUs (the ledger holds them for the applicant);
the applicant accepts or declines; an offer not accepted in the policy's hours lapses.

Accept, decline and lapse all lock the loan row and act only on a loan still `offered`, so an
acceptance racing the lapse (or a second click) changes the loan once."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit
from allocation_portal.errors import NotPermitted, StateConflict
from allocation_portal.limits import REASON_MAX, checked_text
from allocation_portal.messages import Message, msg
from allocation_portal.models import NotificationKind
from gpus import services as ledger
from gpus.models import Allocation

from ..access import can_change_loan
from ..models import Loan, LoanEnd, LoanRequest, LoanState, RequestState
from .requests import _notify_org, loan_snapshot


def _check_applicant(actor, loan: Loan) -> None:
    # The borrowing organisation answers its offer; an MSIT admin cannot accept on its behalf.
    if actor is None or not actor.is_applicant or not can_change_loan(actor, loan):
        raise NotPermitted(_("Only the organisation the GPUs are offered to can answer the offer."))


def _locked_offer(loan: Loan, now) -> Loan:
    locked = Loan.objects.select_for_update().select_related("organisation", "request").get(pk=loan.pk)
    if locked.state != LoanState.OFFERED:
        raise StateConflict(_("This offer has been answered or has lapsed already."))
    if locked.offer_expires_at is not None and locked.offer_expires_at <= now:
        raise StateConflict(_("This offer lapsed on %(at)s; its GPUs went back to the pool.")
                            % {"at": timezone.localtime(locked.offer_expires_at).strftime("%Y-%m-%d %H:%M")})
    return locked


def offer_accept(*, actor, loan: Loan) -> Loan:
    """Take the offered GPUs: the loan is scheduled (or active, if its start has come)."""
    _check_applicant(actor, loan)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_offer(loan, now)
        before = loan_snapshot(locked)
        locked.state = LoanState.ACTIVE if locked.starts_at <= now else LoanState.SCHEDULED
        locked.accepted_at = now
        locked.save(update_fields=["state", "accepted_at"])
        audit.record(actor=actor, action="loan.offer_accept", obj=locked, before=before, after=loan_snapshot(locked))
    return locked


def _end_offer(locked: Loan, *, actor, end: str, request_state: str, reason: str | Message, now) -> None:
    """Give the offered GPUs back to the pool and close the offer and its request."""
    for allocation in Allocation.objects.filter(loan=locked, released_at__isnull=True).order_by("pk"):
        if allocation.ends_at > now:
            ledger.allocation_release(actor=actor, allocation=allocation, reason=reason, at=now, check_permission=False)
    locked.state = LoanState.ENDED
    locked.end_reason = end
    locked.ended_at = now
    locked.save(update_fields=["state", "end_reason", "ended_at"])
    LoanRequest.objects.filter(pk=locked.request_id, state=RequestState.APPROVED).update(state=request_state, updated_at=now)


def offer_decline(*, actor, loan: Loan, reason: str = "") -> Loan:
    """Refuse the offered GPUs: they go back to the pool at once."""
    _check_applicant(actor, loan)
    reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_offer(loan, now)
        before = loan_snapshot(locked)
        _end_offer(locked, actor=actor, end=LoanEnd.DECLINED, request_state=RequestState.DECLINED,
                   reason=reason or msg(gettext_noop("Offer declined.")), now=now)
        audit.record(actor=actor, action="loan.offer_decline", obj=locked, before=before, after=loan_snapshot(locked),
                     reason=reason)
    return locked


def offers_lapse(*, now=None) -> int:
    """Offers not accepted by their time lapse and their GPUs go back. Idempotent: each offer is
    locked and lapsed only while still `offered`; one offer per transaction."""
    now = now or timezone.now()
    lapsed = 0
    due = list(Loan.objects.filter(state=LoanState.OFFERED, offer_expires_at__lte=now).order_by("pk")
               .values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            locked = (Loan.objects.select_for_update(skip_locked=True).select_related("request")
                      .filter(pk=pk, state=LoanState.OFFERED, offer_expires_at__lte=now).first())
            if locked is None:
                continue
            before = loan_snapshot(locked)
            _end_offer(locked, actor=None, end=LoanEnd.LAPSED, request_state=RequestState.LAPSED,
                       reason=msg(gettext_noop("The offer was not accepted in time.")), now=now)
            audit.record(actor=None, action="loan.offer_lapse", obj=locked, before=before, after=loan_snapshot(locked))
            _notify_org(
                locked.organisation_id, kind=NotificationKind.REQUEST_DECIDED,
                title=msg(gettext_noop("The GPU offer lapsed: it was not accepted in time")),
                body=msg(gettext_noop("The GPUs went back to the pool. You can apply again.")),
                url=f"/lending/loans/{locked.public_id}/", dedup_key=f"offer-lapsed:{locked.public_id}",
            )
            lapsed += 1
    return lapsed
