"""Expert review of proposals: conflicts of interest, assigning reviewers, scoring against each
criterion's rubric, reminders, and MSIT's decision (revise and resubmit, or the committee's rank
and reason; a selected short-term proposal is offered its GPUs through lending's approval)."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit
from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from allocation_portal.limits import REASON_MAX
from allocation_portal.messages import msg
from allocation_portal.models import NotificationKind, User
from allocation_portal.notifications import ministry_officials, notify, organisation_members
from gpus.models import GPUS_PER_SERVER
from lending import services as lending
from lending.models import Organisation
from lending.selectors import propose, request_window
from projects.models import Project
from projects.services import project_create

from .models import Assignment, Conflict, Criterion, Proposal, ProposalState, Score, Stage
from .selectors import proposal_score

COMMENT_MAX = 2000
RELATIONSHIP_MAX = 300
DEFAULT_LEVELS = (1, 2, 3, 4, 5)
REMIND_DAYS = 3  # reminders start this many days before the deadline, once a day until the review is in
OPEN_STATES = (ProposalState.SUBMITTED, ProposalState.IN_REVIEW)


def _msit(actor) -> None:
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only MSIT admins may do this."))


def conflict_reasons(reviewer: User, proposal: Proposal) -> list[str]:
    """Why the reviewer may not review the proposal (empty: no conflict)."""
    reasons: list[str] = []
    if proposal.organisation_id is None:
        return reasons
    if reviewer.organisation_id == proposal.organisation_id:
        reasons.append(_("The reviewer belongs to the applicant's organisation."))
    declared = Conflict.objects.filter(reviewer=reviewer, organisation_id=proposal.organisation_id).first()
    if declared is not None:
        reasons.append(_("The reviewer declared a relationship with the applicant: %(what)s")
                       % {"what": declared.relationship})
    return reasons


def conflict_declare(*, actor, organisation: Organisation, relationship: str) -> Conflict:
    """A reviewer declares a relationship with an organisation; it stands against assignments."""
    if actor is None or not actor.is_reviewer:
        raise NotPermitted(_("Only reviewers declare conflicts of interest."))
    relationship = (relationship or "").strip()
    if not relationship or len(relationship) > RELATIONSHIP_MAX:
        raise ValidationFailed(_("Say what the relationship is (at most %(n)s characters).") % {"n": RELATIONSHIP_MAX},
                               fields={"relationship": [_("Say what the relationship is (at most %(n)s characters).")
                                                        % {"n": RELATIONSHIP_MAX}]})
    conflict, created = Conflict.objects.get_or_create(reviewer=actor, organisation=organisation,
                                                       defaults={"relationship": relationship})
    if not created:
        raise StateConflict(_("You have declared a relationship with this organisation already."))
    audit.record(actor=actor, action="review.conflict_declare", obj=conflict,
                 after={"organisation": organisation.name, "relationship": relationship})
    return conflict


def assignment_create(*, actor, proposal: Proposal, reviewer: User, due_on: dt.date | None = None) -> Assignment:
    """MSIT assigns a reviewer to a proposal; a conflicted reviewer is refused, with the reason."""
    _msit(actor)
    if not reviewer.is_reviewer:
        raise ValidationFailed(_("Only an active expert reviewer can be assigned."),
                               fields={"reviewer": [_("Only an active expert reviewer can be assigned.")]})
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
        if locked.state not in OPEN_STATES:
            raise StateConflict(_("Reviewers are assigned to proposals waiting for review."))
        reasons = conflict_reasons(reviewer, locked)
        if reasons:
            message = _("%(reviewer)s cannot review this proposal: %(why)s") % {
                "reviewer": reviewer, "why": " ".join(reasons)}
            raise StateConflict(message, code="conflict_of_interest", fields={"reviewer": [message]})
        if Assignment.objects.filter(proposal=locked, reviewer=reviewer).exists():
            raise StateConflict(_("%(reviewer)s is assigned to this proposal already.") % {"reviewer": reviewer})
        due_on = due_on or timezone.localdate() + dt.timedelta(days=locked.call.review_days)
        if due_on < timezone.localdate():
            raise ValidationFailed(_("The deadline cannot be in the past."),
                                   fields={"due_on": [_("The deadline cannot be in the past.")]})
        assignment = Assignment.objects.create(proposal=locked, reviewer=reviewer, assigned_by=actor, due_on=due_on)
        if locked.state == ProposalState.SUBMITTED:
            locked.state = ProposalState.IN_REVIEW
            locked.save(update_fields=["state"])
        audit.record(actor=actor, action="review.assign", obj=locked,
                     after={"reviewer": reviewer.username, "due_on": due_on.isoformat()})
        notify(users=[reviewer], kind=NotificationKind.REVIEW_ASSIGNED,
               title=msg(gettext_noop("A proposal to review, due %(day)s"), day=due_on.isoformat()),
               body=msg(gettext_noop("Score it against each criterion's rubric, with a comment, by %(day)s."),
                        day=due_on.isoformat()),
               url=f"/reviews/{assignment.public_id}/", dedup_key=f"review.assign:{assignment.public_id}")
    return assignment


def _levels(criterion: Criterion) -> tuple[int, ...]:
    return tuple(int(level["score"]) for level in criterion.rubric) or DEFAULT_LEVELS


def review_submit(*, actor, assignment: Assignment, scores: dict[str, tuple[int, str]]) -> Assignment:
    """The reviewer scores every criterion with a rubric level and a comment (again, until the decision)."""
    if actor is None or not actor.is_reviewer or assignment.reviewer_id != actor.pk:
        raise NotPermitted(_("Only the assigned reviewer scores this proposal."))
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().select_related("proposal").get(pk=assignment.pk)
        if locked.proposal.state not in OPEN_STATES:
            raise StateConflict(_("The proposal has been decided or sent back; reviews are closed."))
        criteria = list(Criterion.objects.filter(call_id=locked.proposal.call_id).order_by("position", "code"))
        errors: dict[str, list[str]] = {}
        for criterion in criteria:
            score, comment = scores.get(criterion.code, (None, ""))
            levels = _levels(criterion)
            if score not in levels:
                errors[f"score_{criterion.code}"] = [_("Choose one of the rubric's levels: %(levels)s.")
                                                     % {"levels": ", ".join(map(str, levels))}]
            comment = (comment or "").strip()
            if not comment or len(comment) > COMMENT_MAX:
                errors[f"comment_{criterion.code}"] = [_("Say why, in at most %(n)s characters.") % {"n": COMMENT_MAX}]
        unknown = set(scores) - {c.code for c in criteria}
        if unknown:
            errors["scores"] = [_("These are not criteria of the call: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}]
        if errors:
            raise ValidationFailed(_("The review has errors; nothing was saved."), fields=errors)
        locked.scores.all().delete()
        Score.objects.bulk_create(Score(assignment=locked, criterion=c, score=scores[c.code][0],
                                        comment=scores[c.code][1].strip()) for c in criteria)
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["submitted_at"])
        audit.record(actor=actor, action="review.submit", obj=locked.proposal,
                     after={"reviewer": actor.username, "scores": {c.code: scores[c.code][0] for c in criteria}})
    return locked


def proposal_ask_revision(*, actor, proposal: Proposal, note: str) -> Proposal:
    """MSIT sends a proposal back to revise and resubmit (a short-term one through lending, whose
    request then reads as "changes requested"); its reviews stay, and reviewers score it again."""
    _msit(actor)
    note = (note or "").strip()
    if not note or len(note) > REASON_MAX:
        raise ValidationFailed(_("Say what to revise."), fields={"note": [_("Say what to revise.")]})
    if proposal.loan_request is not None:
        lending.request_ask_changes(actor=actor, request=proposal.loan_request, note=note)
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state not in (*OPEN_STATES, ProposalState.REVISION):
            raise StateConflict(_("This proposal has been decided already."))
        locked.state, locked.revision_note = ProposalState.REVISION, note
        locked.save(update_fields=["state", "revision_note"])
        audit.record(actor=actor, action="review.ask_revision", obj=locked, reason=note)
        if locked.organisation_id and not locked.loan_request_id:
            notify(users=organisation_members(locked.organisation_id), kind=NotificationKind.REQUEST_CHANGES,
                   title=msg(gettext_noop("Revise and resubmit your proposal")), body=note, url="/calls/",
                   dedup_key=f"review.revision:{locked.public_id}:{timezone.now().isoformat()}")
    return locked


def project_end(start: dt.date, months: int) -> dt.date:
    """The last day of `months` months from `start` (12 months from 2026-04-15: 2027-04-14)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1])) - dt.timedelta(days=1)


