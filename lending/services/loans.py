"""Writes for loans: early return, renewal, recall (with its notice), the end-of-loan report, and
the scheduled tick that starts and ends loans.

Each function is one state change: it checks its rule, locks what it changes, writes its audit
event in the same transaction, and queues notices after commit."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit
from allocation_portal import policy as programme_policy
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.limits import REASON_MAX, checked_text
from allocation_portal.messages import Message, is_message, msg, plain
from allocation_portal.models import NotificationKind
from gpus import services as ledger
from gpus.availability import period
from gpus.models import Allocation, AllocationGpu

from ..access import can_change_loan
from ..models import Loan, LoanEnd, LoanState, RenewalState
from .requests import _lock_and_check_lendable, _notify_org, loan_snapshot, max_end

# --- Loans ----------------------------------------------------------------------------------------


def _loan_for_update(loan: Loan) -> Loan:
    return Loan.objects.select_for_update().select_related("organisation", "request").get(pk=loan.pk)


def _check_holder(actor, loan: Loan) -> None:
    # `actor=None` is the system itself (a scheduled job).
    if actor is not None and not can_change_loan(actor, loan):
        raise NotPermitted(_("Only the borrowing organisation or an MSIT admin can do this."))


def _live_allocations(loan: Loan):
    return list(Allocation.objects.filter(loan=loan, released_at__isnull=True).order_by("pk"))


def loan_return(*, actor, loan: Loan, reason: str = "") -> Loan:
    """Give the GPUs back early (or cancel a loan that has not begun)."""
    _check_holder(actor, loan)
    reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    now = timezone.now()
    with transaction.atomic():
        locked = _loan_for_update(loan)
        if locked.state == LoanState.ENDED:
            raise StateConflict(_("This loan has ended already."))
        if locked.state == LoanState.OFFERED:
            raise StateConflict(_("This is an offer: accept or decline it."))
        before = loan_snapshot(locked)
        for allocation in _live_allocations(locked):
            if allocation.ends_at > now:
                ledger.allocation_release(actor=actor, allocation=allocation, reason=reason or msg(gettext_noop("Returned early.")),
                                          at=now, check_permission=False)
        locked.state = LoanState.ENDED
        locked.end_reason = LoanEnd.RETURNED
        locked.ended_at = now
        if locked.renewal_state == RenewalState.REQUESTED:
            # A renewal asked for before the return is moot: nothing is left to decide.
            locked.renewal_state = RenewalState.WITHDRAWN
        locked.save()
        audit.record(actor=actor, action="loan.return", obj=locked, before=before, after=loan_snapshot(locked), reason=reason)
    return locked


def loan_request_renewal(*, actor, loan: Loan, ends_on: dt.date, reason: str) -> Loan:
    """Ask to extend the loan by at most the policy's longest loan, as often as the policy allows."""
    _check_holder(actor, loan)
    policy = programme_policy.current()
    with transaction.atomic():
        locked = _loan_for_update(loan)
        if locked.state == LoanState.ENDED or locked.recalled:
            raise StateConflict(_("An ended or recalled loan cannot be renewed."))
        if locked.state == LoanState.OFFERED:
            raise StateConflict(_("This is an offer: accept it before asking for a renewal."))
        if locked.renewal_state == RenewalState.REQUESTED:
            raise StateConflict(_("A renewal is waiting for MSIT's decision already."))
        if locked.renewals >= policy.loan_renewals:
            raise StateConflict(_("A loan can be renewed %(n)s times; this one has been asked for already.")
                                % {"n": policy.loan_renewals})
        current_last = timezone.localtime(locked.ends_at).date() - dt.timedelta(days=1)
        last_allowed = max_end(current_last + dt.timedelta(days=1), policy.loan_max_months)
        errors = {}
        if ends_on is None or ends_on <= current_last:
            errors["ends_on"] = [_("The new last day must be after %(last)s.") % {"last": current_last}]
        elif ends_on > last_allowed:
            errors["ends_on"] = [_("A renewal adds at most %(months)s months: the last day can be %(last)s.")
                                 % {"months": policy.loan_max_months, "last": last_allowed}]
        if not (reason or "").strip():
            errors["reason"] = [_("Required.")]
        if errors:
            raise ValidationFailed(_("The renewal request has errors."), fields=errors)
        before = loan_snapshot(locked)
        locked.renewal_state = RenewalState.REQUESTED
        locked.renewals += 1
        locked.renewal_ends_on = ends_on
        locked.renewal_reason = reason.strip()
        locked.save()
        audit.record(actor=actor, action="loan.renewal_request", obj=locked, before=before, after=loan_snapshot(locked), reason=reason)
    return locked


