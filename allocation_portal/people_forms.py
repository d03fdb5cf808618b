"""The People pages' forms. They parse what comes in; the rules are the services' (people.py).

The scope models (ministries, organisations, providers) live on higher floors: they are reached
through the User model's own relations, never imported."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from .limits import REASON_MAX
from .models import Role, User
from .people import EMAIL_MAX, NAME_MAX, PersonStatus


def _related(name: str):
    return User._meta.get_field(name).related_model


def _scope_fields(form: forms.Form) -> None:
    form.fields["role"] = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    form.fields["ministry"] = forms.ModelChoiceField(
        label=_("Ministry"), queryset=_related("ministry").objects.order_by("name_ko"), required=False,
        help_text=_("Required for a ministry official."))
    form.fields["organisation"] = forms.ModelChoiceField(
        label=_("Organisation"), queryset=_related("organisation").objects.order_by("name"), required=False,
        help_text=_("Required for an applicant; an expert reviewer's affiliation, if any."))
    form.fields["provider"] = forms.ModelChoiceField(
        label=_("Provider"), queryset=_related("provider").objects.order_by("code"), required=False,
        help_text=_("Required for a provider operator."))


class InviteForm(forms.Form):
    """MSIT admins choose the role and scope; an official invites into their own ministry and an
    organisation's managing member into their own organisation, so those fields are not shown."""

    email = forms.EmailField(label=_("E-mail"), max_length=EMAIL_MAX,
                             help_text=_("The invitation goes here; it is also the person's username."))
    display_name = forms.CharField(label=_("Name"), max_length=NAME_MAX, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        if actor.is_msit_admin:
            _scope_fields(self)
        if actor.is_msit_admin or actor.manages_organisation_members:
            self.fields["manages_members"] = forms.BooleanField(
                label=_("Manages the organisation's members"), required=False,
                help_text=_("Applicants only: may invite and deactivate the organisation's members."))


class ChangeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, actor, person, **kwargs):
        initial = {"role": person.role, "ministry": person.ministry_id, "organisation": person.organisation_id,
                   "provider": person.provider_id, "manages_members": person.manages_members}
        super().__init__(*args, initial=initial, **kwargs)
        if actor.is_msit_admin:
            _scope_fields(self)
        self.fields["manages_members"] = forms.BooleanField(label=_("Manages the organisation's members"), required=False)
        self.order_fields(["role", "ministry", "organisation", "provider", "manages_members", "reason"])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FilterForm(forms.Form):
    """The People list's filters; a value that is not a choice is ignored (the list is unfiltered by it)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    role = forms.ChoiceField(label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices])
    ministry = forms.ChoiceField(label=_("Ministry"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *PersonStatus.choices])

    def __init__(self, *args, show_ministry: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if show_ministry:
            ministries = _related("ministry").objects.order_by("name_ko")
            self.fields["ministry"].choices = [("", _("All ministries")), *((m.code, str(m)) for m in ministries)]
        else:
            del self.fields["ministry"]

    def value(self, name: str) -> str:
        if name not in self.fields:
            return ""
        raw = (self.data.get(name) or "").strip()
        if name == "q":
            return raw[:100]
        return raw if self.fields[name].valid_value(raw) else ""


class AcceptForm(SetPasswordForm):
    """Django's set-password form: the password twice, checked by AUTH_PASSWORD_VALIDATORS."""
