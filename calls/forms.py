from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import DateField, DateInput


class RoundForm(forms.Form):
    opens_on = DateField(label=_("Opens on (empty: the day after the last cut-off)"), widget=DateInput,
                         required=False)
    closes_on = DateField(label=_("Cut-off"), widget=DateInput)


class AssignForm(forms.Form):
    reviewer = forms.CharField(label=_("Reviewer's username"), max_length=150)
    due_on = DateField(label=_("Review due (empty: the call's review days from today)"), widget=DateInput,
                       required=False)


class RevisionForm(forms.Form):
    note = forms.CharField(label=_("What to revise"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecideForm(forms.Form):
    selected = forms.TypedChoiceField(label=_("Committee decision"), coerce=lambda v: v == "yes",
                                      choices=[("yes", _("Selected")), ("no", _("Not selected"))])
    rank = forms.IntegerField(label=_("Panel's rank"), min_value=1, max_value=10000, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ConflictForm(forms.Form):
    registration_number = forms.CharField(label=_("The organisation's registration number"), max_length=30)
    relationship = forms.CharField(label=_("Relationship"), max_length=300)


class ReviewForm(forms.Form):
    """A level and a comment for each of the call's criteria."""

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            levels = criterion.levels or [(n, str(n)) for n in (5, 4, 3, 2, 1)]
            self.fields[f"score_{criterion.code}"] = forms.TypedChoiceField(
                label=criterion.name, coerce=int, widget=forms.RadioSelect,
                choices=[(score, f"{score} – {text}") for score, text in levels])
            self.fields[f"comment_{criterion.code}"] = forms.CharField(
                label=_("Comment on %(criterion)s") % {"criterion": criterion.name},
                widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def scores(self) -> dict[str, tuple[int, str]]:
        data = self.cleaned_data
        return {c.code: (data[f"score_{c.code}"], data[f"comment_{c.code}"]) for c in self.criteria}
