from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "organisation.signup": _("Organisation signed up"),
    "organisation.add_member": _("Member added to organisation"),
    "loan_request.submit": _("GPU request submitted"),
    "loan_request.update": _("GPU request changed"),
    "loan_request.withdraw": _("GPU request withdrawn"),
    "loan_request.score": _("GPU request scored"),
    "loan_request.ask_changes": _("Changes asked for"),
    "loan_request.reject": _("GPU request rejected"),
    "loan_request.approve": _("GPU request approved"),
    "loan.create": _("Loan written to the ledger"),
    "loan.offer_accept": _("Loan offer accepted"),
    "loan.offer_decline": _("Loan offer declined"),
    "loan.offer_lapse": _("Loan offer lapsed"),
    "loan.start": _("Loan started"),
    "loan.end": _("Loan ended"),
    "loan.return": _("Loan returned early"),
    "loan.renewal_request": _("Renewal asked for"),
    "loan.renewal_decide": _("Renewal decided"),
    "loan.recall": _("Loan recalled"),
    "loan.end_report": _("End-of-loan report filed"),
}


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Short-term lending")

    def ready(self):
        register_actions(ACTION_LABELS)

        from allocation_portal import hooks

        from . import api_routes, pages, services

        api_routes.register()
        # A project's start, recorded below this floor, recalls the loans on its servers in the same
        # transaction; the project's page lists them.
        hooks.register(hooks.PROJECT_STARTED, services.loans_recall_for_project)
        hooks.register(hooks.PROJECT_PAGE, pages.project_loans_context)
        hooks.register(hooks.PROJECT_START_PREVIEW, pages.project_start_preview)
