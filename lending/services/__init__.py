"""Writes for short-term lending, in two modules: `requests` (organisations, requests, review, the
approval that writes a loan) and `loans` (return, renewal, recall, the end report, the tick).
Callers import them from here."""

from .loans import (
    END_NOTICE_DAYS,
    loan_decide_renewal,
    loan_file_end_report,
    loan_recall,
    loan_request_renewal,
    loan_return,
    loans_recall_for_project,
    loans_tick,
)
from .offers import offer_accept, offer_decline, offers_lapse
from .requests import (
    OPEN_REQUEST_STATES,
    REQUEST_FIELDS,
    duplicate_organisation_name,
    loan_snapshot,
    max_end,
    organisation_signup,
    request_approve,
    request_ask_changes,
    request_reject,
    request_score,
    request_snapshot,
    request_submit,
    request_update,
    request_withdraw,
    valid_size,
)

__all__ = [
    "END_NOTICE_DAYS", "OPEN_REQUEST_STATES", "REQUEST_FIELDS", "duplicate_organisation_name", "loan_decide_renewal", "loan_file_end_report",
    "loan_recall", "loan_request_renewal", "loan_return", "loan_snapshot", "loans_recall_for_project", "loans_tick",
    "max_end", "offer_accept", "offer_decline", "offers_lapse", "organisation_signup", "request_approve", "request_ask_changes",
    "request_reject", "request_score", "request_snapshot", "request_submit", "request_update", "request_withdraw",
    "valid_size",
]