def _project_code(proposal: Proposal) -> str:
    """The new project's code: the call's code and a number (NAT-2027-03)."""
    prefix = proposal.call.code.upper()[:16]
    taken = set(Project.objects.filter(code__startswith=f"{prefix}-").values_list("code", flat=True))
    number = len(taken) + 1
    while f"{prefix}-{number:02d}" in taken:
        number += 1
    return f"{prefix}-{number:02d}"


def _stage_of(proposal: Proposal, stage: Stage | None, *, selected: bool) -> Stage | None:
    """The last stage the decided proposal reached: the call's last stage for a selection, or the
    stage a proposal not selected ended at (default: the last)."""
    stages = list(Stage.objects.filter(call_id=proposal.call_id).order_by("position"))
    if not stages:
        return None
    if stage is None or selected:
        return stages[-1]
    if stage.call_id != proposal.call_id:
        raise ValidationFailed(_("Name a stage of this call."), fields={"stage": [_("Name a stage of this call.")]})
    if proposal.stage_reached is not None and stage.position < proposal.stage_reached.position:
        message = _("The proposal passed that stage already; name the stage it is at or a later one.")
        raise ValidationFailed(message, fields={"stage": [message]})
    return stage


def _award_national(*, actor, proposal: Proposal, award_gpus: int | None, reason: str) -> Project:
    """A selected national proposal becomes its ministry's project with the award the committee
    decided (whole servers, at most what was asked), made by the projects' own service."""
    award = proposal.gpu_count if award_gpus is None else award_gpus
    if award < GPUS_PER_SERVER or award % GPUS_PER_SERVER or award > proposal.gpu_count:
        message = _("The award is whole servers of %(n)s GPUs, at most the %(asked)s asked for.") % {
            "n": GPUS_PER_SERVER, "asked": proposal.gpu_count}
        raise ValidationFailed(message, fields={"award_gpus": [message]})
    if proposal.call.pool_id is None:
        raise StateConflict(_("The call names no pool to award from; MSIT sets it in the admin first."))
    if proposal.starts_on is None:
        raise StateConflict(_("The proposal has no planned start to give its project."))
    return project_create(
        actor=actor, code=_project_code(proposal), ministry=proposal.ministry, pool=proposal.call.pool,
        title_ko=proposal.title, title_en=proposal.title_en, domain=proposal.domain or "public",
        purpose=proposal.summary, gpus_awarded=award, planned_start=proposal.starts_on,
        end_date=project_end(proposal.starts_on, proposal.months), is_sample=proposal.is_sample, reason=reason)


