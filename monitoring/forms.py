from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from allocation_portal import policy as programme_policy
from allocation_portal.fields import MonthField
from allocation_portal.models import Policy
from allocation_portal.uploads import UploadField, too_large_message

from .models import COMPLIANCE_ITEMS, CaseState, Compliance, ResponseKind
from .services import WHOLE_REPORT, report_errors

EVIDENCE_TYPES = (".csv", ".xlsx", ".pdf", ".txt", ".json", ".zip", ".log")


def clean_evidence(upload):
    if upload is None:
        return None
    if not upload.name.lower().endswith(EVIDENCE_TYPES):
        raise forms.ValidationError(_("Evidence must be one of: %(types)s.") % {"types": ", ".join(EVIDENCE_TYPES)})
    if upload.size > settings.PORTAL_UPLOAD_MAX_BYTES:
        raise forms.ValidationError(too_large_message())
    return upload


class ReportForm(forms.Form):
    month = MonthField(label=_("Month"), help_text=_("YYYY-MM"))
    gpu_hours_used = forms.DecimalField(
        label=_("GPU-hours used"), min_value=0, max_digits=12, decimal_places=1,
        error_messages={"required": _("Enter the GPU-hours used.")},
        help_text=_("Sum over all GPUs of the hours each was busy (for example from the scheduler's accounting)."),
    )
    peak_gpus_busy = forms.IntegerField(label=_("Peak GPUs busy at once"), min_value=0,
                                        error_messages={"required": _("Enter the peak number of GPUs busy.")})
    within_purpose = forms.TypedChoiceField(
        label=_("Purpose declaration"),
        choices=[("yes", _("The GPUs were used only for the approved purpose.")),
                 ("no", _("Some use was outside the approved purpose (explain in the notes)."))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer the purpose declaration.")},
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    evidence = UploadField(
        label=_("Evidence file (optional)"), required=False,
        help_text=_("For example a scheduler accounting export (CSV, XLSX, PDF; up to 10 MB)."),
    )

    def __init__(self, *args, fixed_month: bool = False, project=None, report=None, actor=None, **kwargs):
        """With `project` (and `report`, when changing one) the form checks, besides its fields, the
        rules the report service checks (against the ledger), so that every field's error is shown
        at once, not one more after each try."""
        super().__init__(*args, **kwargs)
        self.project, self.report, self.actor = project, report, actor
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

    def clean(self):
        cleaned = super().clean()
        if self.project is None:
            return cleaned
        month = self.report.month if self.report is not None else cleaned.get("month")
        if self.report is None and month is not None and self.project.usage_reports.filter(month=month).exists():
            self.add_error("month", _("A report for this month exists already; open it to change it."))
        found = report_errors(actor=self.actor, project=self.project, month=month, values=self.values(),
                              report=self.report)
        for name, messages in found.items():
            if name in self.errors:
                continue  # the field's own message (not a number, missing, a report exists) says it better
            for message in messages:
                self.add_error(None if name == WHOLE_REPORT or name not in self.fields else name, message)
        return cleaned

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in
                ["gpu_hours_used", "peak_gpus_busy", "within_purpose", *COMPLIANCE_ITEMS, "notes"]}


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for return"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class UploadForm(forms.Form):
    file = UploadField(label=_("CSV or XLSX file"), help_text=_("One row per project and month; see the template."))
    submit = forms.BooleanField(label=_("Submit the reports (not only save drafts)"), required=False, initial=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class BoardFilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
    ministry = forms.CharField(required=False, widget=forms.HiddenInput)
    status = forms.CharField(required=False, widget=forms.HiddenInput)


class CaseResponseForm(forms.Form):
    response_kind = forms.ChoiceField(label=_("Response"), choices=ResponseKind.choices, widget=forms.RadioSelect)
    response_text = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class CaseDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[(CaseState.APPROVED, _("Approve the reclamation")), (CaseState.EXEMPTED, _("Grant the exemption")),
                 (CaseState.REJECTED, _("Reject (reclaim nothing)"))],
    )
    servers = forms.IntegerField(label=_("Servers to reclaim"), min_value=1, required=False,
                                 help_text=_("Fewer than proposed if you decide so."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the suspension"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class OffPurposeForm(forms.Form):
    project = forms.CharField(label=_("Project code"), max_length=20)
    month = MonthField(label=_("Month"))
    note = forms.CharField(label=_("What was found, and its evidence"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    evidence_file = UploadField(label=_("Evidence file (optional)"), required=False)
    proposed_servers = forms.IntegerField(label=_("Servers proposed for reclamation"), min_value=0, required=False,
                                          help_text=_("Empty: all the servers the project holds."))

    def clean_evidence_file(self):
        return clean_evidence(self.cleaned_data.get("evidence_file"))


class CheckRunForm(forms.Form):
    month = MonthField(label=_("Month to check"))
    force = forms.BooleanField(label=_("Check before the reports are due"), required=False)
    reason = forms.CharField(label=_("Reason for checking early"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class PolicyForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    class Meta:
        model = Policy
        fields = programme_policy.FIELDS
