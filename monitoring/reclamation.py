"""Reclamation (회수): the monthly check and the cases it opens with their response and decision.
Modelled on DOE/NERSC/OLCF/ALCF allocation reductions: cumulative use is compared with cumulative
plan, tiers propose a share of the unused servers, and nothing is reclaimed without an MSIT admin's
decision. The numbers are the programme policy's (allocation_portal.policy)."""

from __future__ import annotations

import datetime as dt
import logging
import math
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation_portal import audit, months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import NotificationKind, Policy, Rounding
from allocation_portal.notifications import ministry_officials, msit_admins, notify
from gpus import services as ledger
from gpus.availability import period
from gpus.models import GPUS_PER_SERVER, Allocation, AllocationGpu, Gpu, HolderKind, Layer
from gpus.selectors import servers_held_by_project
from projects.access import can_change_project
from projects.models import Project, ProjectStatus, UsagePlan

from .models import (
    DECIDED_STATES,
    CaseKind,
    CaseState,
    CheckRun,
    ReclamationCase,
    ResponseKind,
    UsageReport,
)
from .selectors import project_usage

logger = logging.getLogger(__name__)


# --- The check ------------------------------------------------------------------------------------


def grace_ends(project: Project, policy: Policy) -> dt.date | None:
    """The first day after the grace period: the policy's grace days (60, two whole months)
    counted from the actual start date, not calendar months from the start month."""
    if project.actual_start is None:
        return None
    return project.actual_start + dt.timedelta(days=policy.grace_days)


def checked_in(project: Project, month: dt.date, policy: Policy) -> bool:
    """Started, and past its grace period: no month that holds a day of the grace period is
    checked (a start on 31 May is first checked for August, one on 1 May for July)."""
    ends = grace_ends(project, policy)
    return ends is not None and months.first_day(month) >= ends


def baseline_month(project: Project) -> dt.date | None:
    """The first month the next check counts from: after the month in which a reclamation was
    last decided (that shortfall was acted on; the plan was cut to the servers the project keeps),
    so no project is proposed again for the same shortfall."""
    decided = (
        ReclamationCase.objects.filter(project=project, state=CaseState.APPROVED)
        .order_by("-decided_at").values_list("decided_at", flat=True).first()
    )
    return months.next_month(timezone.localtime(decided).date()) if decided else None


def proposed_servers(*, servers_held: int, ratio: Decimal, policy: Policy) -> tuple[int, str | None]:
    """Servers to propose for reclamation: the tier's share of the unused servers, rounded as the
    policy says, never leaving the project fewer than the floor. Returns (servers, tier)."""
    if ratio < policy.tier1_below:
        share, tier = policy.tier1_share, "tier1"
    elif ratio < policy.tier2_below:
        share, tier = policy.tier2_share, "tier2"
    else:
        return 0, None
    unused = Decimal(servers_held) * (Decimal(1) - max(ratio, Decimal(0)))
    raw = unused * share
    count = math.floor(raw) if policy.rounding == Rounding.DOWN else int(raw.quantize(Decimal(1)))
    return max(0, min(count, servers_held - policy.floor_servers)), tier


def _evidence(project: Project, month: dt.date, since: dt.date | None = None) -> dict:
    rows = project_usage(project, until=month, since=since)
    months_ = []
    for row in rows:
        reported = row.report is not None and row.report.counts
        months_.append({
            "month": months.label(row.month), "allocated": str(row.monthly.allocated), "planned": str(row.monthly.planned),
            "used": str(row.monthly.used), "report": row.status,
            "missing_counted_as_zero": (not reported) and row.month >= months.first_day(project.actual_start),
        })
    last = rows[-1] if rows else None
    return {
        "since": months.label(since) if since else None,
        "months": months_,
        "cumulative_allocated": str(last.cumulative.allocated) if last else "0",
        "cumulative_planned": str(last.cumulative.planned) if last else "0",
        "cumulative_used": str(last.cumulative.used) if last else "0",
        "ratio": str(last.cumulative.plan_ratio) if last and last.cumulative.plan_ratio is not None else None,
    }


def _notify_case(case: ReclamationCase, *, kind: str, title: str, body: str, to_admins: bool = False):
    users = msit_admins() if to_admins else ministry_officials(case.project.ministry_id)
    notify(users=users or msit_admins(), kind=kind, title=title, body=body, url=f"/monitoring/cases/{case.public_id}/",
           dedup_key=f"{kind}:{case.public_id}:{case.state}:{len(case.evidence.get('updates', []))}")


