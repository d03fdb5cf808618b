"""Pages for calls: the list of calls and one call (rounds, eligibility, criteria and rubric,
capacity, portfolio rules), public like the lending page; MSIT adds a round with its cut-off."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal.access import role_required
from allocation_portal.errors import PortalError
from allocation_portal.forms import add_portal_error
from lending.models import OrganisationKind, Region

from . import services
from .forms import RoundForm
from .selectors import call_list, get_call


def call_list_page(request):
    return render(request, "calls/call_list.html", {"calls": call_list()})


def _labels(values, choices) -> list[str]:
    names = dict(choices)
    return [str(names.get(value, value)) for value in values]


def call_detail(request, code, form=None, status=200):
    call = get_call(code)
    shares = [(str(dict(OrganisationKind.choices).get(kind, kind)), percent) for kind, percent in call.shares.items()]
    return render(request, "calls/call_detail.html", {
        "call": call,
        "eligible_kinds": _labels(call.eligible_kinds, OrganisationKind.choices),
        "eligible_regions": _labels(call.eligible_regions, Region.choices),
        "shares": shares,
        "round_form": form or RoundForm(),
    }, status=status)


@require_POST
@role_required("is_msit_admin")
def call_round_add(request, code):
    call = get_call(code)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            created = services.call_add_round(actor=request.user, call=call, closes_on=form.cleaned_data["closes_on"],
                                              opens_on=form.cleaned_data["opens_on"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("Round %(n)s added: cut-off %(day)s.")
                             % {"n": created.number, "day": created.closes_on.isoformat()})
            return redirect("call", code=call.code)
    return call_detail(request, code, form=form, status=400)
