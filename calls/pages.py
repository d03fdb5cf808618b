"""What the calls floor adds to pages of the floors below (registered as hooks in apps.py): how the
2026 projects were chosen on the programme overview, how one project was chosen on its page, and a
short-term request's round of the rolling call and where its review stands on the request's page."""

from __future__ import annotations

from .selection_2026 import CALL_CODE
from .selectors import kept_call_selection, project_proposal, proposal_stage_results, request_proposal


def programme_selection_context(*, request, **_kwargs) -> dict:
    return {"selection_2026": kept_call_selection(CALL_CODE)}


def project_selection_context(*, request, project, **_kwargs) -> dict:
    proposal = project_proposal(project)
    if proposal is None:
        return {}
    return {"selection_proposal": proposal, "selection_stages": proposal_stage_results(proposal),
            "selection_criteria": list(proposal.call.criteria.all())}


def request_call_context(*, request, loan_request, **_kwargs) -> dict:
    """The request's proposal of the rolling call, with its review's figures. The applicant sees how
    many reviews are done; the score, the reviewers and the review page are MSIT's and the auditors'."""
    found = request_proposal(loan_request)
    if found is None:
        return {}
    proposal, figures = found
    return {"call_proposal": proposal, "call_figures": figures, "call_details": request.user.reads_everything}
