"""Reclamation cases (회수): off-purpose cases, suspension, the ministry's response and MSIT's
decision. Nothing is reclaimed without an MSIT admin's decision; reclaimed servers go to the MSIT
reserve in the ledger, in the same transaction as the decision and its audit events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.messages import Message, label, msg
from allocation_portal.models import NotificationKind
from gpus import services as ledger
from gpus.availability import period
from gpus.models import GPUS_PER_SERVER, Allocation, AllocationGpu, Gpu, HolderKind, Layer
from gpus.selectors import servers_held_by_project
from projects.access import can_change_project
from projects.models import Project, ProjectStatus
from projects.services import usage_plan_scale_future

from ..models import CaseKind, CaseState, ReclamationCase, ResponseKind, UsageReport
from .checks import _evidence, _notify_case

# --- Off-purpose use --------------------------------------------------------------------------------


def off_purpose_open(*, actor, project: Project, month: dt.date, note: str, evidence_file=None, report=None,
                     proposed: int | None = None) -> ReclamationCase:
    """An off-purpose case, opened by an MSIT admin with evidence or by a report's own declaration."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin opens an off-purpose case."))
    if not (note or "").strip():
        raise ValidationFailed(_("Describe the off-purpose use and its evidence."), fields={"note": [_("Required.")]})
    month = months.first_day(month)
    with transaction.atomic():
        policy = programme_policy.for_write()
        held = len(servers_held_by_project(project, holder_kinds=(HolderKind.PROJECT, HolderKind.SUSPENDED)))
        if proposed is not None and not (0 <= proposed <= held):
            raise ValidationFailed(_("Propose between 0 and the %(n)s servers the project holds.") % {"n": held},
                                   fields={"proposed_servers": [_("Out of range.")]})
        existing = ReclamationCase.objects.filter(project=project, month=month, kind=CaseKind.OFF_PURPOSE).first()
        if existing is not None:
            raise StateConflict(_("An off-purpose case for %(project)s in %(month)s exists already.")
                                % {"project": project.code, "month": months.label(month)})
        case = ReclamationCase.objects.create(
            project=project, month=month, kind=CaseKind.OFF_PURPOSE, policy=policy, evidence=_evidence(project, month)
            if project.actual_start else {}, evidence_note=note.strip(), evidence_file=evidence_file or "",
            source_report=report, servers_held=held, proposed_servers=held if proposed is None else proposed,
            response_due=timezone.localdate() + dt.timedelta(days=policy.response_days), opened_by=actor,
        )
        audit.record(actor=actor, action="case.open_off_purpose", obj=case,
                     after={"note": case.evidence_note, "report": str(report.public_id) if report else None})
        _notify_case(case, kind=NotificationKind.CASE_OPENED,
                     title=msg(gettext_noop("%(project)s: off-purpose use case opened"), project=project.code),
                     body=msg(gettext_noop("Respond by %(due)s. MSIT may suspend the project's GPUs meanwhile."), due=case.response_due))
        if actor is None:
            _notify_case(case, kind=NotificationKind.CASE_OPENED, to_admins=True,
                         title=msg(gettext_noop("%(project)s declared off-purpose use for %(month)s"),
                                   project=project.code, month=months.label(month)),
                         body=case.evidence_note)
    return case


def off_purpose_from_report(report: UsageReport) -> ReclamationCase | None:
    """A report that declares use outside the approved purpose opens its own case once."""
    if report.within_purpose is not False:
        return None
    if ReclamationCase.objects.filter(project=report.project, month=report.month, kind=CaseKind.OFF_PURPOSE).exists():
        return None
    return off_purpose_open(
        actor=None, project=report.project, month=report.month, report=report,
        note=report.notes,  # as typed; the case's page says which report declared it, in the reader's language
    )


def _current_entries(project: Project, holder_kind: str, now) -> list[Allocation]:
    """The project's entries of this kind that hold GPUs now or later, locked."""
    return list(
        Allocation.objects.select_for_update(of=("self",)).filter(
            project=project, holder_kind=holder_kind, layer=Layer.AWARD, released_at__isnull=True, ends_at__gt=now
        ).select_related("cluster").order_by("starts_at", "pk")
    )


