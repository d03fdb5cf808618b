import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal import policy as programme_policy
from allocation_portal.fields import MonthField
from monitoring.forms import PolicyForm

from . import simulation
from .figures import FIGURES, RangeInvalid, scope_for


class OutcomesRangeForm(forms.Form):
    """The months the outcome figures are of (default: the programme's first month to this month),
    and for the drill-down, which figure. The page and the API read the same form."""

    # "from" is a Python keyword: the fields are named so in the query string only (add_prefix).
    first = MonthField(label=_("From"), required=False)
    last = MonthField(label=_("To"), required=False)
    figure = forms.ChoiceField(label=_("Figure"), required=False,
                               choices=[("", "")] + [(name, label) for name, (label, *_rest) in FIGURES.items()])

    def __init__(self, data=None, *, figure_required: bool = False, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["figure"].required = figure_required
        self.scope = None

    def add_prefix(self, field_name):
        return {"first": "from", "last": "to"}.get(field_name, field_name)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.scope = scope_for(cleaned.get("first"), cleaned.get("last"))
        except RangeInvalid as error:
            self.add_error("last", str(error))
        return cleaned


class SimulationForm(forms.Form):
    """What an MSIT admin asks the simulator for: the months, the seed, the behaviour (JSON, the
    simulator's fields) and policy B (the policy page's fields, filled in with the policy in force:
    what is changed is B's difference from A)."""

    first_month = MonthField(label=_("First month"), initial="2026-04")
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=simulation.MOST_MONTHS, initial=12)
    seed = forms.IntegerField(label=_("Seed"), min_value=0, max_value=2**31 - 1, initial=1,
                              help_text=_("The same seed and behaviour give the same figures."))
    behaviour = forms.CharField(
        label=_("Behaviour (JSON)"), required=False, max_length=8000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A JSON object of the fields to change from the defaults listed below; empty for the defaults."))

    def clean_behaviour(self):
        text = (self.cleaned_data.get("behaviour") or "").strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(_("Not JSON: %(error)s") % {"error": error.msg}) from error
        if not isinstance(data, dict):
            raise forms.ValidationError(_("Give one JSON object of fields by name."))
        return data


class PolicyBForm(PolicyForm):
    """Policy B: the policy page's own form (its fields and checks), without the reason a saved change needs."""

    prefix = "b"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["reason"]

    def changes(self, base: dict) -> dict:
        """The fields that differ from `base` (policy A), as the simulator's policy file holds them."""
        out = {}
        for name in programme_policy.FIELDS:
            value = self.cleaned_data.get(name)
            if isinstance(value, Decimal):
                if value != Decimal(str(base.get(name))):
                    out[name] = str(value)
            elif value != base.get(name):
                out[name] = value
        return out
