"""Reads for calls: the list of calls and one call with its rounds, rules, criteria and capacity."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.http import Http404

from .models import Call, Criterion, Round


def call_list():
    return Call.objects.annotate(round_count=Count("rounds", distinct=True),
                                 proposal_count=Count("proposals", distinct=True)).order_by("-opens_on", "code")


def get_call(code: str) -> Call:
    """One call with what its page shows (rounds with their proposal counts, criteria, capacity,
    eligible ministries) in a fixed number of queries; 404 for an unknown code."""
    rounds = Round.objects.annotate(proposal_count=Count("proposals")).order_by("number")
    try:
        return Call.objects.prefetch_related(
            Prefetch("rounds", queryset=rounds),
            Prefetch("criteria", queryset=Criterion.objects.order_by("position", "code")),
            "capacity", "eligible_ministries",
        ).get(code=str(code)[:40])
    except Call.DoesNotExist:
        raise Http404("No such call.") from None
