"""Calls and rounds: the rolling call's round per cut-off, eligibility, and filing each short-term
request as a proposal of the rolling call. Pages and API actions call these."""

from __future__ import annotations

import datetime as dt
import math

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation_portal import audit
from allocation_portal.dates import DateInvalid, parse_date
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from gpus.models import GPUS_PER_SERVER, GpuModel
from lending.models import LoanRequest, Organisation
from projects.models import Domain

from .models import Call, CallKind, Proposal, ProposalState, Round

ROLLING_CALL = "short-term-rolling"  # the rolling call's code (created by migration 0002)
DAYS_PER_MONTH = 30
# A short-term proposal's state follows its request's (the review of the request is the decision;
# a declined or lapsed offer was still a selection).
PROPOSAL_STATE_OF_REQUEST = {
    "submitted": ProposalState.SUBMITTED, "changes_requested": ProposalState.REVISION,
    "approved": ProposalState.SELECTED, "declined": ProposalState.SELECTED, "lapsed": ProposalState.SELECTED,
    "rejected": ProposalState.NOT_SELECTED, "withdrawn": ProposalState.WITHDRAWN,
}


ROLLING_DEFAULTS = {"kind": CallKind.ROLLING, "name_ko": "단기 수요 지원 상시 공모",
                    "name_en": "Rolling short-term call for idle GPUs", "opens_on": dt.date(2026, 1, 5),
                    "round_days": 14}


def rolling_call() -> Call:
    """The rolling short-term call (migration 0002 made it with its criteria and rules; made bare
    again if it was deleted, so every request stays a proposal)."""
    call, _created = Call.objects.get_or_create(code=ROLLING_CALL, defaults=ROLLING_DEFAULTS)
    return call