def loan_decide_renewal(*, actor, loan: Loan, approve: bool, note: str = "") -> Loan:
    """Approve (if the GPUs are still idle for the added time) or refuse the renewal."""
    if not (actor is not None and actor.is_msit_admin):
        raise NotPermitted(_("Only an MSIT admin decides renewals."))
    note = checked_text(note, field="note", max_length=REASON_MAX)
    with transaction.atomic():
        locked = _loan_for_update(loan)
        if locked.renewal_state != RenewalState.REQUESTED:
            raise StateConflict(_("No renewal is waiting for a decision."))
        if locked.state == LoanState.ENDED or locked.recalled:
            raise StateConflict(_("An ended or recalled loan cannot be renewed."))
        before = loan_snapshot(locked)
        if approve and locked.renewal_ends_on is not None:
            new_end = timezone.make_aware(
                dt.datetime.combine(locked.renewal_ends_on + dt.timedelta(days=1), dt.time.min),
                timezone.get_default_timezone(),
            )
            allocations = _live_allocations(locked)
            gpu_ids = list(AllocationGpu.objects.filter(allocation__in=allocations).values_list("gpu_id", flat=True))
            _lock_and_check_lendable(gpu_ids, locked.gpu_model, locked.ends_at, new_end, pool=locked.request.pool,
                                     ignore_allocations=[a.pk for a in allocations])
            for allocation in allocations:
                ledger.allocation_change_end(actor=actor, allocation=allocation, ends_at=new_end,
                                             reason=msg(gettext_noop("Loan renewed.")), check_permission=False)
            locked.ends_at = new_end
            locked.renewal_state = RenewalState.APPROVED
        else:
            locked.renewal_state = RenewalState.REJECTED
        locked.save()
        audit.record(actor=actor, action="loan.renewal_decide", obj=locked, before=before, after=loan_snapshot(locked), reason=note)
        _notify_org(
            locked.organisation_id, kind=NotificationKind.LOAN_RENEWAL,
            title=msg(gettext_noop("Your loan renewal was approved") if approve
                      else gettext_noop("Your loan renewal was not approved")),
            body=note or "", url=f"/lending/loans/{locked.public_id}/",
            dedup_key=f"loan-renewal:{locked.public_id}",
        )
    return locked


def loan_recall(
    *, actor, loan: Loan, reason: str | Message, notice_hours: int | None = None, now=None, check_permission: bool = True
) -> Loan:
    """Give notice: the loan ends `notice_hours` (the policy's recall notice) from now, or at its
    own end if sooner."""
    if notice_hours is None:
        notice_hours = programme_policy.current().recall_notice_hours
    if check_permission and actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin recalls loans."))
    if not is_message(reason) and not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the recall."), fields={"reason": [_("Required.")]})
    if not is_message(reason):
        reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _loan_for_update(loan)
        if locked.state == LoanState.ENDED:
            raise StateConflict(_("This loan has ended already."))
        if locked.recalled:
            return locked
        before = loan_snapshot(locked)
        end = min(locked.ends_at, now + dt.timedelta(hours=notice_hours))
        recall_reason = msg(gettext_noop("Recalled: %(reason)s"), reason=reason)
        if end <= locked.starts_at:
            # The notice runs out before the loan begins: it never begins.
            for allocation in _live_allocations(locked):
                ledger.allocation_release(actor=actor, allocation=allocation, at=locked.starts_at, reason=recall_reason,
                                          check_permission=False)
            locked.state = LoanState.ENDED
            locked.end_reason = LoanEnd.RECALLED
            locked.ended_at = now
        else:
            for allocation in _live_allocations(locked):
                if allocation.ends_at > end:
                    ledger.allocation_change_end(actor=actor, allocation=allocation, ends_at=end, reason=recall_reason,
                                                 check_permission=False)
            locked.ends_at = end
        locked.recall_notice_at = now
        locked.recall_reason = plain(reason) if is_message(reason) else reason
        locked.recall_reason_msg = reason if is_message(reason) else None
        if locked.renewal_state == RenewalState.REQUESTED:
            locked.renewal_state = RenewalState.REJECTED
        locked.save()
        audit.record(actor=actor, action="loan.recall", obj=locked, before=before, after=loan_snapshot(locked), reason=reason)
        _notify_org(
            locked.organisation_id, kind=NotificationKind.LOAN_RECALLED,
            title=msg(gettext_noop("Recall notice: your GPU loan ends on %(end)s"), end=locked.ended_at or end),
            body=reason, url=f"/lending/loans/{locked.public_id}/", dedup_key=f"loan-recall:{locked.public_id}",
        )
    return locked


