"""What lending adds to the project page (a floor below), through the core's page hook: the loans
borrowing the project's idle servers, which its start recalls."""

from __future__ import annotations

from .selectors import loans_on_project


def project_loans_context(*, request, project) -> dict:
    return {"borrowing_loans": loans_on_project(project)}
