from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import DateField, DateInput


class RoundForm(forms.Form):
    opens_on = DateField(label=_("Opens on (empty: the day after the last cut-off)"), widget=DateInput,
                         required=False)
    closes_on = DateField(label=_("Cut-off"), widget=DateInput)
