"""What lending adds to the project page (a floor below), through the core's page hook: the loans
borrowing the project's idle servers, which its start recalls."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from allocation_portal import policy as programme_policy
from allocation_portal.templatetags.portal import end_moment

from .selectors import loans_on_project


def project_loans_context(*, request, project) -> dict:
    return {"borrowing_loans": loans_on_project(project)}


def project_start_preview(*, project) -> list[str]:
    """For the start's confirm step: whose loans on the project's servers get the recall notice."""
    hours = programme_policy.current().recall_notice_hours
    loans = list(loans_on_project(project))
    if not loans:
        return [_("No short-term loan borrows this project's servers: nobody's loan is recalled.")]
    lines = [ngettext("%(n)s short-term loan on the project's servers gets the recall notice and ends %(hours)s hours "
                      "after it:",
                      "%(n)s short-term loans on the project's servers get the recall notice and end %(hours)s hours "
                      "after it:", len(loans)) % {"n": len(loans), "hours": hours}]
    lines += [
        _("%(org)s: %(gpus)s %(model)s GPUs, lent until %(end)s") % {
            "org": loan.organisation.name, "gpus": loan.gpu_count, "model": loan.gpu_model,
            "end": end_moment(loan.ends_at),
        }
        for loan in loans
    ]
    return lines