def proposal_advance(*, actor, proposal: Proposal, stage: Stage, note: str = "") -> Proposal:
    """MSIT records that an open proposal passed the stages before `stage` and is now at it (the
    pre-screening's and the interviews' results, before the committee's decision). Only forward:
    a later stage of the proposal's own call; the last stage is reached with the decision itself."""
    _msit(actor)
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise ValidationFailed(_("At most %(n)s characters.") % {"n": REASON_MAX},
                               fields={"note": [_("At most %(n)s characters.") % {"n": REASON_MAX}]})
    if stage.call_id != proposal.call_id:
        raise ValidationFailed(_("Name a stage of this call."), fields={"stage": [_("Name a stage of this call.")]})
    with transaction.atomic():
        locked = Proposal.objects.select_for_update(of=("self",)).select_related("stage_reached").get(pk=proposal.pk)
        if locked.state not in OPEN_STATES:
            raise StateConflict(_("This proposal has been decided already."))
        first = Stage.objects.filter(call_id=locked.call_id).order_by("position").values_list("position", flat=True)[0]
        current = locked.stage_reached.position if locked.stage_reached else first
        if stage.position <= current:
            raise StateConflict(_("The proposal is at this stage or past it already."))
        before = locked.stage_reached.code if locked.stage_reached else None
        locked.stage_reached = stage
        locked.save(update_fields=["stage_reached"])
        audit.record(actor=actor, action="review.advance", obj=locked, reason=note,
                     before={"stage": before}, after={"stage": stage.code})
    return locked


