from django.contrib import admin

from allocation_portal.admin import MsitAdmin, portal_admin

from .models import Ministry, Project


@admin.register(Ministry, site=portal_admin)
class MinistryAdmin(MsitAdmin):
    list_display = ["code", "name_ko", "name_en", "is_sample"]
    search_fields = ["code", "name_ko", "name_en"]


@admin.register(Project, site=portal_admin)
class ProjectAdmin(MsitAdmin):
    list_display = ["code", "title_ko", "ministry", "gpus_awarded", "planned_start", "actual_start", "status", "is_sample"]
    list_filter = ["status", "ministry", "is_sample"]
    search_fields = ["code", "title_ko", "title_en"]
    list_select_related = ["ministry"]
    # Status and start move through the portal's services (start, suspension), not free edits.
    readonly_fields = ["status", "actual_start"]
