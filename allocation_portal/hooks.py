"""Small in-process hooks, so that a lower floor can cause something above it without importing it.

The floors are core <- gpus <- projects <- lending <- calls <- metering <- monitoring <- outcomes: a floor imports only the floors
below it. When a change on a lower floor must have an effect above it in the same transaction (a
project's start recalls the loans on its servers), or a page of a lower floor shows what an upper
floor knows (a project's page shows its plan vs actual), the upper app registers a function here in
its AppConfig.ready() and the lower one calls `run`. Hooks run in the caller's transaction, in the
order they were registered; their return values come back as a list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# A project has started: kwargs actor, project, reason, notice_hours. Lending recalls its loans.
PROJECT_STARTED = "project_started"
# A project's page: kwargs request, project. Each returns a dict merged into the page's context.
PROJECT_PAGE = "project_page"
# The programme overview: kwargs request. Each returns a dict merged into the page's context (calls:
# how the 2026 projects were selected).
PROGRAMME_PAGE = "programme_page"
# A ministry's page: kwargs request, ministry. Each returns a dict merged into the page's context.
MINISTRY_PAGE = "ministry_page"
# A loan's page: kwargs request, loan. Each returns a dict merged into the page's context (metering:
# the borrower's measured use).
LOAN_PAGE = "loan_page"
# A short-term request's page: kwargs request, loan_request. Each returns a dict merged into the page's
# context (calls: the rolling call's round and where the request's review stands).
LOAN_REQUEST_PAGE = "loan_request_page"
# Before a project's start is recorded: kwargs project. Each returns the lines (list of str) saying
# what the start will do on its floor, for the confirm step (lending: whose loans are recalled).
PROJECT_START_PREVIEW = "project_start_preview"
# Before a short-term request is approved with these GPUs: kwargs loan_request, gpu_ids. Each returns
# lines for the confirm step (monitoring: pending redistribution proposals holding the same GPUs).
LOAN_APPROVAL_PREVIEW = "loan_approval_preview"
# A short-term request was approved with these GPUs, in the approval's transaction: kwargs actor,
# loan_request, gpu_ids (monitoring marks the proposals that counted on them as stale).
LOAN_APPROVED = "loan_approved"
# The status board's XLSX export: kwargs board. Each returns a list of spreadsheets.Sheet to add after
# the board's own sheet (outcomes: the programme's outcome figures by month).
BOARD_EXPORT_SHEETS = "board_export_sheets"
# A short-term request was submitted, changed, withdrawn, reviewed or approved, in that transaction: kwargs loan_request (calls files
# it as a proposal of the rolling call).
LOAN_REQUEST_SAVED = "loan_request_saved"

_registry: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def register(name: str, function: Callable[..., Any]) -> None:
    if function not in _registry[name]:
        _registry[name].append(function)


def run(name: str, **kwargs) -> list[Any]:
    return [function(**kwargs) for function in _registry[name]]


def lines(name: str, **kwargs) -> list[str]:
    """Run a hook whose functions each return a list of lines, and join the lists."""
    return [line for part in run(name, **kwargs) for line in (part or [])]


def context(name: str, **kwargs) -> dict[str, Any]:
    """Run a page hook and merge what its functions return."""
    merged: dict[str, Any] = {}
    for part in run(name, **kwargs):
        merged.update(part or {})
    return merged