def _move_entries(*, actor, project: Project, entries: list[Allocation], to_kind: str, reason: str | Message, now) -> list[str]:
    """End `entries` now (or, for those not begun, at their start) and hold the same GPUs for the
    same remaining period as `to_kind` (the project, its suspension or the MSIT reserve)."""
    hostnames: list[str] = []
    for entry in entries:
        rows = list(entry.gpu_rows.select_related("gpu__server"))
        start = max(now, entry.starts_at)
        end = entry.ends_at
        ledger.allocation_release(actor=actor, allocation=entry, at=start, reason=reason, check_permission=False,
                                  action="allocation.reclaim" if to_kind == HolderKind.RESERVE else "allocation.release")
        ledger.allocation_award(
            actor=actor, holder_kind=to_kind, project=None if to_kind == HolderKind.RESERVE else project,
            gpus=Gpu.objects.filter(pk__in=[r.gpu_id for r in rows]), starts_at=start, ends_at=end,
            reason=reason, check_permission=False,
        )
        hostnames += sorted({r.gpu.server.hostname for r in rows})
    return hostnames


def case_suspend(*, actor, case: ReclamationCase, reason: str) -> ReclamationCase:
    """Suspend the project's GPUs at once (off-purpose use): in the ledger its servers leave its
    usable holding for a suspension entry, so they count for nobody's use and are lent to nobody,
    until the decision returns them to the project or moves them to the MSIT reserve."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin suspends GPUs."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the suspension."), fields={"reason": [_("Required.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project").get(pk=case.pk)
        if locked.kind != CaseKind.OFF_PURPOSE or locked.decided:
            raise StateConflict(_("Only an undecided off-purpose case can suspend GPUs."))
        if locked.suspended_at:
            return locked
        project = Project.objects.select_for_update().get(pk=locked.project_id)
        if project.actual_start is None:
            raise StateConflict(_("%(project)s has not started: its servers are idle, and there is no use to suspend.")
                                % {"project": project.code})
        entries = _current_entries(project, HolderKind.PROJECT, now)
        hostnames = _move_entries(actor=actor, project=project, entries=entries, to_kind=HolderKind.SUSPENDED,
                                  reason=msg(gettext_noop("Suspended (off-purpose case %(case)s): %(reason)s"),
                                             case=str(locked.public_id), reason=reason.strip()), now=now)
        before = audit.snapshot(project, ["status"])
        project.status = ProjectStatus.SUSPENDED
        project.save(update_fields=["status", "updated_at"])
        locked.suspended_at = now
        locked.outcome = {**locked.outcome, "suspended_servers": hostnames}
        locked.save(update_fields=["suspended_at", "outcome"])
        audit.record(actor=actor, action="project.suspend", obj=project, before=before,
                     after={**audit.snapshot(project, ["status"]), "servers": hostnames}, reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=msg(gettext_noop("%(project)s: GPUs suspended pending the decision"), project=project.code), body=reason)
    return locked


# --- Response and decision ----------------------------------------------------------------------------


def case_respond(*, actor, case: ReclamationCase, kind: str, text: str) -> ReclamationCase:
    if not can_change_project(actor, case.project) or actor.is_msit_admin:
        raise NotPermitted(_("The project's ministry responds to its case."))
    if kind not in ResponseKind.values or not (text or "").strip():
        raise ValidationFailed(_("Choose the kind of response and write it."),
                               fields={"response_kind": [_("Required.")]} if kind not in ResponseKind.values
                               else {"response_text": [_("Required.")]})
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project").get(pk=case.pk)
        if locked.state != CaseState.OPEN:
            raise StateConflict(_("This case is not waiting for a response."))
        if timezone.localdate() > locked.response_due:
            raise StateConflict(_("The response window closed on %(due)s.") % {"due": locked.response_due})
        before = audit.snapshot(locked, ["state", "response_kind", "response_text"])
        locked.state = CaseState.RESPONDED
        locked.response_kind = kind
        locked.response_text = text.strip()
        locked.responded_at = timezone.now()
        locked.responded_by = actor
        locked.save()
        audit.record(actor=actor, action="case.respond", obj=locked, before=before,
                     after=audit.snapshot(locked, ["state", "response_kind", "response_text"]))
        _notify_case(locked, kind=NotificationKind.CASE_RESPONDED, to_admins=True,
                     title=msg(gettext_noop("%(project)s responded to its reclamation case"), project=locked.project.code),
                     body=locked.response_text[:500])
    return locked


def decision_allowed(case: ReclamationCase, today: dt.date | None = None) -> bool:
    """An under-use case is decided after the ministry's response or once its window has closed;
    an off-purpose case at any time."""
    today = today or timezone.localdate()
    if case.decided:
        return False
    return case.kind == CaseKind.OFF_PURPOSE or case.state != CaseState.OPEN or today > case.response_due


def reclaim_limits(case: ReclamationCase, project: Project, now) -> tuple[int, int]:
    """(servers the project holds now, the most that can be reclaimed): a project keeps the
    policy's floor of servers after an under-use decision; off-purpose use can lose them all."""
    held = len(servers_held_by_project(project, now, holder_kinds=(HolderKind.PROJECT, HolderKind.SUSPENDED)))
    if case.kind == CaseKind.OFF_PURPOSE:
        return held, held
    return held, max(held - case.policy.floor_servers, 0)


