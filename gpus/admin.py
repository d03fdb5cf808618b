from django.contrib import admin

from allocation_portal.admin import MsitAdmin, ReadOnlyAdmin, portal_admin

from .models import Allocation, Cluster, Pool, Provider, Server


@admin.register(Provider, site=portal_admin)
class ProviderAdmin(MsitAdmin):
    list_display = ["code", "name_ko", "name_en", "support_contact"]
    fields = ["code", "name_ko", "name_en", "source_note", "access_steps_ko", "access_steps_en", "support_contact"]


@admin.register(Cluster, site=portal_admin)
class ClusterAdmin(MsitAdmin):
    list_display = ["code", "name", "provider", "gpu_model"]
    list_select_related = ["provider"]


@admin.register(Pool, site=portal_admin)
class PoolAdmin(MsitAdmin):
    list_display = ["code", "name_ko", "kind", "opens_on", "published_gpus"]


@admin.register(Server, site=portal_admin)
class ServerAdmin(MsitAdmin):
    list_display = ["hostname", "cluster", "pool", "status"]
    list_filter = ["cluster", "pool", "status"]
    search_fields = ["hostname"]
    list_select_related = ["cluster", "pool"]


@admin.register(Allocation, site=portal_admin)
class AllocationAdmin(ReadOnlyAdmin):
    """Read-only: the ledger changes only through the award and release services."""

    list_display = ["public_id", "holder_kind", "project", "cluster", "gpu_count", "starts_at", "ends_at", "released_at"]
    list_filter = ["holder_kind", "layer", "cluster"]
    list_select_related = ["project", "cluster"]
    search_fields = ["project__code", "public_id"]
