from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import MonthField

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
