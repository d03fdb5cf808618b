"""A bulk upload of monthly reports (CSV or XLSX), applied all-or-nothing."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy

from allocation_portal import dates, uploads
from allocation_portal.errors import NotPermitted, ValidationFailed
from gpus.selectors import held_by_month
from projects.access import projects_for_user
from projects.models import Project

from ..models import (
    COMPLIANCE_ITEMS,
    Compliance,
    UsageReport,
)
from .reports import _report_errors, _report_write

logger = logging.getLogger(__name__)


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


# --- Bulk upload ---------------------------------------------------------------------------

# How each column is named to the person who uploaded it: the Korean is the template's own
# header, the English a header the upload accepts too (UPLOAD_COLUMNS).
COLUMN_LABELS = {
    "project": pgettext_lazy("upload column", "Project code"),
    "month": pgettext_lazy("upload column", "Month reported"),
    "gpu_hours_used": pgettext_lazy("upload column", "GPU-hours used"),
    "peak_gpus_busy": pgettext_lazy("upload column", "Peak GPUs busy"),
    "within_purpose": pgettext_lazy("upload column", "Used within purpose"),
    "ai_basic_act": pgettext_lazy("upload column", "AI Basic Act"),
    "personal_information": pgettext_lazy("upload column", "Personal information"),
    "training_data_copyright": pgettext_lazy("upload column", "Training data copyright"),
    "notes": pgettext_lazy("upload column", "Notes"),
}
UPLOAD_COLUMNS = {
    # accepted header (Korean or English, compared in lower case) -> field
    "project": "project", "과제": "project", "과제 코드": "project", "project_code": "project", "project code": "project",
    "month": "month", "월": "month", "대상 월": "month", "month reported": "month",
    "gpu_hours_used": "gpu_hours_used", "사용 gpu-시간": "gpu_hours_used", "gpu-시간": "gpu_hours_used",
    "gpu-hours used": "gpu_hours_used",
    "peak_gpus_busy": "peak_gpus_busy", "최대 동시 사용 gpu": "peak_gpus_busy", "peak gpus busy": "peak_gpus_busy",
    "within_purpose": "within_purpose", "목적 내 사용": "within_purpose", "used within purpose": "within_purpose",
    "ai_basic_act": "ai_basic_act", "인공지능 기본법": "ai_basic_act", "ai basic act": "ai_basic_act",
    "personal_information": "personal_information", "개인정보": "personal_information",
    "personal information": "personal_information",
    "training_data_copyright": "training_data_copyright", "학습데이터 저작권": "training_data_copyright",
    "training data copyright": "training_data_copyright",
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
        # Named as the template's header names them, in the template's order.
        columns = ", ".join(str(label) for name, label in COLUMN_LABELS.items() if name in missing)
        raise ValidationFailed(
            _("Columns missing: %(columns)s.") % {"columns": columns},
            fields={"file": [_("Missing columns: %(columns)s.") % {"columns": columns}]},
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
    """The row's values from its cells; a cell left empty is "required" (the service's rules say
    nothing more of a value that is not there), one that is not a value says what it must be."""
    values: dict = {"notes": raw.get("notes", "")}

    def cell(name) -> str | None:
        text = raw.get(name, "")
        if text == "":
            errors[name] = [_("Required.")]
            return None
        return text

    if (text := cell("gpu_hours_used")) is not None:
        try:
            values["gpu_hours_used"] = _number(text)
        except InvalidOperation:
            errors["gpu_hours_used"] = [_("Not a number.")]
    if (text := cell("peak_gpus_busy")) is not None:
        try:
            peak = _number(text)
            if peak != peak.to_integral_value():
                raise InvalidOperation(peak)
            values["peak_gpus_busy"] = int(peak)
        except InvalidOperation:
            errors["peak_gpus_busy"] = [_("Not a whole number.")]
    values["within_purpose"] = None
    if (text := cell("within_purpose")) is not None:
        values["within_purpose"] = True if text.lower() in YES else False if text.lower() in NO else None
        if values["within_purpose"] is None:
            errors["within_purpose"] = [_("Write Y or N.")]
    for name in COMPLIANCE_ITEMS:
        values[name] = None
        if (text := cell(name)) is not None:
            values[name] = COMPLIANCE_WORDS.get(text.lower())
            if values[name] is None:
                errors[name] = [_("Write Y, N or NA.")]
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
        if not raw.get("project"):
            row.errors["project"] = [_("Required.")]
        elif row.project is None:
            row.errors["project"] = [_("Unknown project code, or not one of your ministry's projects.")]
        if not raw.get("month"):
            row.errors["month"] = [_("Required.")]
        else:
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
        # The rows whose project and month are known: (row, project, month).
        valid = [(r, r.project, r.month) for r in parsed if r.project is not None and r.month is not None]
        held: dict = {}
        existing: dict = {}
        if valid:
            first = min(month for _r, _p, month in valid)
            last = max(month for _r, _p, month in valid)
            held = held_by_month({project.pk for _r, project, _m in valid}, first, last, now=at)
            keys = Q()
            for _r, project, month in valid:
                keys |= Q(project=project, month=month)
            existing = {(rep.project_id, rep.month): rep for rep in UsageReport.objects.select_for_update().filter(keys)}
        for r in parsed:
            row_key = (r.project.pk, r.month) if r.project and r.month else None
            found = _report_errors(
                project=r.project, month=r.month, values=r.values, held=held.get(row_key) if row_key else None,
                report=existing.get(row_key) if row_key else None, actor=actor,
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
        # No row has an error: every row is a valid one.
        return [
            _report_write(
                actor=actor, project=project, month=month, values=r.values,
                report=existing.get((project.pk, month)), submit=submit, at=at, note=gettext_noop("Bulk upload."),  # a source string: shown in the reader's language
            )
            for r, project, month in valid
        ]