def loans_recall_for_project(*, actor, project, reason: str | Message, now=None, notice_hours: int | None = None) -> list[Loan]:
    """The project has started: every loan on its reserved servers gets the recall notice."""
    now = now or timezone.now()
    award_gpus = AllocationGpu.objects.filter(
        allocation__project=project, layer="award", period__overlap=period(now, None)
    ).values("gpu_id")
    loan_ids = set(
        AllocationGpu.objects.filter(
            layer="loan", gpu_id__in=award_gpus, allocation__loan__isnull=False,
            allocation__loan__state__in=[LoanState.OFFERED, LoanState.SCHEDULED, LoanState.ACTIVE],
        ).values_list("allocation__loan_id", flat=True)
    )
    # Loans that would only begin after the project's start end before they begin.
    return [
        loan_recall(actor=actor, loan=loan, reason=reason, now=now, notice_hours=notice_hours, check_permission=False)
        for loan in Loan.objects.filter(pk__in=loan_ids).order_by("pk")
    ]


def loan_file_end_report(*, actor, loan: Loan, text: str, gpu_hours=None) -> Loan:
    _check_holder(actor, loan)
    if not (text or "").strip():
        raise ValidationFailed(_("Describe what the GPUs were used for and what came of it."), fields={"text": [_("Required.")]})
    with transaction.atomic():
        locked = _loan_for_update(loan)
        if locked.state in (LoanState.OFFERED, LoanState.SCHEDULED) or not locked.began:
            raise StateConflict(_("The loan has not begun yet."))
        if gpu_hours is not None and gpu_hours < 0:
            raise ValidationFailed(_("GPU-hours cannot be negative."), fields={"gpu_hours": [_("Must be zero or more.")]})
        before = loan_snapshot(locked)
        locked.end_report = text.strip()
        locked.end_report_gpu_hours = gpu_hours
        locked.end_report_at = timezone.now()
        locked.save()
        audit.record(actor=actor, action="loan.end_report", obj=locked, before=before,
                     after={**loan_snapshot(locked), "end_report": locked.end_report})
    return locked


# --- The scheduled tick -----------------------------------------------------------------------------

END_NOTICE_DAYS = (7, 1)


def loans_tick(*, now=None) -> dict[str, int]:
    """Start loans whose start has come, end those whose end has passed, and warn before the end.

    Rows move with conditional UPDATEs (state = the expected one), so running this twice, or in two
    workers at once, changes each loan once; notices carry a dedup key."""
    now = now or timezone.now()
    counts = {"started": 0, "ended": 0, "warned": 0}
    with transaction.atomic():
        starting = list(Loan.objects.filter(state=LoanState.SCHEDULED, starts_at__lte=now, ends_at__gt=now).values_list("pk", "organisation_id", "public_id"))
        for pk, organisation_id, public_id in starting:
            if Loan.objects.filter(pk=pk, state=LoanState.SCHEDULED).update(state=LoanState.ACTIVE):
                counts["started"] += 1
                audit.record(actor=None, action="loan.start", object_type="gpus.loan", object_id=str(public_id),
                             after={"state": LoanState.ACTIVE})
                _notify_org(organisation_id, kind=NotificationKind.LOAN_STARTED, title=msg(gettext_noop("Your GPU loan has started")),
                            body=msg(gettext_noop("The GPUs are yours to use until the loan's end.")), url=f"/lending/loans/{public_id}/",
                            dedup_key=f"loan-started:{public_id}")
        ending = list(Loan.objects.filter(state__in=[LoanState.SCHEDULED, LoanState.ACTIVE], ends_at__lte=now))
        for loan in ending:
            reason = LoanEnd.RECALLED if loan.recalled else LoanEnd.COMPLETED
            if Loan.objects.filter(pk=loan.pk, state=loan.state).update(state=LoanState.ENDED, end_reason=reason, ended_at=loan.ends_at):
                counts["ended"] += 1
                audit.record(actor=None, action="loan.end", object_type="gpus.loan", object_id=str(loan.public_id),
                             before={"state": loan.state}, after={"state": LoanState.ENDED, "end_reason": reason})
                _notify_org(loan.organisation_id, kind=NotificationKind.LOAN_ENDED, title=msg(gettext_noop("Your GPU loan has ended")),
                            body=msg(gettext_noop("Please file the short end-of-loan report.")), url=f"/lending/loans/{loan.public_id}/",
                            dedup_key=f"loan-ended:{loan.public_id}")
        for days in END_NOTICE_DAYS:
            soon = Loan.objects.filter(
                state__in=[LoanState.SCHEDULED, LoanState.ACTIVE], ends_at__gt=now, ends_at__lte=now + dt.timedelta(days=days)
            )
            for loan in soon:
                created = _notify_org(
                    loan.organisation_id, kind=NotificationKind.LOAN_ENDING,
                    title=msg(gettext_noop("Your GPU loan ends on %(end)s"), end=loan.ends_at),
                    body=msg(gettext_noop("Save your work before the end; ask for a renewal if you need more time.")),
                    url=f"/lending/loans/{loan.public_id}/", dedup_key=f"loan-ending:{loan.public_id}:{days}d",
                )
                counts["warned"] += bool(created)
    return counts
