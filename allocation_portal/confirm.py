"""The one confirm step for irreversible actions on pages (the API needs none: a client states its
intent in the call). A view validates the form as usual, then, unless the POST carries
`confirmed=1`, answers with a page that names what will happen and re-posts the same fields with
that flag. No script is needed, so it works the same with JavaScript off."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirmed"
_NOT_REPOSTED = {"csrfmiddlewaretoken", CONFIRM_FIELD}


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM_FIELD) == "1"


def confirm_step(
    request: HttpRequest, *, title: str, consequences: Iterable[str], action_label: str, cancel_url: str,
    danger: bool = True,
) -> HttpResponse:
    """The page asking to confirm `title`: what will happen (`consequences`, one line each), the
    button that does it (posting the same fields again, confirmed) and a way back."""
    fields = [(name, value) for name in request.POST if name not in _NOT_REPOSTED
              for value in request.POST.getlist(name)]
    return render(request, "confirm.html", {
        "title": title, "consequences": [c for c in consequences if c], "action_label": action_label,
        "cancel_url": cancel_url, "danger": danger, "fields": fields, "action_url": request.get_full_path(),
    })
