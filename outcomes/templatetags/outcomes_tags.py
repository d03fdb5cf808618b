from django import template
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag(takes_context=True)
def rows_url(context, figure: str, month=None) -> str:
    """The drill-down of `figure` for one month, or for the dashboard's whole range."""
    outcomes = context["outcomes"]
    first, last = (month, month) if month else (outcomes.first, outcomes.last)
    return reverse("outcome-rows") + "?" + urlencode({"figure": figure, "from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"})


@register.filter
def value_of(period, name: str):
    return period.value(name)


@register.filter
def share_of_loans(split, key: str):
    return split.loan_share(key)


@register.filter
def share_of_hours(split, key: str):
    return split.hour_share(key)
