"""What the calls floor adds to pages of the floors below (registered as hooks in apps.py): how the
2026 projects were chosen on the programme overview, and how one project was chosen on its page."""

from __future__ import annotations

from .selection_2026 import CALL_CODE
from .selectors import kept_call_selection, project_proposal, proposal_stage_results


def programme_selection_context(*, request, **_kwargs) -> dict:
    return {"selection_2026": kept_call_selection(CALL_CODE)}


def project_selection_context(*, request, project, **_kwargs) -> dict:
    proposal = project_proposal(project)
    if proposal is None:
        return {}
    return {"selection_proposal": proposal, "selection_stages": proposal_stage_results(proposal),
            "selection_criteria": list(proposal.call.criteria.all())}
