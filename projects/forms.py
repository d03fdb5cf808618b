from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import DateField, DateInput
from gpus.models import Cluster, Gpu, Server
from gpus.selectors import day_start


class CapacityDateForm(forms.Form):
    date = DateField(label=_("Capacity on"), required=False, widget=DateInput)


class AwardForm(forms.Form):
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.select_related("provider"))
    server_count = forms.IntegerField(label=_("Servers (8 GPUs each)"), min_value=1, max_value=1000)
    starts_on = DateField(label=_("From"), widget=DateInput)
    ends_on = DateField(label=_("Until (inclusive)"), widget=DateInput)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, project, **kwargs):
        kwargs.setdefault("initial", {"starts_on": timezone.localdate(), "ends_on": project.end_date})
        super().__init__(*args, **kwargs)
        self.project = project

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on:
            if ends_on < starts_on:
                self.add_error("ends_on", _("The end must not be before the start."))
            else:
                data["starts_at"] = day_start(starts_on)
                data["ends_at"] = day_start(ends_on + dt.timedelta(days=1))
        return data


class ReleaseForm(forms.Form):
    servers = forms.ModelMultipleChoiceField(
        label=_("Servers to release"),
        queryset=Server.objects.none(),
        required=False,
        help_text=_("Leave empty to release the whole entry."),
        widget=forms.CheckboxSelectMultiple,
    )
    on = DateField(label=_("Release on"), widget=DateInput, required=False, help_text=_("Empty means now."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, allocation, **kwargs):
        super().__init__(*args, **kwargs)
        self.allocation = allocation
        self.fields["servers"].queryset = Server.objects.filter(gpus__holdings__allocation=allocation).distinct()

    def clean(self):
        data = super().clean()
        on = data.get("on")
        data["at"] = None if on is None or on <= timezone.localdate() else day_start(on)
        servers = data.get("servers")
        data["gpus"] = list(Gpu.objects.filter(server__in=servers)) if servers else None
        return data


class StartForm(forms.Form):
    started_on = DateField(label=_("Actual start"), widget=DateInput)
    reason = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ExpectedStartForm(forms.Form):
    expected_start = DateField(label=_("New expected start"), widget=DateInput)
    reason = forms.CharField(label=_("Why the start moves"), max_length=2000)


class GpuRequestForm(forms.Form):
    servers = forms.IntegerField(label=_("More servers (8 GPUs each)"), min_value=1, max_value=100)
    reason = forms.CharField(label=_("Why more GPUs are needed"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
