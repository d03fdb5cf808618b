"""Writes for monthly usage reports and notifications.

Every way a report comes in (the web form, the API, a CSV/XLSX upload) goes through
`report_save` or `reports_upload`, which share `_report_errors` and `_report_write`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation_portal import audit, dates, months, uploads
from allocation_portal import policy as programme_policy
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import Role, User
from allocation_portal.notifications import ministry_officials, msit_admins, notify
from gpus.selectors import held_by_month
from projects.access import can_change_project, projects_for_user
from projects.models import Project

from . import reclamation
from .models import (
    COMPLIANCE_ITEMS,
    Compliance,
    NotificationKind,
    ReportState,
    UsageReport,
    UsageReportVersion,
)

logger = logging.getLogger(__name__)

REPORT_FIELDS = [
    "gpu_hours_used",
    "peak_gpus_busy",
    "within_purpose",
    "ai_basic_act",
    "personal_information",
    "training_data_copyright",
    "notes",
]


class UploadRejected(ValidationFailed):
    """A bulk upload refused as a whole, with the errors of each row."""

    default_code = "upload_rejected"

    def __init__(self, rows: list[dict]):
        self.rows = rows
        fields = {
            f"row {row['row']}.{name}": messages
            for row in rows
            for name, messages in row["errors"].items()
        }
        super().__init__(
            _("The upload was refused: %(n)s rows have errors. Nothing was saved.") % {"n": len(rows)},
            fields=fields,
        )


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

    hours = values.get("gpu_hours_used")
    if hours is None or hours == "":
        add("gpu_hours_used", _("Enter the GPU-hours used."))
    elif hours < 0:
        add("gpu_hours_used", _("GPU-hours cannot be negative."))
    elif check_held and hours > held_hours:
        add(
            "gpu_hours_used",
            _("More than the %(held)s GPU-hours the project held in %(month)s (from the allocation ledger).")
            % {"held": held_hours, "month": months.label(month)},
        )
    peak = values.get("peak_gpus_busy")
    if peak is None or peak == "":
        add("peak_gpus_busy", _("Enter the peak number of GPUs busy."))
    elif peak < 0:
        add("peak_gpus_busy", _("The peak cannot be negative."))
    elif check_held and peak > held_gpus:
        add(
            "peak_gpus_busy",
            _("More than the %(gpus)s GPUs the project held in %(month)s.") % {"gpus": held_gpus, "month": months.label(month)},
        )
    if values.get("within_purpose") is None:
        add("within_purpose", _("Answer the purpose declaration."))
    elif values["within_purpose"] is False and not (values.get("notes") or "").strip():
        add("notes", _("Explain in the notes what the GPUs were used for outside the approved purpose."))
    for name in COMPLIANCE_ITEMS:
        if values.get(name) not in Compliance.values:
            add(name, _("Answer this checklist item."))
    if report is not None and report.state == ReportState.SUBMITTED and not actor_is_admin(actor):
        add("state", _("This report is waiting for MSIT's review and cannot be changed now."))
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


def report_save(
    *, actor, project: Project, month: dt.date, values: dict, submit: bool = False, evidence=None,
    note: str = "", at: dt.datetime | None = None,
) -> UsageReport:
    """Save (and with `submit`, submit) a project's report for a month.

    `at` backdates the submission; only the system (actor None, e.g. importing past reports) may."""
    _check_actor(actor, project)
    if at is not None and actor is not None:
        raise NotPermitted(_("Only the system may record a submission time."))
    at = at or timezone.now()
    with transaction.atomic():
        report = UsageReport.objects.select_for_update().filter(project=project, month=month).first()
        if report is not None and report.state == ReportState.SUBMITTED and not actor_is_admin(actor):
            raise StateConflict(_("This report is waiting for MSIT's review and cannot be changed now."))
        held = held_by_month([project.pk], month, month, now=at).get((project.pk, month)) if month else None
        errors = _report_errors(project=project, month=month, values=values, held=held, report=report, actor=actor)
        if errors:
            raise ValidationFailed(_("The report has errors; nothing was saved."), fields=errors)
        return _report_write(
            actor=actor, project=project, month=month, values=values, report=report, submit=submit, at=at,
            evidence=evidence, note=note,
        )


def report_accept(*, actor, report: UsageReport, note: str = "") -> UsageReport:
    if not actor_is_admin(actor):
        raise NotPermitted(_("Only an MSIT admin can accept a report."))
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
            title=_("%(project)s %(month)s report returned") % {"project": locked.project.code, "month": months.label(locked.month)},
            body=_("MSIT returned the report with this reason: %(reason)s") % {"reason": locked.return_reason},
            url=f"/reports/{locked.public_id}/",
            dedup_key=f"report-returned:{locked.public_id}:v{locked.version}",
        )
    return locked


# --- Bulk upload ---------------------------------------------------------------------------

UPLOAD_COLUMNS = {
    # accepted header (Korean or English) -> field
    "project": "project", "과제": "project", "과제 코드": "project", "project_code": "project",
    "month": "month", "월": "month", "대상 월": "month",
    "gpu_hours_used": "gpu_hours_used", "사용 gpu-시간": "gpu_hours_used", "gpu-시간": "gpu_hours_used",
    "peak_gpus_busy": "peak_gpus_busy", "최대 동시 사용 gpu": "peak_gpus_busy",
    "within_purpose": "within_purpose", "목적 내 사용": "within_purpose",
    "ai_basic_act": "ai_basic_act", "인공지능 기본법": "ai_basic_act",
    "personal_information": "personal_information", "개인정보": "personal_information",
    "training_data_copyright": "training_data_copyright", "학습데이터 저작권": "training_data_copyright",
    "notes": "notes", "비고": "notes",
}
REQUIRED_COLUMNS = {"project", "month", "gpu_hours_used", "peak_gpus_busy", "within_purpose",
                    "ai_basic_act", "personal_information", "training_data_copyright"}
YES = {"y", "yes", "true", "1", "예", "네", "o"}
NO = {"n", "no", "false", "0", "아니오", "아니요", "x"}
COMPLIANCE_WORDS = {**dict.fromkeys(YES, Compliance.YES), **dict.fromkeys(NO, Compliance.NO),
                    "na": Compliance.NOT_APPLICABLE, "n/a": Compliance.NOT_APPLICABLE, "해당없음": Compliance.NOT_APPLICABLE,
                    "해당 없음": Compliance.NOT_APPLICABLE}


@dataclass
class UploadRow:
    number: int
    raw: dict
    project: Project | None = None
    month: dt.date | None = None
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def parse_upload(file, filename: str) -> list[dict]:
    """Rows of a CSV (UTF-8, with or without BOM, or CP949) or XLSX file as {field: text}; the file's
    size and rows are bounded while it is read (allocation_portal.uploads)."""
    rows = uploads.read_table(file, filename)
    if not rows:
        raise ValidationFailed(_("The file is empty."), fields={"file": [_("No rows.")]})
    header = [UPLOAD_COLUMNS.get(str(c).strip().lower()) for c in rows[0]]
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ValidationFailed(
            _("Columns missing: %(columns)s.") % {"columns": ", ".join(sorted(missing))},
            fields={"file": [_("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}]},
        )
    return [{name: value for name, value in zip(header, row, strict=False) if name} for row in rows[1:]]


# GPU-hours are stored with 12 digits, one after the point.
MAX_UPLOAD_NUMBER = Decimal("1e11")


def _number(text: str) -> Decimal:
    """A finite decimal from a cell ('1,234.5'); NaN, sNaN and infinities are not numbers here,
    nor is anything past the stored range (1e999999999 would take int() minutes), and -0 is 0."""
    value = Decimal(text.replace(",", ""))  # InvalidOperation when it is not a number at all
    if not value.is_finite() or (not value.is_zero() and value.adjusted() >= MAX_UPLOAD_NUMBER.adjusted()):
        raise InvalidOperation(text)
    return value + 0 if value.is_zero() else value


def _parse_values(raw: dict, errors: dict) -> dict:
    values: dict = {"notes": raw.get("notes", "")}
    try:
        values["gpu_hours_used"] = _number(raw.get("gpu_hours_used", ""))
    except InvalidOperation:
        errors["gpu_hours_used"] = [_("Not a number.")]
    try:
        peak = _number(raw.get("peak_gpus_busy", ""))
        if peak != peak.to_integral_value():
            raise InvalidOperation(peak)
        values["peak_gpus_busy"] = int(peak)
    except InvalidOperation:
        errors["peak_gpus_busy"] = [_("Not a whole number.")]
    purpose = raw.get("within_purpose", "").lower()
    values["within_purpose"] = True if purpose in YES else False if purpose in NO else None
    for name in COMPLIANCE_ITEMS:
        values[name] = COMPLIANCE_WORDS.get(raw.get(name, "").lower())
    return values


def reports_upload(*, actor, rows: list[dict], submit: bool = True) -> list[UsageReport]:
    """Apply a bulk upload all-or-nothing: every row is checked first; if any row has an error,
    nothing is written and UploadRejected lists the errors per row (row 2 is the first data row)."""
    if actor is None or not (actor.is_msit_admin or actor.is_official):
        raise NotPermitted(_("Only ministry officials and MSIT admins can upload reports."))
    at = timezone.now()
    scope = {p.code: p for p in projects_for_user(actor).select_related("ministry")}
    parsed: list[UploadRow] = []
    seen: dict[tuple, int] = {}
    for number, raw in enumerate(rows, start=2):
        row = UploadRow(number=number, raw=raw)
        row.project = scope.get(raw.get("project", ""))
        if row.project is None:
            row.errors["project"] = [_("Unknown project code, or not one of your ministry's projects.")]
        try:
            row.month = dates.parse_month(raw.get("month", ""))
        except dates.DateInvalid as exc:
            row.errors["month"] = [exc.message]
        row.values = _parse_values(raw, row.errors)
        key = (raw.get("project"), row.month)
        if row.project and row.month and key in seen:
            row.errors["month"] = [_("The same project and month is already in row %(row)s.") % {"row": seen[key]}]
        seen.setdefault(key, number)
        parsed.append(row)
    if not parsed:
        raise ValidationFailed(_("The file has no data rows."), fields={"file": [_("No rows.")]})

    with transaction.atomic():
        valid = [r for r in parsed if r.project and r.month]
        held, existing = {}, {}
        if valid:
            first = min(r.month for r in valid)
            last = max(r.month for r in valid)
            held = held_by_month({r.project.pk for r in valid}, first, last, now=at)
            keys = Q()
            for r in valid:
                keys |= Q(project=r.project, month=r.month)
            existing = {(rep.project_id, rep.month): rep for rep in UsageReport.objects.select_for_update().filter(keys)}
        for r in parsed:
            key = (r.project.pk, r.month) if r.project and r.month else None
            found = _report_errors(
                project=r.project, month=r.month, values=r.values, held=held.get(key) if key else None,
                report=existing.get(key) if key else None, actor=actor,
            )
            for name, messages in found.items():
                if name not in r.errors:  # a parse error of the same field says it better
                    r.errors[name] = messages
        rejected = [
            {"row": r.number, "project": r.raw.get("project", ""), "month": r.raw.get("month", ""), "errors": r.errors}
            for r in parsed if r.errors
        ]
        if rejected:
            raise UploadRejected(rejected)
        return [
            _report_write(
                actor=actor, project=r.project, month=r.month, values=r.values,
                report=existing.get((r.project.pk, r.month)), submit=submit, at=at, note=_("Bulk upload."),
            )
            for r in parsed
        ]


# --- Reminders -------------------------------------------------------------------------------


def _reminder_kind(today: dt.date, month: dt.date, due_day: int) -> tuple[str, int] | None:
    due = months.due_date(month, due_day)
    if today == due - dt.timedelta(days=3):
        return NotificationKind.REPORT_DUE_SOON, 0
    if today == due:
        return NotificationKind.REPORT_DUE_TODAY, 0
    if today > due and (today - due).days % 7 == 0:
        return NotificationKind.REPORT_OVERDUE, (today - due).days // 7
    return None


def report_reminders_send(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily reminder run: 3 days before the due date, on it, then weekly while overdue.

    Idempotent: each notice's dedup key names the project, month, kind and day, so running this
    again the same day creates and sends nothing new. From the second overdue week MSIT admins are
    told too (escalation)."""
    today = today or timezone.localdate()
    due_day = programme_policy.current().report_due_day
    last_month = months.add_months(months.first_day(today), -1)
    counts = dict.fromkeys((NotificationKind.REPORT_DUE_SOON, NotificationKind.REPORT_DUE_TODAY, NotificationKind.REPORT_OVERDUE), 0)
    projects = list(
        Project.objects.filter(actual_start__isnull=False, actual_start__lte=today).select_related("ministry")
    )
    if not projects:
        return counts
    reported = set(
        UsageReport.objects.filter(
            project__in=projects, state__in=[ReportState.SUBMITTED, ReportState.ACCEPTED]
        ).values_list("project_id", "month")
    )
    officials: dict[int, list[User]] = {}
    for user in User.objects.filter(role=Role.OFFICIAL, is_active=True, ministry__isnull=False):
        officials.setdefault(user.ministry_id, []).append(user)
    admins = msit_admins()
    with transaction.atomic():
        for project in projects:
            last = min(last_month, months.first_day(project.end_date))
            for month in months.months_between(project.actual_start, last):
                if (project.pk, month) in reported:
                    continue
                found = _reminder_kind(today, month, due_day)
                if found is None:
                    continue
                kind, weeks = found
                recipients = list(officials.get(project.ministry_id, []))
                if kind == NotificationKind.REPORT_OVERDUE and weeks >= 2:
                    recipients += admins
                label = months.label(month)
                due = months.due_date(month, due_day)
                titles = {
                    NotificationKind.REPORT_DUE_SOON: _("%(project)s: the %(month)s usage report is due on %(due)s"),
                    NotificationKind.REPORT_DUE_TODAY: _("%(project)s: the %(month)s usage report is due today"),
                    NotificationKind.REPORT_OVERDUE: _("%(project)s: the %(month)s usage report is overdue"),
                }
                created = notify(
                    users=recipients or admins,
                    kind=kind,
                    title=titles[kind] % {"project": project.code, "month": label, "due": due},
                    body=_("Monthly usage report for %(title)s, %(month)s. Due %(due)s (KST).")
                    % {"title": project.title_ko, "month": label, "due": due},
                    url=f"/projects/{project.code}/reports/new/?month={label}",
                    dedup_key=f"report:{project.code}:{label}:{kind}:{today.isoformat()}",
                )
                counts[kind] += len(created)
    return counts
