from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from allocation_portal import months
from allocation_portal.fields import DateField, DateInput
from gpus.models import Cluster, Gpu, Server
from gpus.selectors import day_start

from .services import usage_plan_errors


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


class GpuHoursField(forms.CharField):
    """GPU-hours as the portal writes them ('27,648.0'): a finite number, separators allowed."""

    def to_python(self, value):
        text = (super().to_python(value) or "").replace(",", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise forms.ValidationError(_("Enter a number of GPU-hours."), code="invalid")
        return number + 0 if number.is_zero() else number  # never -0


class PlanForm(forms.Form):
    """The plan page: one field per month of the project's period, named as its input
    (m-2026-10). A month not posted is left as it is (a locked month has no input); a planned
    month posted empty is refused, not taken as 0 or as unchanged: the plan is what use is judged
    against, so no plan is said with a 0. Every month's error is shown at once, the form's own (not
    a number) and the plan service's (locked, negative, over what the award can give)."""

    reason = forms.CharField(label=_("Reason (required when changing a month that has begun)"), required=False,
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, project, plans: dict, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.project, self.plans, self.actor = project, plans, actor
        self.months = list(months.months_between(project.planned_start, project.end_date))
        for month in self.months:
            self.fields[self.field_name(month)] = GpuHoursField(label=months.label(month), required=False)
        self.changes: dict = {}

    @staticmethod
    def field_name(month) -> str:
        return f"m-{months.label(month)}"

    def clean(self):
        cleaned = super().clean()
        for month in self.months:
            name = self.field_name(month)
            if name not in self.data or name in self.errors:
                continue
            value = cleaned.get(name)
            if value is None:
                if month in self.plans:
                    self.add_error(name, _("Enter a number of GPU-hours (0 for none)."))
                continue
            if self.plans.get(month) != value:
                self.changes[month] = value
        errors = usage_plan_errors(actor=self.actor, project=self.project, hours_by_month=self.changes,
                                   reason=cleaned.get("reason", ""))
        for key, messages in errors.items():
            name = key if key == "reason" else f"m-{key}"
            if name in self.fields and name not in self.errors:
                for message in messages:
                    self.add_error(name, message)
        return cleaned
