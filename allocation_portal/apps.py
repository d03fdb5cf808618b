from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationPortalConfig(AppConfig):
    name = "allocation_portal"
    verbose_name = _("Portal: people and audit")
