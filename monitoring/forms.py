from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal import months
from allocation_portal.errors import PortalError

from .models import COMPLIANCE_ITEMS, Compliance

EVIDENCE_TYPES = (".csv", ".xlsx", ".pdf", ".txt", ".json", ".zip", ".log")
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


class MonthField(forms.CharField):
    default_error_messages = {"invalid": _("Give the month as YYYY-MM.")}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        month = months.parse(value)
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month

    def prepare_value(self, value):
        return months.label(value) if hasattr(value, "year") else value


def clean_evidence(upload):
    if upload is None:
        return None
    if not upload.name.lower().endswith(EVIDENCE_TYPES):
        raise forms.ValidationError(_("Evidence must be one of: %(types)s.") % {"types": ", ".join(EVIDENCE_TYPES)})
    if upload.size > EVIDENCE_MAX_BYTES:
        raise forms.ValidationError(_("Evidence files are limited to 10 MB."))
    return upload


class ReportForm(forms.Form):
    month = MonthField(label=_("Month"), help_text=_("YYYY-MM"), widget=forms.TextInput(attrs={"type": "month"}))
    gpu_hours_used = forms.DecimalField(
        label=_("GPU-hours used"), min_value=0, max_digits=12, decimal_places=1,
        help_text=_("Sum over all GPUs of the hours each was busy (for example from the scheduler's accounting)."),
    )
    peak_gpus_busy = forms.IntegerField(label=_("Peak GPUs busy at once"), min_value=0)
    within_purpose = forms.TypedChoiceField(
        label=_("Purpose declaration"),
        choices=[("yes", _("The GPUs were used only for the approved purpose.")),
                 ("no", _("Some use was outside the approved purpose (explain in the notes)."))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer the purpose declaration.")},
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    evidence = forms.FileField(
        label=_("Evidence file (optional)"), required=False,
        help_text=_("For example a scheduler accounting export (CSV, XLSX, PDF; up to 10 MB)."),
    )

    def __init__(self, *args, fixed_month: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question in COMPLIANCE_ITEMS.items():
            self.fields[name] = forms.ChoiceField(
                label=question, choices=Compliance.choices, widget=forms.RadioSelect,
                error_messages={"required": _("Answer this checklist item.")},
            )
        if fixed_month:
            self.fields["month"].disabled = True
        self.order_fields(["month", "gpu_hours_used", "peak_gpus_busy", "within_purpose", *COMPLIANCE_ITEMS,
                           "notes", "evidence"])

    def clean_evidence(self):
        return clean_evidence(self.cleaned_data.get("evidence"))

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in
                ["gpu_hours_used", "peak_gpus_busy", "within_purpose", *COMPLIANCE_ITEMS, "notes"]}

    def add_portal_error(self, exc: PortalError) -> None:
        """Put a service's errors on the matching fields, the rest at the top."""
        placed = False
        for name, messages in exc.fields.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)
                placed = placed or target is not None
        if not exc.fields or not placed:
            self.add_error(None, exc.message)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for return"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"), help_text=_("One row per project and month; see the template."))
    submit = forms.BooleanField(label=_("Submit the reports (not only save drafts)"), required=False, initial=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("Uploads are limited to 10 MB."))
        return upload


class BoardFilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    ministry = forms.CharField(required=False, widget=forms.HiddenInput)
    status = forms.CharField(required=False, widget=forms.HiddenInput)
