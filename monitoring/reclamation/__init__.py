"""Reclamation (회수): the monthly check (`checks`) and the cases it opens (`cases`). Callers import
them from here."""

from .cases import (
    case_decide,
    case_resolve,
    case_respond,
    case_suspend,
    decision_allowed,
    off_purpose_from_report,
    off_purpose_open,
    reclaim_limits,
)
from .checks import (
    baseline_month,
    case_evidence_refresh,
    check_allowed,
    check_project,
    check_validate,
    checked_in,
    delayed_projects_flag,
    grace_ends,
    latest_checkable_month,
    monthly_check_run,
    proposed_servers,
    stale_checks_resume,
)

__all__ = [
    "baseline_month", "case_decide", "case_evidence_refresh", "case_resolve", "case_respond", "case_suspend",
    "check_allowed", "check_project", "check_validate", "checked_in", "decision_allowed", "delayed_projects_flag",
    "grace_ends", "latest_checkable_month", "monthly_check_run", "off_purpose_from_report", "off_purpose_open",
    "proposed_servers", "reclaim_limits", "stale_checks_resume",
]
