"""The monthly reclamation check (회수 점검): which months and projects are checked, the evidence,
the cases it opens, runs that a dead worker left unfinished, evidence kept up to date by late
reports, and the delayed-start flags. Modelled on DOE/NERSC/OLCF/ALCF allocation reductions:
cumulative use is compared with cumulative plan, and tiers propose a share of the unused servers.
The numbers are the programme policy's (allocation_portal.policy)."""

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
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.messages import Message, msg
from allocation_portal.models import CheckBasis, NotificationKind, Policy, Rounding
from allocation_portal.notifications import ministry_officials, msit_admins, notify
from gpus.selectors import servers_held_by_project
from projects.models import Project

from ..models import DECIDED_STATES, CaseKind, CaseState, CheckRun, ReclamationCase, UsageReport
from ..selectors import differs_from_measured, project_usage

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


def counted_use(reported: Decimal, measured: Decimal | None, source: str, policy: Policy) -> tuple[Decimal, str]:
    """The GPU-hours the check counts for a month, and where they came from: the policy says
    reported, measured (where the data is complete), or the lower of the two."""
    if measured is None or policy.check_basis == CheckBasis.REPORTED:
        return reported, "reported"
    if policy.check_basis == CheckBasis.MEASURED or measured < reported:
        return measured, source
    return reported, "reported"


def _evidence(project: Project, month: dt.date, since: dt.date | None = None, policy: Policy | None = None) -> dict:
    policy = policy or programme_policy.current()
    rows = project_usage(project, until=month, since=since)
    months_ = []
    started = months.first_day(project.actual_start) if project.actual_start else None
    cumulative_used = Decimal(0)
    for row in rows:
        reported = row.report is not None and row.report.counts
        measured, source = row.measured_figure
        used, counted_from = counted_use(row.monthly.used, measured, source, policy)
        cumulative_used += used
        months_.append({
            "month": months.label(row.month), "allocated": str(row.monthly.allocated), "planned": str(row.monthly.planned),
            "used": str(used), "reported": str(row.monthly.used), "counted_from": counted_from,
            "measured": None if measured is None else str(measured), "measured_source": source,
            "scheduled": None if not row.measured or row.measured.scheduled is None else str(row.measured.scheduled),
            "busy": None if not row.measured or row.measured.busy is None else str(row.measured.busy),
            "busy_coverage": None if row.busy_coverage is None else str(row.busy_coverage),
            "differs_from_measured": differs_from_measured(row.monthly.used if reported else None, measured, policy),
            "report": row.status,
            "missing_counted_as_zero": (not reported) and counted_from == "reported" and started is not None
            and row.month >= started,
        })
    last = rows[-1] if rows else None
    planned = last.cumulative.planned if last else Decimal(0)
    return {
        "since": months.label(since) if since else None,
        "basis": policy.check_basis,
        "months": months_,
        "cumulative_allocated": str(last.cumulative.allocated) if last else "0",
        "cumulative_planned": str(planned),
        "cumulative_used": str(cumulative_used),
        "ratio": str((cumulative_used / planned).quantize(Decimal("0.0001"))) if planned else None,
    }


def _notify_case(case: ReclamationCase, *, kind: str, title: str | Message, body: str | Message, to_admins: bool = False):
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
        evidence = _evidence(project, month, since, policy)
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
            title=msg(gettext_noop("%(project)s: reclamation of %(n)s servers proposed (use %(ratio)s of plan to %(month)s)"),
                      project=project.code, n=count, ratio=f"{ratio * 100:.0f}%", month=months.label(month)),
            body=msg(gettext_noop("Respond by %(due)s: explain, or ask for an exemption. MSIT then decides."), due=case.response_due),
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
                     title=msg(gettext_noop("%(project)s: a report changed the case's evidence (use %(ratio)s of plan)"),
                               project=project.code, ratio=f"{ratio * 100:.0f}%" if ratio is not None else "-"),
                     body=msg(gettext_noop("The project now meets the plan: the case can be closed as resolved.") if meets
                              else gettext_noop("The evidence was recalculated with the new report.")))
        refreshed.append(case)
    return refreshed


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
                title=msg(gettext_noop("%(project)s has not started %(days)s days after its planned start (%(planned)s)"),
                          project=project.code, days=days, planned=project.planned_start),
                body=msg(gettext_noop("Record the start or a new expected start. Its servers are lent to short-term users meanwhile.")),
                url=f"/projects/{project.code}/", dedup_key=f"delayed:{project.code}:{project.planned_start}",
            )
        flagged += bool(created)
    return flagged
