"""Writes for monthly usage reports: save (and submit), accept, return. Every way a report comes
in (the web form, the API, a CSV/XLSX upload) goes through `report_save` or `reports_upload`,
which share `_report_errors` and `_report_write`."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.formatting import GPU_HOURS_DECIMALS, format_number
from allocation_portal.limits import TEXT_MAX, VERSION_NOTE_MAX, checked_text
from allocation_portal.messages import msg
from allocation_portal.notifications import ministry_officials, notify
from gpus.selectors import held_by_month
from projects.access import can_change_project
from projects.models import Project

from .. import reclamation
from ..models import (
    COMPLIANCE_ITEMS,
    Compliance,
    NotificationKind,
    ReportState,
    UsageReport,
    UsageReportVersion,
)

logger = logging.getLogger(__name__)


# The key of an error about the report as a whole (its state), not about one of its fields; the
# API's convention, and what a page shows at the top and an upload as the row's own message.
WHOLE_REPORT = "non_field_errors"

REPORT_FIELDS = [
    "gpu_hours_used",
    "peak_gpus_busy",
    "within_purpose",
    "ai_basic_act",
    "personal_information",
    "training_data_copyright",
    "notes",
]


def report_snapshot(report: UsageReport) -> dict:
    data = {name: getattr(report, name) for name in REPORT_FIELDS}
    data["gpu_hours_used"] = str(data["gpu_hours_used"])
    data["evidence"] = report.evidence.name if report.evidence else ""
    data["state"] = report.state
    data["version"] = report.version
    return data


def _report_errors(*, project: Project | None, month: dt.date | None, values: dict, held, report, actor) -> dict[str, list[str]]:
    """Every rule a report must meet, as {field: [messages]}; empty when the report is valid.
    With no project or month (a bad upload row) the value rules are still checked."""
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if month is None:
        add("month", _("Give the month as YYYY-MM."))
    elif project is None:
        pass
    elif month > months.current():
        add("month", _("The month is in the future; report it after it has begun."))
    elif project.actual_start is None:
        add("month", _("The project has not started: there is no use to report yet."))
    elif month < months.first_day(project.actual_start):
        add("month", _("The month is before the project's start (%(start)s).") % {"start": project.actual_start})
    held_hours, held_gpus = held or (Decimal(0), 0)
    # Compare with the ledger only when the project and month are known and reportable.
    check_held = project is not None and month is not None and "month" not in errors
    month_label = months.label(month) if month is not None else ""

    hours = values.get("gpu_hours_used")
    if hours is None or hours == "":
        add("gpu_hours_used", _("Enter the GPU-hours used."))
    elif hours < 0:
        add("gpu_hours_used", _("GPU-hours cannot be negative."))
    elif check_held and hours > held_hours:
        add(
            "gpu_hours_used",
            _("More than the %(held)s GPU-hours the project held in %(month)s (from the allocation ledger).")
            % {"held": format_number(held_hours, GPU_HOURS_DECIMALS), "month": month_label},
        )
    peak = values.get("peak_gpus_busy")
    if peak is None or peak == "":
        add("peak_gpus_busy", _("Enter the peak number of GPUs busy."))
    elif peak < 0:
        add("peak_gpus_busy", _("The peak cannot be negative."))
    elif check_held and peak > held_gpus:
        add(
            "peak_gpus_busy",
            _("More than the %(gpus)s GPUs the project held in %(month)s.") % {"gpus": format_number(held_gpus), "month": month_label},
        )
    if values.get("within_purpose") is None:
        add("within_purpose", _("Answer the purpose declaration."))
    elif values["within_purpose"] is False and not (values.get("notes") or "").strip():
        add("notes", _("Explain in the notes what the GPUs were used for outside the approved purpose."))
    for name in COMPLIANCE_ITEMS:
        if values.get(name) not in Compliance.values:
            add(name, _("Answer this checklist item."))
    if report is not None and report.state == ReportState.SUBMITTED and not actor_is_admin(actor):
        add(WHOLE_REPORT, _("This report is waiting for MSIT's review and cannot be changed now."))
    return errors


def actor_is_admin(actor) -> bool:
    return actor is not None and actor.is_msit_admin


def _check_actor(actor, project: Project) -> None:
    if actor is not None and not can_change_project(actor, project):
        raise NotPermitted(_("You cannot report for this project."))


def _report_write(
    *, actor, project: Project, month: dt.date, values: dict, report: UsageReport | None, submit: bool, at,
    evidence=None, note: str = "",
) -> UsageReport:
    """Create or update the report and keep the version; the caller holds the transaction."""
    before = report_snapshot(report) if report is not None else None
    if report is None:
        report = UsageReport(project=project, month=month, version=1)
        event = "created"
    else:
        report.version += 1
        event = "corrected" if report.state == ReportState.ACCEPTED else "edited"
    for name in REPORT_FIELDS:
        setattr(report, name, values.get(name) if name != "notes" else (values.get("notes") or ""))
    report.gpu_hours_used = Decimal(report.gpu_hours_used).quantize(Decimal("0.1"))
    if report.gpu_hours_used.is_zero():
        report.gpu_hours_used = Decimal("0.0")  # never -0.0
    if evidence is not None:
        report.evidence = evidence
    if submit:
        report.state = ReportState.SUBMITTED
        report.submitted_at = at
        report.submitted_by = actor
        report.decided_at = report.decided_by = None
        report.return_reason = ""
        event = "corrected" if event == "corrected" else "submitted"
    elif report.state in (ReportState.ACCEPTED, ReportState.SUBMITTED):
        raise StateConflict(_("A submitted or accepted report can only be changed by submitting a correction."))
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:
        raise StateConflict(
            _("A report for %(project)s in %(month)s already exists; open it to change it.")
            % {"project": project.code, "month": months.label(month)}
        ) from exc
    UsageReportVersion.objects.create(
        report=report, version=report.version, state=report.state, event=event,
        data=report_snapshot(report), actor=actor, at=at, note=note,
    )
    audit.record(
        actor=actor,
        action=f"report.{event}",
        obj=report,
        before=before,
        after=report_snapshot(report),
        reason=note,
    )
    if submit:
        if report.within_purpose is False:
            # A report's own declaration of off-purpose use opens the faster off-purpose case.
            reclamation.off_purpose_from_report(report)
        # A report that comes in before a case is decided (late, or corrected) updates its evidence.
        reclamation.case_evidence_refresh(project=project, month=month, report=report)
    return report


def _held(project: Project, month: dt.date | None, at) -> tuple | None:
    """(GPU-hours, GPUs) the project held in `month` by the ledger (the month under way: to `at`)."""
    return held_by_month([project.pk], month, month, now=at).get((project.pk, month)) if month else None


def report_errors(
    *, actor, project: Project, month: dt.date | None, values: dict, report: UsageReport | None = None,
) -> dict[str, list[str]]:
    """The rules report_save checks, for a form to show every field's error at once; a value
    missing from `values` (its field refused it already) is "missing" here. report_save checks
    them again, under its lock, when it saves."""
    return _report_errors(project=project, month=month, values=values, held=_held(project, month, timezone.now()),
                          report=report, actor=actor)


def report_save(
    *, actor, project: Project, month: dt.date, values: dict, submit: bool = False, evidence=None,
    note: str = "", at: dt.datetime | None = None,
) -> UsageReport:
    """Save (and with `submit`, submit) a project's report for a month.

    `at` backdates the submission; only the system (actor None, e.g. importing past reports) may."""
    _check_actor(actor, project)
    note = checked_text(note, field="note", max_length=VERSION_NOTE_MAX)
    checked_text(values.get("notes"), field="notes", max_length=TEXT_MAX)
    if at is not None and actor is not None:
        raise NotPermitted(_("Only the system may record a submission time."))
    at = at or timezone.now()
    with transaction.atomic():
        report = UsageReport.objects.select_for_update().filter(project=project, month=month).first()
        if report is not None and report.state == ReportState.SUBMITTED and not actor_is_admin(actor):
            raise StateConflict(_("This report is waiting for MSIT's review and cannot be changed now."))
        errors = _report_errors(project=project, month=month, values=values, held=_held(project, month, at), report=report,
                                actor=actor)
        if errors:
            raise ValidationFailed(_("The report has errors; nothing was saved."), fields=errors)
        return _report_write(
            actor=actor, project=project, month=month, values=values, report=report, submit=submit, at=at,
            evidence=evidence, note=note,
        )


def report_accept(*, actor, report: UsageReport, note: str = "") -> UsageReport:
    if not actor_is_admin(actor):
        raise NotPermitted(_("Only an MSIT admin can accept a report."))
    note = checked_text(note, field="note", max_length=VERSION_NOTE_MAX)
    with transaction.atomic():
        locked = UsageReport.objects.select_for_update().select_related("project").get(pk=report.pk)
        if locked.state != ReportState.SUBMITTED:
            raise StateConflict(_("Only a submitted report can be accepted."))
        before = report_snapshot(locked)
        locked.state = ReportState.ACCEPTED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.save(update_fields=["state", "decided_at", "decided_by", "updated_at"])
        UsageReportVersion.objects.create(
            report=locked, version=locked.version, state=locked.state, event="accepted",
            data=report_snapshot(locked), actor=actor, at=locked.decided_at, note=note,
        )
        audit.record(actor=actor, action="report.accept", obj=locked, before=before, after=report_snapshot(locked), reason=note)
    return locked


def report_return(*, actor, report: UsageReport, reason: str) -> UsageReport:
    if not actor_is_admin(actor):
        raise NotPermitted(_("Only an MSIT admin can return a report."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the report is returned."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = UsageReport.objects.select_for_update().select_related("project").get(pk=report.pk)
        if locked.state != ReportState.SUBMITTED:
            raise StateConflict(_("Only a submitted report can be returned."))
        before = report_snapshot(locked)
        locked.state = ReportState.RETURNED
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.return_reason = reason.strip()
        locked.save(update_fields=["state", "decided_at", "decided_by", "return_reason", "updated_at"])
        UsageReportVersion.objects.create(
            report=locked, version=locked.version, state=locked.state, event="returned",
            data=report_snapshot(locked), actor=actor, at=locked.decided_at, note=reason,
        )
        audit.record(actor=actor, action="report.return", obj=locked, before=before, after=report_snapshot(locked), reason=reason)
        notify(
            users=ministry_officials(locked.project.ministry_id),
            kind=NotificationKind.REPORT_RETURNED,
            title=msg(gettext_noop("%(project)s %(month)s report returned"), project=locked.project.code, month=months.label(locked.month)),
            body=msg(gettext_noop("MSIT returned the report with this reason: %(reason)s"), reason=locked.return_reason),
            url=f"/reports/{locked.public_id}/",
            dedup_key=f"report-returned:{locked.public_id}:v{locked.version}",
        )
    return locked