def _reclaim_servers(*, actor, project: Project, count: int, reason: str, now, from_kind: str) -> list[str]:
    """Move `count` of the project's servers held as `from_kind` (its own, or suspended) to the MSIT
    reserve, from now to the end of their award. Loans on them are untouched (the loan layer)."""
    holdings = list(
        AllocationGpu.objects.filter(
            allocation__project=project, allocation__holder_kind=from_kind, allocation__released_at__isnull=True,
            layer=Layer.AWARD, period__overlap=period(now, None),
        ).select_related("allocation", "gpu__server").order_by("-gpu__server__hostname", "gpu__index")
    )
    by_server: dict[int, list[AllocationGpu]] = {}
    for row in holdings:
        by_server.setdefault(row.gpu.server_id, []).append(row)
    chosen = list(by_server.values())[:count]
    if len(chosen) < count:
        raise StateConflict(_("The project holds only %(n)s servers now.") % {"n": len(by_server)})
    by_allocation: dict[int, list[AllocationGpu]] = {}
    for rows in chosen:
        for row in rows:
            by_allocation.setdefault(row.allocation_id, []).append(row)
    hostnames = []
    for rows in by_allocation.values():
        allocation = rows[0].allocation
        gpus = [Gpu(pk=row.gpu_id) for row in rows]
        start = max(now, allocation.starts_at)
        end = allocation.ends_at
        whole = len(rows) == allocation.gpu_count
        ledger.allocation_release(actor=actor, allocation=allocation, gpus=None if whole else gpus, at=start,
                                  reason=reason, action="allocation.reclaim", check_permission=False)
        ledger.allocation_award(actor=actor, holder_kind=HolderKind.RESERVE, gpus=Gpu.objects.filter(pk__in=[r.gpu_id for r in rows]),
                                starts_at=start, ends_at=end, check_permission=False,
                                reason=msg(gettext_noop("Reclaimed from %(project)s: %(reason)s"), project=project.code, reason=reason))
        hostnames += sorted({row.gpu.server.hostname for row in rows})
    return hostnames


def _end_suspension(*, actor, project: Project, reason: str, now) -> list[str]:
    """The suspended servers that were not reclaimed go back to the project, in use at once."""
    return _move_entries(actor=actor, project=project, entries=_current_entries(project, HolderKind.SUSPENDED, now),
                         to_kind=HolderKind.PROJECT, reason=msg(gettext_noop("Suspension ended: %(reason)s"), reason=reason), now=now)


