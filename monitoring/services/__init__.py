"""Writes for monthly usage reports, in three modules: `reports` (save, submit, accept, return),
`uploads` (the bulk CSV/XLSX upload) and `reminders` (the daily reminder run). Callers import them
from here."""

from .reminders import report_reminders_send
from .reports import (
    REPORT_FIELDS,
    WHOLE_REPORT,
    actor_is_admin,
    report_accept,
    report_errors,
    report_return,
    report_save,
    report_snapshot,
)
from .uploads import UPLOAD_COLUMNS, UploadRejected, parse_upload, reports_upload

__all__ = [
    "REPORT_FIELDS", "UPLOAD_COLUMNS", "WHOLE_REPORT", "UploadRejected", "actor_is_admin", "parse_upload",
    "report_accept", "report_errors", "report_reminders_send", "report_return", "report_save", "report_snapshot", "reports_upload",
]
