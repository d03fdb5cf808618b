"""Forms of the lending pages: they parse what people type; the services validate it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal import policy as programme_policy
from allocation_portal.fields import DateField, DateInput
from allocation_portal.models import Compliance
from gpus.models import GpuModel

from .models import CHECKLIST_NO_MEANING, OrganisationKind, Region


class SignupForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=150)
    kind = forms.ChoiceField(label=_("Type"), choices=OrganisationKind.choices, widget=forms.RadioSelect)
    region = forms.ChoiceField(label=_("Region"), choices=Region.choices, widget=forms.RadioSelect)
    registration_number = forms.CharField(
        label=_("Registration number"), max_length=30,
        help_text=_("Companies: the 10-digit business registration number (사업자등록번호, 123-45-67890). Universities "
                    "and research institutes: the registration or unique number (고유번호), or the 13-digit "
                    "corporate registration number."),
    )
    display_name = forms.CharField(label=_("Your name"), max_length=100)
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, help_text=_("At least 10 characters."))
    password_again = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)
    privacy_consent = forms.BooleanField(
        label=_("I agree to the collection and use of my personal information as described above."), required=False,
    )
    # Shown only when an organisation of the same name is registered already.
    confirm_duplicate_name = forms.BooleanField(
        label=_("My organisation is a different one of the same name: register it."), required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


def terms_text(policy) -> str:
    """The terms an applicant accepts, with the policy's numbers."""
    return _(
        "I accept the terms: the loan is at most %(months)s months and can be renewed %(renewals)s times; GPUs lent "
        "from a national project's idle servers are recalled with %(hours)s hours' notice when that project starts; "
        "the organisation files a short report at the end."
    ) % {"months": policy.loan_max_months, "renewals": policy.loan_renewals, "hours": policy.recall_notice_hours}


class LoanRequestForm(forms.Form):
    gpu_model = forms.ChoiceField(label=_("GPU model"), choices=GpuModel.choices)
    gpu_count = forms.IntegerField(
        label=_("GPUs"), min_value=1, max_value=2000, help_text=_("1 to 4 GPUs of a server, or whole servers: 8, 16, 24, ...")
    )
    starts_on = DateField(label=_("First day"), widget=DateInput)
    ends_on = DateField(label=_("Last day"), widget=DateInput)
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    expected_results = forms.CharField(label=_("Expected results"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    personal_information = forms.ChoiceField(
        label=_("Personal information in the data is handled under the Personal Information Protection Act."),
        choices=Compliance.choices, widget=forms.RadioSelect,
    )
    training_data_copyright = forms.ChoiceField(
        label=_("We have the right to use the training data (copyright and IP)."),
        choices=Compliance.choices, widget=forms.RadioSelect,
    )
    ai_basic_act = forms.ChoiceField(
        label=_("The work complies with the AI Basic Act."), choices=Compliance.choices, widget=forms.RadioSelect,
    )
    accepts_recall_terms = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = programme_policy.current()
        self.fields["accepts_recall_terms"].label = terms_text(policy)
        self.fields["ends_on"].help_text = _("At most %(months)s months after the first day.") % {"months": policy.loan_max_months}
        for name, meaning in CHECKLIST_NO_MEANING.items():
            self.fields[name].no_meaning = meaning

    def values(self) -> dict:
        return dict(self.cleaned_data)


class ScoreForm(forms.Form):
    score = forms.DecimalField(label=_("Criteria score (0-100)"), min_value=0, max_value=100, decimal_places=1)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("What should change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class RenewalForm(forms.Form):
    ends_on = DateField(label=_("New last day"), widget=DateInput)
    reason = forms.CharField(label=_("Why more time is needed"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class EndReportForm(forms.Form):
    text = forms.CharField(label=_("What the GPUs were used for and what came of it"),
                           widget=forms.Textarea(attrs={"rows": 4}), max_length=10000)
    gpu_hours = forms.DecimalField(label=_("GPU-hours used (optional)"), required=False, min_value=0, decimal_places=1)
