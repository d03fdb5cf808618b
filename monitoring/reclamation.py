"""Reclamation (회수): the policy, the monthly check, and the cases it opens with their response and
decision. Modelled on DOE/NERSC/OLCF/ALCF allocation reductions: cumulative use is compared with
cumulative plan, tiers propose a share of the unused servers, and nothing is reclaimed without an
MSIT admin's decision."""

from __future__ import annotations

import datetime as dt
import logging
import math
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from gpus import services as ledger
from gpus.models import GPUS_PER_SERVER, AllocationGpu, Gpu, HolderKind, Layer
from gpus.selectors import servers_held_by_project
from projects.access import can_act_for_project
from projects.models import Project, ProjectStatus, UsagePlan

from .models import (
    CaseKind,
    CaseState,
    CheckRun,
    NotificationKind,
    ReclamationCase,
    ReclamationPolicy,
    ResponseKind,
    Rounding,
    UsageReport,
)
from .selectors import project_usage

logger = logging.getLogger(__name__)

POLICY_FIELDS = ["grace_months", "tier1_below", "tier1_share", "tier2_below", "tier2_share", "response_days",
                 "rounding", "floor_servers"]


# --- Policy -------------------------------------------------------------------------------------


def current_policy() -> ReclamationPolicy:
    policy = ReclamationPolicy.objects.order_by("-version").first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = ReclamationPolicy.objects.create(version=1, reason="Programme defaults (DOMAIN.md).")
        except IntegrityError:
            policy = ReclamationPolicy.objects.get(version=1)
    return policy


def policy_update(*, actor, values: dict, reason: str) -> ReclamationPolicy:
    """A new version of the thresholds; the old ones stay with the cases judged by them."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin changes the policy."))
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the policy changes.")]
    for name in ("tier1_below", "tier1_share", "tier2_below", "tier2_share"):
        value = values.get(name)
        if value is None or not (Decimal(0) <= Decimal(value) <= Decimal(1)):
            errors[name] = [_("Give a share between 0 and 1 (for example 0.3 for 30%).")]
    if not errors and Decimal(values["tier1_below"]) > Decimal(values["tier2_below"]):
        errors["tier1_below"] = [_("Tier 1 is the stricter tier: its threshold must not be above tier 2's.")]
    if values.get("response_days") is None or int(values["response_days"]) < 1:
        errors["response_days"] = [_("At least one day.")]
    if values.get("grace_months") is None or int(values["grace_months"]) < 0:
        errors["grace_months"] = [_("Zero or more months.")]
    if values.get("floor_servers") is None or int(values["floor_servers"]) < 0:
        errors["floor_servers"] = [_("Zero or more servers.")]
    if values.get("rounding") not in Rounding.values:
        errors["rounding"] = [_("Choose how proposals are rounded.")]
    if errors:
        raise ValidationFailed(_("The policy has errors."), fields=errors)
    with transaction.atomic():
        previous = ReclamationPolicy.objects.select_for_update().order_by("-version").first() or current_policy()
        policy = ReclamationPolicy.objects.create(
            version=previous.version + 1, created_by=actor, reason=reason.strip(),
            **{name: values[name] for name in POLICY_FIELDS},
        )
        audit.record(actor=actor, action="policy.update", obj=policy, before=audit.snapshot(previous, POLICY_FIELDS),
                     after=audit.snapshot(policy, POLICY_FIELDS), reason=reason)
    return policy


# --- The check ------------------------------------------------------------------------------------


def checked_in(project: Project, month: dt.date, policy: ReclamationPolicy) -> bool:
    """Started, and past its grace months: no project is checked in its first months."""
    if project.actual_start is None:
        return False
    first_checked = months.add_months(months.first_day(project.actual_start), policy.grace_months)
    return month >= first_checked


def proposed_servers(*, servers_held: int, ratio: Decimal, policy: ReclamationPolicy) -> tuple[int, str | None]:
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


def _evidence(project: Project, month: dt.date) -> dict:
    rows = project_usage(project, until=month)
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
        "months": months_,
        "cumulative_allocated": str(last.cumulative.allocated) if last else "0",
        "cumulative_planned": str(last.cumulative.planned) if last else "0",
        "cumulative_used": str(last.cumulative.used) if last else "0",
        "ratio": str(last.cumulative.plan_ratio) if last and last.cumulative.plan_ratio is not None else None,
    }


def _notify_case(case: ReclamationCase, *, kind: str, title: str, body: str, to_admins: bool = False):
    from .services import ministry_officials, msit_admins, notify

    users = msit_admins() if to_admins else ministry_officials(case.project.ministry_id)
    notify(users=users or msit_admins(), kind=kind, title=title, body=body, url=f"/monitoring/cases/{case.public_id}/",
           dedup_key=f"{kind}:{case.public_id}:{case.state}")


def check_project(*, project: Project, month: dt.date, policy: ReclamationPolicy) -> ReclamationCase | None:
    """Check one project for one month, in its own transaction. Opens at most one case (the
    unique constraint makes a second run a no-op)."""
    if not checked_in(project, month, policy):
        return None
    with transaction.atomic():
        if ReclamationCase.objects.filter(project=project, month=month, kind=CaseKind.UNDER_USE).exists():
            return None
        evidence = _evidence(project, month)
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


def monthly_check_run(*, month: dt.date | None = None, actor=None) -> CheckRun:
    """Check every started project past its grace period for `month` (default: last month).

    Each project is its own transaction: an error on one is recorded and the rest go on; running
    the same month again opens no second case and sends no second notice, and finishes what a
    previous run could not."""
    month = months.first_day(month or months.add_months(months.current(), -1))
    policy = current_policy()
    run, _created = CheckRun.objects.get_or_create(month=month, defaults={"started_at": timezone.now(), "requested_by": actor})
    CheckRun.objects.filter(pk=run.pk).update(runs=run.runs + 1, started_at=timezone.now(), finished_at=None, errors=[])
    checked, opened, errors = 0, 0, []
    for project in Project.objects.filter(actual_start__isnull=False).select_related("ministry").order_by("code"):
        try:
            case = check_project(project=project, month=month, policy=policy)
        except Exception as exc:  # noqa: BLE001 - one project's failure must not stop the others
            logger.exception("Monthly check failed for %s %s", project.code, month)
            errors.append({"project": project.code, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        checked += 1
        opened += case is not None
    CheckRun.objects.filter(pk=run.pk).update(
        projects_checked=checked, cases_opened=ReclamationCase.objects.filter(month=month, kind=CaseKind.UNDER_USE).count(),
        errors=errors, finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


# --- Off-purpose use --------------------------------------------------------------------------------


def off_purpose_open(*, actor, project: Project, month: dt.date, note: str, evidence_file=None, report=None,
                     proposed: int | None = None) -> ReclamationCase:
    """An off-purpose case, opened by an MSIT admin with evidence or by a report's own declaration."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin opens an off-purpose case."))
    if not (note or "").strip():
        raise ValidationFailed(_("Describe the off-purpose use and its evidence."), fields={"note": [_("Required.")]})
    policy = current_policy()
    month = months.first_day(month)
    with transaction.atomic():
        held = len(servers_held_by_project(project))
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


