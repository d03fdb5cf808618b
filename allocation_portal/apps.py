from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "account.locked_out": _("Account locked after failed sign-ins"),
    "account.password_change": _("Password changed"),
    "account.password_reset": _("Password reset"),
    "account.password_disabled": _("Password sign-in turned off"),
    "account.unlock": _("Account unlocked"),
    "account.second_factor_enrol": _("Second factor set up"),
    "account.second_factor_reset": _("Second factor reset"),
    "account.second_factor_failures": _("Wrong second-factor codes in a row"),
    "account.recovery_code_used": _("Recovery code used"),
    "account.recovery_codes_renew": _("New recovery codes made"),
    "account.sso_refused": _("Single sign-on refused"),
    "token.issue": _("API token issued"),
    "token.renew": _("API token renewed"),
    "token.revoke": _("API token revoked"),
    "person.invite": _("Person invited"),
    "person.reinvite": _("Invitation sent again"),
    "person.invitation_accept": _("Invitation accepted (password set)"),
    "person.change": _("Role or scope changed"),
    "person.deactivate": _("Person deactivated"),
    "person.reactivate": _("Person reactivated"),
    "policy.create": _("Policy created"),
    "policy.update": _("Policy changed"),
    "admin.add": _("Added in the admin site"),
    "admin.change": _("Changed in the admin site"),
}


class AllocationPortalConfig(AppConfig):
    name = "allocation_portal"
    verbose_name = _("Portal: people and audit")

    def ready(self):
        register_actions(ACTION_LABELS)

        # django-axes announces a lockout with a signal; the audit event is written by the service.
        from axes.signals import user_locked_out

        user_locked_out.connect(_record_lockout, dispatch_uid="portal-lockout-audit")


def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    from .accounts import lockout_record

    lockout_record(username=username or "", ip_address=ip_address or "")
