"""The Django admin, for MSIT admins only. Ledger entries and audit events are read-only here:
the ledger changes only through its services, and audit events never change."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from . import audit
from .fields import DateField
from .models import AuditEvent, User


class PortalAdminSite(admin.AdminSite):
    site_header = _("National AI GPU Allocation Portal · administration")
    site_title = _("GPU portal admin")

    def has_permission(self, request):
        return is_msit_admin(request)


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
                reason=str(_("Edited in the Django admin.")),
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
    list_display = ["username", "display_name", "role", "ministry", "organisation", "is_active"]
    list_filter = ["role", "is_active", "ministry"]
    fieldsets = UserAdmin.fieldsets + ((_("Portal role"), {"fields": ("role", "display_name", "phone", "ministry", "organisation")}),)
    add_fieldsets = UserAdmin.add_fieldsets + ((_("Portal role"), {"fields": ("role", "ministry", "organisation")}),)
    search_fields = ["username", "display_name", "email"]

    def save_model(self, request, obj, form, change):
        # Never put the password hash into an audit event.
        with transaction.atomic():
            fields = ["username", "role", "ministry", "organisation", "is_active", "email", "display_name"]
            before = audit.snapshot(User.objects.get(pk=obj.pk), fields) if change else None
            admin.ModelAdmin.save_model(self, request, obj, form, change)
            audit.record(
                actor=request.user,
                action=f"admin.{'change' if change else 'add'}",
                obj=obj,
                before=before,
                after=audit.snapshot(obj, fields),
                reason=str(_("Edited in the Django admin.")),
            )
