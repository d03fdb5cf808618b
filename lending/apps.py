from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "lending"
    verbose_name = _("Short-term lending")

    def ready(self):
        from allocation_portal import hooks

        from . import api_routes, pages, services

        api_routes.register()
        # A project's start, recorded below this floor, recalls the loans on its servers in the same
        # transaction; the project's page lists them.
        hooks.register(hooks.PROJECT_STARTED, services.loans_recall_for_project)
        hooks.register(hooks.PROJECT_PAGE, pages.project_loans_context)
        hooks.register(hooks.PROJECT_START_PREVIEW, pages.project_start_preview)
