from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
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
