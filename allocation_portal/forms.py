"""What every app's forms share."""

from __future__ import annotations

from django import forms

from .errors import PortalError


def add_portal_error(form: forms.Form, exc: PortalError) -> None:
    """A service's errors onto the form: each on its field when the form has it, the rest (and
    the message, when no field took one) at the top."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = placed or target is not None
    if not placed:
        form.add_error(None, exc.message)