def check_project(*, project: Project, month: dt.date, policy: Policy) -> ReclamationCase | None:
    """Check one project for one month, in its own transaction. Opens at most one case (the
    unique constraint makes a second run a no-op), and none while another under-use case of the
    project waits for its decision (that case's evidence is kept up to date instead)."""
    if not checked_in(project, month, policy):
        return None
    since = baseline_month(project)
    if since is not None and month < since:
        return None
    with transaction.atomic():
        if ReclamationCase.objects.filter(
            Q(month=month) | ~Q(state__in=DECIDED_STATES), project=project, kind=CaseKind.UNDER_USE
        ).exists():
            return None
        evidence = _evidence(project, month, since)
        if evidence["ratio"] is None:
            return None  # nothing was planned: nothing to fall short of
        ratio = Decimal(evidence["ratio"])
        held = len(servers_held_by_project(project, months.start_of(months.next_month(month)) - dt.timedelta(seconds=1)))
        count, tier = proposed_servers(servers_held=held, ratio=ratio, policy=policy)
        if tier is None or count == 0:
            return None
        evidence.update({"tier": tier, "servers_held": held})
        try:
            with transaction.atomic():
                case = ReclamationCase.objects.create(
                    project=project, month=month, kind=CaseKind.UNDER_USE, policy=policy, evidence=evidence,
                    servers_held=held, proposed_servers=count,
                    response_due=timezone.localdate() + dt.timedelta(days=policy.response_days),
                )
        except IntegrityError:
            return None  # a concurrent run opened it first
        audit.record(actor=None, action="case.open", obj=case, after={"proposed_servers": count, "tier": tier,
                                                                       "ratio": evidence["ratio"], "policy": policy.version})
        _notify_case(
            case, kind=NotificationKind.CASE_OPENED,
            title=_("%(project)s: reclamation of %(n)s servers proposed (use %(ratio)s of plan to %(month)s)")
            % {"project": project.code, "n": count, "ratio": f"{ratio * 100:.0f}%", "month": months.label(month)},
            body=_("Respond by %(due)s: explain, or ask for an exemption. MSIT then decides.") % {"due": case.response_due},
        )
    return case


def check_allowed(month: dt.date, *, today: dt.date | None = None, policy: Policy | None = None) -> str | None:
    """Why `month` cannot be checked now without forcing (None: it can). A month that has not
    ended is never checked; one whose reports are not yet due only when an admin forces it."""
    today = today or timezone.localdate()
    policy = policy or programme_policy.current()
    if month >= months.first_day(today):
        return "not_ended"
    if today <= months.due_date(month, policy.report_due_day):
        return "not_due"
    return None


def latest_checkable_month(today: dt.date | None = None) -> dt.date:
    """The latest month that can be checked without forcing: ended, and its reports due."""
    today = today or timezone.localdate()
    month = months.add_months(months.first_day(today), -1)
    while check_allowed(month, today=today) is not None:
        month = months.add_months(month, -1)
    return month


def _stale_before(now):
    return now - dt.timedelta(seconds=settings.CHECK_RUN_STALE_SECONDS)


def _claim_run(month: dt.date, actor, *, forced: bool, reason: str) -> CheckRun | None:
    """Take the month's run for this worker: a new run, a finished one run again, or an unfinished
    one whose worker stopped beating (it died). None while another worker is on it."""
    now = timezone.now()
    run, _created = CheckRun.objects.get_or_create(month=month, defaults={"started_at": now, "requested_by": actor})
    claimed = CheckRun.objects.filter(pk=run.pk).filter(
        Q(finished_at__isnull=False) | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before(now))
    ).update(
        runs=run.runs + 1, started_at=now, heartbeat_at=now, finished_at=None, errors=[],
        **({"forced": True, "force_reason": reason.strip()} if forced else {}),
        **({"requested_by": actor} if actor is not None else {}),
    )
    if not claimed:
        return None
    run.refresh_from_db()
    return run


