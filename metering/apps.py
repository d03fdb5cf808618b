from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "metering.ingest": _("Measured usage received"),
    "metering.replace": _("Measured usage corrected"),
}


class MeteringConfig(AppConfig):
    name = "metering"
    verbose_name = _("Measured usage")

    def ready(self):
        register_actions(ACTION_LABELS)

        from allocation_portal import hooks

        from . import api_routes, pages

        api_routes.register()
        hooks.register(hooks.LOAN_PAGE, pages.loan_measured_context)
