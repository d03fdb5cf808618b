from django import forms
from django.utils.translation import gettext_lazy as _

from allocation_portal.fields import DateField, DateInput
from gpus.models import GpuModel
from projects.models import Domain


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


class AdvanceForm(forms.Form):
    """MSIT records that a proposal passed to a later stage of its call's selection."""

    stage = forms.ChoiceField(label=_("Passed to the stage"))
    note = forms.CharField(label=_("Note (the stage's result)"), widget=forms.Textarea(attrs={"rows": 2}),
                           max_length=2000, required=False)

    def __init__(self, *args, stages=(), reached=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A proposal is at its call's first stage until it passes it.
        stages = list(stages)
        after = reached.position if reached is not None else (stages[0].position if stages else 0)
        self.stages = {stage.code: stage for stage in stages if stage.position > after}
        self.fields["stage"].choices = [(code, stage.name) for code, stage in self.stages.items()]


class DecideForm(forms.Form):
    """The committee's decision. A national proposal's form also asks for the award (whole servers)
    and, for a call with stages, the stage a proposal not selected ended at."""

    selected = forms.TypedChoiceField(label=_("Committee decision"), coerce=lambda v: v == "yes",
                                      choices=[("yes", _("Selected")), ("no", _("Not selected"))])
    rank = forms.IntegerField(label=_("Panel's rank"), min_value=1, max_value=10000, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, national=False, stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stages = {stage.code: stage for stage in stages}
        if national:
            self.fields["award_gpus"] = forms.IntegerField(
                label=_("GPUs awarded (whole servers of 8; empty: as asked)"), min_value=8, max_value=100000,
                required=False)
        if self.stages:
            self.fields["stage"] = forms.ChoiceField(
                label=_("Not selected: the stage it ended at"), required=False,
                choices=[("", _("the last stage"))] + [(code, stage.name) for code, stage in self.stages.items()])

    def decision(self) -> dict:
        data = self.cleaned_data
        return {"selected": data["selected"], "rank": data["rank"], "reason": data["reason"],
                "award_gpus": data.get("award_gpus"), "stage": self.stages.get(data.get("stage") or "")}


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


class NationalProposalForm(forms.Form):
    """A ministry official's national project proposal."""

    title = forms.CharField(label=_("Title (Korean)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=250, required=False)
    domain = forms.ChoiceField(label=_("Field"), choices=[("", "–"), *Domain.choices])
    summary = forms.CharField(label=_("What the project will do"), widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=4000)
    gpu_model = forms.ChoiceField(label=_("GPU model"), choices=GpuModel.choices, initial=GpuModel.B200)
    gpu_count = forms.IntegerField(label=_("GPUs (whole servers of 8)"), min_value=8, max_value=100000)
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=36, initial=12)
    starts_on = DateField(label=_("Planned start"), widget=DateInput)
