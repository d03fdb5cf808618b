from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = _("Programme outcomes")

    def ready(self):
        from allocation_portal import hooks

        from . import api_routes, exports

        api_routes.register()
        hooks.register(hooks.BOARD_EXPORT_SHEETS, exports.outcome_sheets)