def check_validate(*, actor, month: dt.date, force: bool = False, reason: str = "") -> bool:
    """Refuse a check that may not run now (clear errors, before anything is queued). Returns
    whether the check is forced (its reports are not due yet)."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin runs the monthly check."))
    policy = programme_policy.current()
    refusal = check_allowed(month, policy=policy)
    if refusal == "not_ended":
        message = _("%(month)s has not ended: only a closed month can be checked.") % {"month": months.label(month)}
        raise StateConflict(message, fields={"month": [message]})
    if refusal == "not_due" and not force:
        message = _("The reports for %(month)s are due on %(due)s: check it after that, or force the check with a reason.") % {
            "month": months.label(month), "due": months.due_date(month, policy.report_due_day)}
        raise StateConflict(message, fields={"month": [message]})
    forced = refusal == "not_due"
    if forced and not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for checking before the reports are due."), fields={"reason": [_("Required.")]})
    return forced


def monthly_check_run(*, month: dt.date | None = None, actor=None, force: bool = False, reason: str = "",
                      resume: bool = False) -> CheckRun:
    """Check every started project past its grace period for `month` (default: last month).

    Only a month that has ended can be checked, and only once its reports are due, unless an MSIT
    admin forces it with a reason (audited). Each project is its own transaction and the run beats
    after each: a run whose worker died is taken over by the next attempt (the broker's
    redelivery or the beat's resume job), and running the same month again opens no second case,
    sends no second notice, and finishes what a previous run could not."""
    month = months.first_day(month or months.add_months(months.current(), -1))
    forced = False if resume else check_validate(actor=actor, month=month, force=force, reason=reason)
    with transaction.atomic():
        policy = programme_policy.for_write()
        run = _claim_run(month, actor, forced=forced, reason=reason)
        if run is not None and forced:
            audit.record(actor=actor, action="check.force", obj=run, after={"month": months.label(month)}, reason=reason)
    if run is None:
        return CheckRun.objects.get(month=month)
    checked, errors = 0, []
    for project in Project.objects.filter(actual_start__isnull=False).select_related("ministry").order_by("code"):
        try:
            check_project(project=project, month=month, policy=policy)
        except Exception as exc:  # noqa: BLE001 - one project's failure must not stop the others
            logger.exception("Monthly check failed for %s %s", project.code, month)
            errors.append({"project": project.code, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        checked += 1
        CheckRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), projects_checked=checked)
    CheckRun.objects.filter(pk=run.pk).update(
        projects_checked=checked, cases_opened=ReclamationCase.objects.filter(month=month, kind=CaseKind.UNDER_USE).count(),
        errors=errors, finished_at=timezone.now(), heartbeat_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def stale_checks_resume() -> list[str]:
    """Finish every run left unfinished by a worker that died (the beat's job). Returns the months."""
    stale = CheckRun.objects.filter(finished_at__isnull=True).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before(timezone.now()))
    ).values_list("month", flat=True)
    done = []
    for month in list(stale):
        monthly_check_run(month=month, resume=True)
        done.append(months.label(month))
    return done


def case_evidence_refresh(*, project: Project, month: dt.date, report: UsageReport | None = None) -> list[ReclamationCase]:
    """A report that arrives (late, or corrected) before a case is decided updates that case's
    evidence, and the case says so; if the project now meets the plan, the case can be closed as
    resolved. Runs in the caller's transaction."""
    refreshed = []
    for case in ReclamationCase.objects.select_for_update().filter(
        project=project, kind=CaseKind.UNDER_USE, month__gte=month
    ).exclude(state__in=DECIDED_STATES):
        since = months.parse(case.evidence.get("since") or "")
        evidence = _evidence(project, case.month, since)
        policy = case.policy
        ratio = Decimal(evidence["ratio"]) if evidence["ratio"] is not None else None
        meets = ratio is None or ratio >= policy.tier2_below
        updates = list(case.evidence.get("updates", []))
        updates.append({"at": timezone.now().isoformat(), "month": months.label(month),
                        "report": str(report.public_id) if report else None, "ratio": evidence["ratio"]})
        before = {"ratio": case.evidence.get("ratio")}
        case.evidence = {**case.evidence, **evidence, "updates": updates, "meets_plan": meets}
        case.save(update_fields=["evidence"])
        audit.record(actor=None, action="case.evidence_update", obj=case, before=before,
                     after={"ratio": evidence["ratio"], "meets_plan": meets, "month": months.label(month)})
        _notify_case(case, kind=NotificationKind.CASE_UPDATED, to_admins=True,
                     title=_("%(project)s: a report changed the case's evidence (use %(ratio)s of plan)")
                     % {"project": project.code, "ratio": f"{ratio * 100:.0f}%" if ratio is not None else "-"},
                     body=_("The project now meets the plan: the case can be closed as resolved.") if meets
                     else _("The evidence was recalculated with the new report."))
        refreshed.append(case)
    return refreshed


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
                     title=_("%(project)s: off-purpose use case opened") % {"project": project.code},
                     body=_("Respond by %(due)s. MSIT may suspend the project's GPUs meanwhile.") % {"due": case.response_due})
        if actor is None:
            _notify_case(case, kind=NotificationKind.CASE_OPENED, to_admins=True,
                         title=_("%(project)s declared off-purpose use for %(month)s")
                         % {"project": project.code, "month": months.label(month)},
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
        note=_("Declared in the %(month)s report: %(notes)s") % {"month": months.label(report.month), "notes": report.notes},
    )


