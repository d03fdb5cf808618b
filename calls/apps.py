from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

ACTION_LABELS = {
    "call.add_round": _("Round added to a call"),
    "call.propose": _("National project proposed"),
    "review.conflict_declare": _("Conflict of interest declared"),
    "review.assign": _("Reviewer assigned"),
    "review.submit": _("Review submitted"),
    "review.ask_revision": _("Revision asked for"),
    "review.advance": _("Proposal passed to a later stage"),
    "review.decide": _("Committee decision recorded"),
}


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Calls and review")

    def ready(self):
        register_actions(ACTION_LABELS)

        from allocation_portal import hooks

        from . import api_routes, pages, services

        api_routes.register()
        # A short-term request saved a floor below is a proposal of the rolling call.
        hooks.register(hooks.LOAN_REQUEST_SAVED, services.proposal_file_request)
        # The programme overview says how the 2026 projects were chosen; a project's page, how it was.
        hooks.register(hooks.PROGRAMME_PAGE, pages.programme_selection_context)
        hooks.register(hooks.PROJECT_PAGE, pages.project_selection_context)
        hooks.register(hooks.LOAN_REQUEST_PAGE, pages.request_call_context)
