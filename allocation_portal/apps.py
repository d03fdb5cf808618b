from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationPortalConfig(AppConfig):
    name = "allocation_portal"
    verbose_name = _("Portal: people and audit")

    def ready(self):
        # django-axes announces a lockout with a signal; the audit event is written by the service.
        from axes.signals import user_locked_out

        user_locked_out.connect(_record_lockout, dispatch_uid="portal-lockout-audit")


def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    from .accounts import lockout_record

    lockout_record(username=username or "", ip_address=ip_address or "")
