from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "allocation.award": _("GPUs awarded (ledger entry)"),
    "allocation.change": _("Ledger entry end moved"),
    "allocation.release": _("GPUs released"),
    "allocation.reclaim": _("GPUs reclaimed"),
    "server.status": _("Server status changed"),
}


class GpusConfig(AppConfig):
    name = "gpus"
    verbose_name = _("GPUs and the ledger")

    def ready(self):
        register_actions(ACTION_LABELS)

        from . import api_routes

        api_routes.register()