def round_period(call: Call, day: dt.date) -> tuple[int, dt.date, dt.date]:
    """(number, opens_on, cut-off) of the rolling call's round that takes proposals made on `day`:
    rounds of `round_days` days from the call's opening; a day before the opening is in round 1."""
    days = call.round_days or 1
    index = max(0, (day - call.opens_on).days // days)
    opens = call.opens_on + dt.timedelta(days=index * days)
    return index + 1, opens, opens + dt.timedelta(days=days - 1)


def rolling_round(call: Call, day: dt.date) -> Round:
    """The rolling call's round for `day`, made when the first proposal of its period comes in."""
    number, opens, closes = round_period(call, day)
    found, _created = Round.objects.get_or_create(call=call, number=number,
                                                  defaults={"opens_on": opens, "closes_on": closes})
    return found


def request_months(starts_on: dt.date, ends_on: dt.date) -> int:
    """A request's length in whole months (30 days, rounded up), for the GPUs × months cap."""
    return max(1, math.ceil(((ends_on - starts_on).days + 1) / DAYS_PER_MONTH))


def proposal_file_request(*, loan_request: LoanRequest, **_kwargs) -> Proposal:
    """Hook (lending's request saved): the request is a proposal of the rolling call, in the round of
    the day it was submitted; its GPUs and months follow the request's changes."""
    call = rolling_call()
    state = PROPOSAL_STATE_OF_REQUEST.get(loan_request.state, ProposalState.SUBMITTED)
    values = {"organisation_id": loan_request.organisation_id, "gpu_model": loan_request.gpu_model,
              "gpu_count": loan_request.gpu_count,
              "months": request_months(loan_request.starts_on, loan_request.ends_on),
              "title": loan_request.purpose[:200], "submitted_at": loan_request.submitted_at, "state": state}
    existing = Proposal.objects.filter(loan_request=loan_request).first()
    if existing is not None:
        if existing.state == ProposalState.IN_REVIEW and state == ProposalState.SUBMITTED:
            values["state"] = ProposalState.IN_REVIEW  # a request still waiting is still in review
        Proposal.objects.filter(pk=existing.pk).update(**values)
        return existing
    day = timezone.localdate(loan_request.submitted_at)
    return Proposal.objects.create(call=call, round=rolling_round(call, day), loan_request=loan_request, **values)


def eligibility_reasons(call: Call, *, organisation: Organisation | None = None, ministry_id: int | None = None,
                        eligible_ministry_ids: set[int] | None = None) -> list[str]:
    """Why an applicant is outside the call's eligibility rules (empty: eligible). Pass the call's
    eligible ministry ids when checking many proposals, to read them once."""
    reasons = []
    if organisation is not None:
        if call.eligible_kinds and organisation.kind not in call.eligible_kinds:
            reasons.append(_("The call is not open to this type of organisation (%(kind)s).")
                           % {"kind": organisation.get_kind_display()})
        if call.eligible_regions and organisation.region not in call.eligible_regions:
            reasons.append(_("The call is not open to applicants in this region (%(region)s).")
                           % {"region": organisation.get_region_display()})
    if ministry_id is not None:
        if eligible_ministry_ids is None:
            eligible_ministry_ids = set(call.eligible_ministries.values_list("pk", flat=True))
        if eligible_ministry_ids and ministry_id not in eligible_ministry_ids:
            reasons.append(_("The call is not open to proposals of this ministry."))
    return reasons


MAX_ROUNDS = 200


def call_add_round(*, actor, call: Call, closes_on, opens_on=None) -> Round:
    """MSIT adds a round with its cut-off to a call; it opens the day after the previous cut-off
    (or on the call's opening). Cut-offs only move forward."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only MSIT admins may do this."))
    try:
        closes_on = parse_date(closes_on)
        opens_on = parse_date(opens_on) if opens_on not in (None, "") else None
    except DateInvalid as error:
        raise ValidationFailed(error.message, fields={"closes_on": [error.message]}) from None
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.kind == CallKind.ROLLING:
            raise StateConflict(_("The rolling call closes a round every %(n)s days by itself; rounds are added to "
                                  "the other calls.") % {"n": locked.round_days})
        last = locked.rounds.order_by("-number").first()
        if last is not None and last.number >= MAX_ROUNDS:
            raise StateConflict(_("A call has at most %(n)s rounds.") % {"n": MAX_ROUNDS})
        if opens_on is None:
            opens_on = last.closes_on + dt.timedelta(days=1) if last else locked.opens_on
        errors = {}
        if last is not None and opens_on <= last.closes_on:
            errors["opens_on"] = [_("A round opens after the previous round's cut-off (%(day)s).")
                                  % {"day": last.closes_on.isoformat()}]
        if closes_on < opens_on:
            errors["closes_on"] = [_("The cut-off is on or after the day the round opens (%(day)s).")
                                   % {"day": opens_on.isoformat()}]
        if errors:
            raise ValidationFailed(_("The round has errors; nothing was saved."), fields=errors)
        created = Round.objects.create(call=locked, number=(last.number + 1) if last else 1,
                                       opens_on=opens_on, closes_on=closes_on)
        audit.record(actor=actor, action="call.add_round", obj=locked,
                     after={"round": created.number, "opens_on": opens_on.isoformat(),
                            "closes_on": closes_on.isoformat()})
    return created


def open_round(call: Call, day: dt.date | None = None) -> Round | None:
    """The call's round taking proposals on `day` (today, KST), if any."""
    day = day or timezone.localdate()
    return call.rounds.filter(opens_on__lte=day, closes_on__gte=day).order_by("number").first()


TITLE_MAX, TITLE_EN_MAX, SUMMARY_MAX = 200, 250, 4000
MONTHS_MAX = 36


def proposal_national_submit(*, actor, call: Call, values: dict) -> Proposal:
    """A ministry official proposes a national project for their ministry, to the call's open round:
    titles, field, summary, whole servers of one GPU model, months and the planned start. The call's
    eligibility and its cap per proposal are checked here, so the official learns at once."""
    if actor is None or not actor.is_official:
        raise NotPermitted(_("Only ministry officials propose national projects, for their own ministry."))
    if call.kind != CallKind.NATIONAL:
        raise StateConflict(_("Short-term requests are made on the lending page; this call is not a national call."))
    reasons = eligibility_reasons(call, ministry_id=actor.ministry_id)
    if reasons:
        raise NotPermitted(" ".join(reasons))
    errors: dict[str, list[str]] = {}
    title = (values.get("title") or "").strip()
    title_en = (values.get("title_en") or "").strip()
    summary = (values.get("summary") or "").strip()
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [_("A Korean title of at most %(n)s characters.") % {"n": TITLE_MAX}]
    if len(title_en) > TITLE_EN_MAX:
        errors["title_en"] = [_("An English title of at most %(n)s characters.") % {"n": TITLE_EN_MAX}]
    if not summary or len(summary) > SUMMARY_MAX:
        errors["summary"] = [_("Say what the project will do, in at most %(n)s characters.") % {"n": SUMMARY_MAX}]
    domain = values.get("domain") or ""
    if domain not in Domain.values:
        errors["domain"] = [_("Choose one of the fields.")]
    gpu_model = values.get("gpu_model") or ""
    if gpu_model not in GpuModel.values:
        errors["gpu_model"] = [_("Choose a GPU model.")]
    gpu_count = values.get("gpu_count")
    if not isinstance(gpu_count, int) or gpu_count < GPUS_PER_SERVER or gpu_count % GPUS_PER_SERVER:
        errors["gpu_count"] = [_("National projects hold whole servers: a multiple of %(n)s GPUs.") % {"n": GPUS_PER_SERVER}]
    months = values.get("months")
    if not isinstance(months, int) or not 1 <= months <= MONTHS_MAX:
        errors["months"] = [_("From 1 to %(n)s months.") % {"n": MONTHS_MAX}]
    try:
        starts_on = parse_date(values.get("starts_on"))
    except DateInvalid as error:
        errors["starts_on"] = [error.message]
        starts_on = None
    if starts_on is not None and starts_on <= timezone.localdate():
        errors["starts_on"] = [_("The planned start is after today.")]
    if errors or not isinstance(gpu_count, int) or not isinstance(months, int):
        raise ValidationFailed(_("The proposal has errors; nothing was saved."), fields=errors)
    if call.cap_gpu_months and gpu_count * months > call.cap_gpu_months:
        errors["gpu_count"] = [_("Over the call's cap: %(n)s GPU-months asked, the cap is %(cap)s.")
                               % {"n": gpu_count * months, "cap": call.cap_gpu_months}]
    if errors:
        raise ValidationFailed(_("The proposal has errors; nothing was saved."), fields=errors)
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        found = open_round(locked)
        if found is None:
            raise StateConflict(_("The call takes no proposals today: no round is open."))
        proposal = Proposal.objects.create(
            call=locked, round=found, ministry_id=actor.ministry_id, title=title, title_en=title_en, domain=domain,
            summary=summary, gpu_model=gpu_model, gpu_count=gpu_count, months=months, starts_on=starts_on,
            submitted_at=timezone.now())
        audit.record(actor=actor, action="call.propose", obj=proposal,
                     after={"call": locked.code, "round": found.number, "gpus": gpu_count, "months": months})
    return proposal