def _current_entries(project: Project, holder_kind: str, now) -> list[Allocation]:
    """The project's entries of this kind that hold GPUs now or later, locked."""
    return list(
        Allocation.objects.select_for_update(of=("self",)).filter(
            project=project, holder_kind=holder_kind, layer=Layer.AWARD, released_at__isnull=True, ends_at__gt=now
        ).select_related("cluster").order_by("starts_at", "pk")
    )


def _move_entries(*, actor, project: Project, entries: list[Allocation], to_kind: str, reason: str, now) -> list[str]:
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
                                  reason=_("Suspended (off-purpose case %(case)s): %(reason)s")
                                  % {"case": locked.public_id, "reason": reason.strip()}, now=now)
        before = audit.snapshot(project, ["status"])
        project.status = ProjectStatus.SUSPENDED
        project.save(update_fields=["status", "updated_at"])
        locked.suspended_at = now
        locked.outcome = {**locked.outcome, "suspended_servers": hostnames}
        locked.save(update_fields=["suspended_at", "outcome"])
        audit.record(actor=actor, action="project.suspend", obj=project, before=before,
                     after={**audit.snapshot(project, ["status"]), "servers": hostnames}, reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=_("%(project)s: GPUs suspended pending the decision") % {"project": project.code}, body=reason)
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
                     title=_("%(project)s responded to its reclamation case") % {"project": locked.project.code},
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
                                reason=_("Reclaimed from %(project)s: %(reason)s") % {"project": project.code, "reason": reason})
        hostnames += sorted({row.gpu.server.hostname for row in rows})
    return hostnames


def _end_suspension(*, actor, project: Project, reason: str, now) -> list[str]:
    """The suspended servers that were not reclaimed go back to the project, in use at once."""
    return _move_entries(actor=actor, project=project, entries=_current_entries(project, HolderKind.SUSPENDED, now),
                         to_kind=HolderKind.PROJECT, reason=_("Suspension ended: %(reason)s") % {"reason": reason}, now=now)


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
            _scale_future_plan(project, held_before=held_now, held_after=held_now - count)
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
                     title=_("%(project)s: reclamation case decided (%(decision)s)")
                     % {"project": project.code, "decision": locked.get_state_display()},
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
                     title=_("%(project)s: reclamation case closed, the project meets its plan") % {"project": locked.project.code},
                     body=reason)
    return locked


def _scale_future_plan(project: Project, *, held_before: int, held_after: int) -> None:
    """Months after this one are planned for the servers the project keeps."""
    if held_before <= 0:
        return
    factor = Decimal(held_after) / Decimal(held_before)
    for plan in UsagePlan.objects.select_for_update().filter(project=project, month__gt=months.current()):
        plan.planned_gpu_hours = (plan.planned_gpu_hours * factor).quantize(Decimal("0.1"))
        plan.save(update_fields=["planned_gpu_hours", "updated_at"])


# --- Delayed starts -------------------------------------------------------------------------------------


def delayed_projects_flag(*, today: dt.date | None = None) -> int:
    """Flag, once, each project not started the policy's days after its planned start, to MSIT and
    its ministry. Its servers are lendable meanwhile."""
    today = today or timezone.localdate()
    days = programme_policy.current().delay_flag_days
    flagged = 0
    admins = msit_admins()
    for project in Project.objects.filter(actual_start__isnull=True, planned_start__lt=today - dt.timedelta(days=days)):
        with transaction.atomic():
            created = notify(
                users=ministry_officials(project.ministry_id) + admins, kind=NotificationKind.PROJECT_DELAYED,
                title=_("%(project)s has not started %(days)s days after its planned start (%(planned)s)")
                % {"project": project.code, "days": days, "planned": project.planned_start},
                body=_("Record the start or a new expected start. Its servers are lent to short-term users meanwhile."),
                url=f"/projects/{project.code}/", dedup_key=f"delayed:{project.code}:{project.planned_start}",
            )
        flagged += bool(created)
    return flagged