def case_suspend(*, actor, case: ReclamationCase, reason: str) -> ReclamationCase:
    """Suspend the project's GPUs at once (off-purpose use): the project may not use them until
    the decision."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin suspends GPUs."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the suspension."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project").get(pk=case.pk)
        if locked.kind != CaseKind.OFF_PURPOSE or locked.decided:
            raise StateConflict(_("Only an undecided off-purpose case can suspend GPUs."))
        if locked.suspended_at:
            return locked
        project = Project.objects.select_for_update().get(pk=locked.project_id)
        before = audit.snapshot(project, ["status"])
        project.status = ProjectStatus.SUSPENDED
        project.save(update_fields=["status", "updated_at"])
        locked.suspended_at = timezone.now()
        locked.save(update_fields=["suspended_at"])
        audit.record(actor=actor, action="project.suspend", obj=project, before=before,
                     after=audit.snapshot(project, ["status"]), reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=_("%(project)s: GPUs suspended pending the decision") % {"project": project.code}, body=reason)
    return locked


# --- Response and decision ----------------------------------------------------------------------------


def case_respond(*, actor, case: ReclamationCase, kind: str, text: str) -> ReclamationCase:
    if not can_act_for_project(actor, case.project) or actor.is_msit_admin:
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


def _reclaim_servers(*, actor, project: Project, count: int, reason: str, now) -> list[str]:
    """Move `count` of the project's servers to the MSIT reserve, from now to the end of their
    award. Loans on them are untouched (they hold the loan layer)."""
    holdings = list(
        AllocationGpu.objects.filter(allocation__project=project, layer=Layer.AWARD, period__contains=now)
        .select_related("allocation", "gpu__server")
        .order_by("-gpu__server__hostname", "gpu__index")
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
        end = allocation.ends_at
        ledger.allocation_release(actor=actor, allocation=allocation, gpus=gpus, at=now, reason=reason,
                                  action="allocation.reclaim")
        reserve_gpus = Gpu.objects.filter(pk__in=[row.gpu_id for row in rows])
        ledger.allocation_award(actor=actor, holder_kind=HolderKind.RESERVE, gpus=reserve_gpus, starts_at=now,
                                ends_at=end, reason=_("Reclaimed from %(project)s: %(reason)s") % {"project": project.code,
                                                                                                  "reason": reason})
        hostnames += sorted({row.gpu.server.hostname for row in rows})
    return hostnames


def case_decide(*, actor, case: ReclamationCase, decision: str, servers: int | None = None, reason: str) -> ReclamationCase:
    """Approve (possibly fewer servers), grant the exemption, or reject. Approval moves the servers
    to the MSIT reserve in this same transaction, with its audit events."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin decides cases."))
    if decision not in (CaseState.APPROVED, CaseState.EXEMPTED, CaseState.REJECTED):
        raise ValidationFailed(_("Approve, exempt or reject."), fields={"decision": [_("Unknown decision.")]})
    if not (reason or "").strip():
        raise ValidationFailed(_("Give the reason for the decision."), fields={"reason": [_("Required.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = ReclamationCase.objects.select_for_update().select_related("project").get(pk=case.pk)
        if locked.decided:
            raise StateConflict(_("This case is decided already."))
        if (locked.kind == CaseKind.UNDER_USE and locked.state == CaseState.OPEN
                and timezone.localdate() <= locked.response_due):
            raise StateConflict(_("The ministry may respond until %(due)s; decide after its response or then.")
                                % {"due": locked.response_due})
        project = Project.objects.select_for_update().get(pk=locked.project_id)
        before = audit.snapshot(locked, ["state", "decided_servers", "decision_reason"])
        outcome: dict = {}
        if decision == CaseState.APPROVED:
            count = locked.proposed_servers if servers is None else servers
            held_now = len(servers_held_by_project(project, now))
            if not (1 <= count <= held_now):
                raise ValidationFailed(
                    _("Reclaim between 1 and the %(n)s servers the project holds now.") % {"n": held_now},
                    fields={"servers": [_("Out of range.")]},
                )
            hostnames = _reclaim_servers(actor=actor, project=project, count=count, reason=reason, now=now)
            project_before = audit.snapshot(project, ["gpus_awarded", "status"])
            project.gpus_awarded = max(project.gpus_awarded - count * GPUS_PER_SERVER, GPUS_PER_SERVER)
            _scale_future_plan(project, held_before=held_now, held_after=held_now - count)
            if project.status == ProjectStatus.SUSPENDED:
                project.status = ProjectStatus.ACTIVE
            project.save(update_fields=["gpus_awarded", "status", "updated_at"])
            audit.record(actor=actor, action="project.reclaimed", obj=project, before=project_before,
                         after=audit.snapshot(project, ["gpus_awarded", "status"]), reason=reason)
            locked.decided_servers = count
            outcome = {"servers": hostnames, "to": "msit_reserve", "at": now.isoformat()}
        else:
            locked.decided_servers = 0
            if project.status == ProjectStatus.SUSPENDED:
                project.status = ProjectStatus.ACTIVE
                project.save(update_fields=["status", "updated_at"])
                audit.record(actor=actor, action="project.unsuspend", obj=project, after={"status": project.status},
                             reason=reason)
        locked.state = decision
        locked.decision_reason = reason.strip()
        locked.decided_at = now
        locked.decided_by = actor
        locked.outcome = outcome
        locked.save()
        audit.record(actor=actor, action=f"case.{decision}", obj=locked, before=before,
                     after={**audit.snapshot(locked, ["state", "decided_servers", "decision_reason"]), **outcome},
                     reason=reason)
        _notify_case(locked, kind=NotificationKind.CASE_DECIDED,
                     title=_("%(project)s: reclamation case decided (%(decision)s)")
                     % {"project": project.code, "decision": locked.get_state_display()},
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
    """Flag, once, each project not started 30 days after its planned start, to MSIT and its
    ministry. Its servers are lendable meanwhile."""
    from projects.models import DELAY_FLAG_DAYS

    from .services import ministry_officials, msit_admins, notify

    today = today or timezone.localdate()
    flagged = 0
    admins = msit_admins()
    for project in Project.objects.filter(actual_start__isnull=True, planned_start__lt=today - dt.timedelta(days=DELAY_FLAG_DAYS)):
        with transaction.atomic():
            created = notify(
                users=ministry_officials(project.ministry_id) + admins, kind=NotificationKind.PROJECT_DELAYED,
                title=_("%(project)s has not started 30 days after its planned start (%(planned)s)")
                % {"project": project.code, "planned": project.planned_start},
                body=_("Record the start or a new expected start. Its servers are lent to short-term users meanwhile."),
                url=f"/projects/{project.code}/", dedup_key=f"delayed:{project.code}:{project.planned_start}",
            )
        flagged += bool(created)
    return flagged
