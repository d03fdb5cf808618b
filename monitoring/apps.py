from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "report.submitted": _("Usage report submitted"),
    "report.corrected": _("Usage report corrected"),
    "report.accept": _("Usage report accepted"),
    "report.return": _("Usage report returned"),
    "case.open": _("Reclamation case opened"),
    "case.open_off_purpose": _("Off-purpose case opened"),
    "case.evidence_update": _("Case evidence recalculated"),
    "case.respond": _("Case answered"),
    "case.approved": _("Reclamation approved"),
    "case.exempted": _("Exemption granted"),
    "case.rejected": _("Reclamation rejected"),
    "case.resolved": _("Case closed: plan met"),
    "check.force": _("Monthly check forced"),
    "redistribution.propose": _("Redistribution proposed"),
    "redistribution.approve": _("Redistribution approved"),
    "redistribution.reject": _("Redistribution rejected"),
    "redistribution.stale": _("Redistribution proposal out of date"),
}


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        register_actions(ACTION_LABELS)

        from allocation_portal import hooks

        from . import api_routes, pages, redistribution

        api_routes.register()
        # The project's and the ministry's pages, below this floor, show plan vs actual.
        hooks.register(hooks.PROJECT_PAGE, pages.project_usage_context)
        hooks.register(hooks.MINISTRY_PAGE, pages.ministry_board_context)
        # A loan approved outside redistribution says which pending proposals it overtakes, and
        # marks them stale in its own transaction.
        hooks.register(hooks.LOAN_APPROVAL_PREVIEW, redistribution.loan_approval_preview)
        hooks.register(hooks.LOAN_APPROVED, redistribution.proposals_after_loan_approval)