def case_decide(*, actor, case: ReclamationCase, decision: str, servers: int | None = None, reason: str) -> ReclamationCase:
    """Approve (possibly fewer servers), grant the exemption, or reject. Approval moves the servers
    to the MSIT reserve in this same transaction, with its audit events; a suspension ends with
    the decision (what is not reclaimed goes back to the project). The project's award follows its
    servers, so the two never disagree."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin decides cases."))
    if decision not in (CaseState.APPROVED, CaseState.EXEMPTED, CaseState.REJECTED):
        raise ValidationFailed(_("Approve, exempt or reject."), fields={"decision": [_("Unknown decision.")]})
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the decision."), fields={"reason": [_("Required.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project", "policy").get(pk=case.pk)
        if locked.decided:
            raise StateConflict(_("This case is decided already."))
        if not decision_allowed(locked):
            raise StateConflict(_("The ministry may respond until %(due)s; decide after its response or then.")
                                % {"due": locked.response_due})
        project = Project.objects.select_for_update().get(pk=locked.project_id)
        before = audit.snapshot(locked, ["state", "decided_servers", "decision_reason"])
        outcome: dict = {}
        suspended = bool(locked.suspended_at) and _current_entries(project, HolderKind.SUSPENDED, now)
        if decision == CaseState.APPROVED:
            count = locked.proposed_servers if servers is None else servers
            held_now, most = reclaim_limits(locked, project, now)
            if not (1 <= count <= most):
                raise ValidationFailed(
                    _("Reclaim between 1 and %(most)s of the %(n)s servers the project holds now (it keeps %(floor)s).")
                    % {"most": most, "n": held_now, "floor": held_now - most},
                    fields={"servers": [_("Out of range.")]},
                )
            hostnames = _reclaim_servers(actor=actor, project=project, count=count, reason=reason, now=now,
                                         from_kind=HolderKind.SUSPENDED if suspended else HolderKind.PROJECT)
            project_before = audit.snapshot(project, ["gpus_awarded", "status"])
            project.gpus_awarded = max(project.gpus_awarded - count * GPUS_PER_SERVER, 0)
            usage_plan_scale_future(project, held_before=held_now, held_after=held_now - count)
            project.save(update_fields=["gpus_awarded", "updated_at"])
            audit.record(actor=actor, action="project.reclaimed", obj=project, before=project_before,
                         after=audit.snapshot(project, ["gpus_awarded", "status"]), reason=reason)
            locked.decided_servers = count
            outcome = {"servers": hostnames, "to": "msit_reserve", "at": now.isoformat()}
        else:
            locked.decided_servers = 0
        if suspended:
            outcome["returned_servers"] = _end_suspension(actor=actor, project=project, reason=reason, now=now)
        if project.status == ProjectStatus.SUSPENDED:
            project.status = ProjectStatus.ACTIVE
            project.save(update_fields=["status", "updated_at"])
            audit.record(actor=actor, action="project.unsuspend", obj=project, after={"status": project.status},
                         reason=reason)
        locked.state = decision
        locked.decision_reason = reason.strip()
        locked.decided_at = now
        locked.decided_by = actor
        locked.outcome = {**locked.outcome, **outcome}
        locked.save()
        audit.record(actor=actor, action=f"case.{decision}", obj=locked, before=before,
                     after={**audit.snapshot(locked, ["state", "decided_servers", "decision_reason"]), **outcome},
                     reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=msg(gettext_noop("%(project)s: reclamation case decided (%(decision)s)"),
                               project=project.code, decision=label(CaseState(locked.state).label)),
                     body=reason)
    return locked


def case_resolve(*, actor, case: ReclamationCase, reason: str) -> ReclamationCase:
    """Close an under-use case whose project now meets the plan (a late or corrected report
    changed the evidence): nothing is reclaimed."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin closes cases."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for closing the case."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project", "policy").get(pk=case.pk)
        if locked.decided or locked.kind != CaseKind.UNDER_USE:
            raise StateConflict(_("Only an undecided under-use case can be closed as resolved."))
        since = months.parse(locked.evidence.get("since") or "")
        evidence = _evidence(locked.project, locked.month, since)
        ratio = Decimal(evidence["ratio"]) if evidence["ratio"] is not None else None
        if ratio is not None and ratio < locked.policy.tier2_below:
            raise StateConflict(
                _("The project still uses %(ratio)s of its plan, below %(tier)s: decide the case instead.")
                % {"ratio": f"{ratio * 100:.0f}%", "tier": f"{locked.policy.tier2_below * 100:.0f}%"})
        before = audit.snapshot(locked, ["state", "decided_servers", "decision_reason"])
        locked.evidence = {**locked.evidence, **evidence, "meets_plan": True}
        locked.state = CaseState.RESOLVED
        locked.decided_servers = 0
        locked.decision_reason = reason.strip()
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.save()
        audit.record(actor=actor, action="case.resolved", obj=locked, before=before,
                     after=audit.snapshot(locked, ["state", "decided_servers", "decision_reason"]), reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=msg(gettext_noop("%(project)s: reclamation case closed, the project meets its plan"), project=locked.project.code),
                     body=reason)
    return locked
