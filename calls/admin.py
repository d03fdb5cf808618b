from django.contrib import admin

from allocation_portal.admin import MsitAdmin, portal_admin

from .models import Call, Capacity, Criterion, Proposal, Round


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0


class CapacityInline(admin.TabularInline):
    model = Capacity
    extra = 0


@admin.register(Call, site=portal_admin)
class CallAdmin(MsitAdmin):
    list_display = ["code", "kind", "name_ko", "opens_on"]
    inlines = [RoundInline, CriterionInline, CapacityInline]


@admin.register(Proposal, site=portal_admin)
class ProposalAdmin(MsitAdmin):
    list_display = ["title", "call", "round", "state", "gpu_model", "gpu_count", "months"]
    list_filter = ["call", "state"]
    raw_id_fields = ["loan_request", "organisation", "project"]
