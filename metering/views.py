"""A provider's operators see their servers and what they measured, and send Slurm accounting; MSIT
admins and auditors see every provider and the use nobody held."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocation_portal import months
from allocation_portal.access import role_required
from allocation_portal.errors import PortalError
from allocation_portal.fields import MonthField
from allocation_portal.forms import add_portal_error
from allocation_portal.uploads import UploadField
from gpus.models import Provider, Server

from .models import UsageBatch
from .selectors import unattributed_by_month
from .services import may_send_usage, sacct_receive


class SacctForm(forms.Form):
    file = UploadField(label=gettext_lazy("sacct output (--parsable2)"))
    month = MonthField(label=gettext_lazy("Month (KST)"), required=False,
                       help_text=gettext_lazy("Empty: the last month that has ended."))


def _providers_for(user):
    if user.is_provider_operator:
        return Provider.objects.filter(pk=user.provider_id)
    if user.reads_everything:
        return Provider.objects.all()
    raise PermissionDenied


@role_required("is_provider_operator", "reads_everything")
def metering(request):
    providers = list(_providers_for(request.user).order_by("code"))
    chosen = next((p for p in providers if p.code == request.GET.get("provider")), None)
    if chosen is None and len(providers) == 1:
        chosen = providers[0]
    form = SacctForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if chosen is None or not may_send_usage(request.user, chosen):
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                received = sacct_receive(actor=request.user, provider=chosen, file=upload, file_name=upload.name,
                                         month=form.cleaned_data.get("month"))
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                batch = received.batch
                messages.success(request, (
                    _("%(month)s received: %(runs)s job runs, %(hours)s GPU-hours.") if received.changed
                    else _("%(month)s: the same figures had been received already; nothing changed.")
                ) % {"month": months.label(timezone.localtime(batch.period_start).date()), "runs": batch.runs,
                     "hours": f"{batch.gpu_seconds / 3600:,.1f}"})
                return redirect(f"{request.path}?provider={chosen.code}")
        status = 400
    scope = [chosen] if chosen else providers
    servers = (Server.objects.filter(cluster__provider__in=scope).values("cluster__provider__code")
               .annotate(n=Count("id")).order_by())
    batches = (UsageBatch.objects.filter(provider__in=scope).select_related("provider", "received_by")
               .order_by("-received_at", "-id")[:30])
    last = months.add_months(months.current(), -1)
    unattributed = []
    if request.user.reads_everything:
        unattributed = [
            row for row in unattributed_by_month(months.add_months(last, -5), months.current())
            if chosen is None or row["batch__provider__code"] == chosen.code
        ]
    return render(request, "metering/metering.html", {
        "providers": providers, "chosen": chosen, "form": form, "batches": batches,
        "servers": {row["cluster__provider__code"]: row["n"] for row in servers},
        "can_send": chosen is not None and may_send_usage(request.user, chosen), "unattributed": unattributed,
        "total_servers": sum(row["n"] for row in servers),
    }, status=status)
