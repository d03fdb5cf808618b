"""The Django admin, for MSIT admins only. Ledger entries and audit events are read-only here:
the ledger changes only through its services, and audit events never change."""

from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import accounts, audit, people, second_factor
from .fields import DateField
from .messages import msg
from .models import AuditEvent, Invitation, User
from .views import PasswordChangeView


class PortalAdminSite(admin.AdminSite):
    site_header = _("National AI GPU Allocation Portal · administration")
    site_title = _("GPU portal admin")

    def has_permission(self, request):
        return is_msit_admin(request)

    def password_change(self, request, extra_context=None):
        """The admin's own "change my password" page, through the portal's audited view."""
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=AdminPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            template_name=self.password_change_template or "registration/password_change_form.html",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)


portal_admin = PortalAdminSite(name="admin")


def is_msit_admin(request) -> bool:
    # The admin asks these questions of anonymous visitors too (its login page lists the apps),
    # and an AnonymousUser has no portal roles.
    return bool(request.user.is_authenticated and request.user.is_msit_admin)


class MsitAdmin(admin.ModelAdmin):
    """MSIT admins may edit; every change made here is an audit event in the same transaction."""

    # Dates typed here obey the portal's bounds like every other form's.
    formfield_overrides = {models.DateField: {"form_class": DateField}}

    def has_module_permission(self, request):
        return is_msit_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_msit_admin(request)

    def has_add_permission(self, request):
        return is_msit_admin(request)

    def has_change_permission(self, request, obj=None):
        return is_msit_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            audit.record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=audit.snapshot(obj),
                reason=msg(gettext_noop("Edited in the Django admin.")),
            )


class ReadOnlyAdmin(MsitAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent, site=portal_admin)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "actor_role", "action", "object_type", "object_repr", "reason"]
    list_filter = ["action", "actor_role", "object_type"]
    search_fields = ["object_id", "object_repr", "actor_name", "reason"]
    date_hierarchy = "at"

    def get_actions(self, request):
        return {}


@admin.register(User, site=portal_admin)
class PortalUserAdmin(MsitAdmin, UserAdmin):
    actions = ["unlock_logins", "revoke_api_tokens", "reset_second_factors"]

    list_display = ["username", "display_name", "role", "ministry", "organisation", "is_active", "has_second_factor",
                    "api_token_expires"]
    list_select_related = ["ministry", "organisation", "auth_token"]
    list_filter = ["role", "is_active", "ministry"]
    fieldsets = UserAdmin.fieldsets + ((_("Portal role"), {"fields": ("role", "display_name", "phone", "ministry", "organisation", "provider", "manages_members")}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Portal role"), {"fields": ("role", "ministry", "organisation")}),)
    search_fields = ["username", "display_name", "email"]

    def save_model(self, request, obj, form, change):
        # Never put the password hash into an audit event.
        with transaction.atomic():
            fields = ["username", "role", "ministry", "organisation", "is_active", "email", "display_name"]
            before = audit.snapshot(User.objects.get(pk=obj.pk), fields) if change else None
            admin.ModelAdmin.save_model(self, request, obj, form, change)
            after = audit.snapshot(obj, fields)
            if change and before["is_active"] and not obj.is_active:
                # Deactivated here as on the People page: their sessions and API token end now.
                after.update(people.end_access(obj))
            audit.record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=after,
                reason=msg(gettext_noop("Edited in the Django admin.")),
            )

    def user_change_password(self, request, id, form_url=""):
        """An MSIT admin resets (or disables) another user's password: the change and its audit
        event in one transaction; no password or hash in the event."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and isinstance(response, HttpResponseRedirect):
                user = self.get_object(request, unquote(id))
                own = user.pk == request.user.pk
                audit.record(
                    actor=request.user,
                    action="account.password_change" if own else (
                        "account.password_reset" if user.has_usable_password() else "account.password_disabled"),
                    obj=user, object_repr=user.get_username(), reason=msg(gettext_noop("Set in the Django admin.")),
                )
        return response

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))

    @admin.display(description=_("Second factor"), boolean=True)
    def has_second_factor(self, user):
        return getattr(user, "second_factor", None)

    @admin.display(description=_("API token expires"))
    def api_token_expires(self, user):
        token = getattr(user, "auth_token", None)
        return accounts.token_expires_at(token) if token else "–"

    @admin.action(description=_("Unlock the logins of the selected users"))
    def unlock_logins(self, request, queryset):
        cleared = sum(accounts.account_unlock(actor=request.user, username=user.username) for user in queryset)
        self.message_user(request, _("%(n)s locked login attempts were cleared.") % {"n": cleared}, messages.SUCCESS)

    @admin.action(description=_("Revoke the API tokens of the selected users"))
    def revoke_api_tokens(self, request, queryset):
        revoked = sum(accounts.token_revoke(actor=request.user, user=user) for user in queryset)
        self.message_user(request, _("%(n)s API tokens were revoked.") % {"n": revoked}, messages.SUCCESS)

    @admin.action(description=_("Reset the second factor of the selected users"))
    def reset_second_factors(self, request, queryset):
        """For someone who lost their phone and their recovery codes: their authenticator and codes
        go, their sessions end, and they set up a new one at their next sign-in (audited)."""
        reset = sum(second_factor.second_factor_reset(actor=request.user, user=user) for user in queryset)
        self.message_user(request, _("%(n)s second factors were reset.") % {"n": reset}, messages.SUCCESS)


@admin.register(Invitation, site=portal_admin)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations, read-only (People invites and withdraws them); the token's hash is not shown."""

    list_display = ["email", "role", "ministry", "organisation", "provider", "invited_by", "created_at", "expires_at",
                    "used_at", "replaced_at", "emailed_at"]
    list_select_related = ["ministry", "organisation", "provider", "invited_by"]
    list_filter = ["role", "created_at"]
    search_fields = ["email"]
    exclude = ["token_hash"]

    def get_actions(self, request):
        return {}


@admin.register(AccessAttempt, site=portal_admin)
class AccessAttemptAdmin(ReadOnlyAdmin):
    """Failed logins counted by django-axes; "unlock" clears them (audited)."""

    list_display = ["attempt_time", "username", "ip_address", "failures_since_start", "path_info"]
    list_filter = ["attempt_time"]
    search_fields = ["username", "ip_address"]
    actions = ["unlock"]
    exclude = ["get_data", "post_data"]

    @admin.action(description=_("Unlock (clear these attempts)"))
    def unlock(self, request, queryset):
        cleared = 0
        for attempt in queryset:
            cleared += accounts.account_unlock(actor=request.user, username=attempt.username,
                                               ip_address=attempt.ip_address)
        self.message_user(request, _("%(n)s locked login attempts were cleared.") % {"n": cleared}, messages.SUCCESS)