def proposal_decide(*, actor, proposal: Proposal, selected: bool, rank: int | None, reason: str,
                    award_gpus: int | None = None, stage: Stage | None = None):
    """MSIT records the committee's decision on a reviewed proposal: the panel's rank and the reason.
    A selected short-term proposal is offered GPUs found idle for its dates (lending's approval and
    offer); one not selected is rejected there with the same reason. A selected national proposal
    becomes its ministry's project with its award (the projects' service; its servers are then
    awarded on the project's page); one not selected may name the stage it ended at."""
    _msit(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise ValidationFailed(_("Give the committee's reason."), fields={"reason": [_("Give the committee's reason.")]})
    if rank is not None and not 1 <= rank <= 10000:
        raise ValidationFailed(_("The rank is a whole number from 1."), fields={"rank": [_("The rank is a whole number from 1.")]})
    assignments = list(Assignment.objects.filter(proposal=proposal).prefetch_related("scores__criterion"))
    figures = proposal_score(proposal, assignments)
    if not figures.enough:
        raise StateConflict(_("The proposal has %(n)s of the %(needed)s reviews it needs.")
                            % {"n": figures.reviews, "needed": figures.needed})
    if proposal.state not in OPEN_STATES:
        raise StateConflict(_("This proposal has been decided already."))
    with transaction.atomic():
        offer, project = None, None
        request = proposal.loan_request
        if request is not None:
            if selected:
                found = propose(request.gpu_model, request.gpu_count, *request_window(request))
                if not found.complete:
                    raise CapacityConflict(_("No idle GPUs fit this request's dates; the decision was not recorded."))
                offer = lending.request_approve(actor=actor, request=request, gpu_ids=list(found.gpu_ids), note=reason)
            else:
                lending.request_reject(actor=actor, request=request, reason=reason)
        locked = Proposal.objects.select_for_update(of=("self",)).select_related("call", "ministry").get(pk=proposal.pk)
        if request is None and locked.state not in OPEN_STATES:  # (a short-term one's state follows its request's)
            raise StateConflict(_("This proposal has been decided already."))
        if selected and locked.ministry_id is not None and request is None:
            project = _award_national(actor=actor, proposal=locked, award_gpus=award_gpus, reason=reason)
            locked.project, locked.award_gpus = project, project.gpus_awarded
        locked.stage_reached = _stage_of(locked, stage, selected=selected)
        locked.state = ProposalState.SELECTED if selected else ProposalState.NOT_SELECTED
        locked.rank, locked.decision_reason = rank, reason
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["state", "rank", "decision_reason", "decided_by", "decided_at", "project",
                                   "award_gpus", "stage_reached"])
        after = {"selected": selected, "rank": rank, "score": str(figures.score), "spread": str(figures.spread)}
        if project is not None:
            after |= {"project": project.code, "award_gpus": project.gpus_awarded}
        if locked.stage_reached is not None:
            after["stage"] = locked.stage_reached.code
        audit.record(actor=actor, action="review.decide", obj=locked, reason=reason, after=after)
        if locked.ministry_id is not None and request is None:
            notify(users=ministry_officials(locked.ministry_id), kind=NotificationKind.REQUEST_DECIDED,
                   title=msg(gettext_noop("Your ministry's proposal was selected") if selected
                             else gettext_noop("Your ministry's proposal was not selected")),
                   body=reason, url=f"/calls/{locked.call.code}/proposals/{locked.public_id}/",
                   dedup_key=f"review.decide:{locked.public_id}")
    return locked, offer


def review_reminders_send(*, today: dt.date | None = None) -> int:
    """Each day, a reviewer whose review is due within REMIND_DAYS (or overdue) and not in is reminded
    once, by e-mail and in the portal. Returns how many were reminded."""
    today = today or timezone.localdate()
    due = (Assignment.objects.filter(submitted_at__isnull=True, due_on__lte=today + dt.timedelta(days=REMIND_DAYS),
                                     proposal__state__in=OPEN_STATES)
           .exclude(reminded_on=today).select_related("reviewer"))
    sent = 0
    for assignment in due:
        with transaction.atomic():
            if not Assignment.objects.filter(pk=assignment.pk, submitted_at__isnull=True).exclude(
                    reminded_on=today).update(reminded_on=today):
                continue
            overdue = assignment.due_on < today
            notify(users=[assignment.reviewer], kind=NotificationKind.REVIEW_DUE,
                   title=msg(gettext_noop("Review overdue since %(day)s") if overdue
                             else gettext_noop("Review due %(day)s"), day=assignment.due_on.isoformat()),
                   body=msg(gettext_noop("Score the proposal assigned to you against each criterion, with a comment.")),
                   url=f"/reviews/{assignment.public_id}/", dedup_key=f"review.due:{assignment.public_id}:{today}")
            sent += 1
    return sent
