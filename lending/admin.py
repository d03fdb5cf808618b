from django.contrib import admin

from allocation_portal.admin import MsitAdmin, portal_admin

from .models import Organisation


@admin.register(Organisation, site=portal_admin)
class OrganisationAdmin(MsitAdmin):
    list_display = ["name", "kind", "region", "registration_number", "is_sample"]
    list_filter = ["kind", "region"]
    search_fields = ["name", "registration_number"]
