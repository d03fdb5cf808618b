"""The limits on free text that people type, checked once, in the services: a form and a serializer
parse what comes in, the service refuses what is too long with the one error type, whichever way
it came (page, API, upload)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import ValidationFailed

REASON_MAX = 2000  # a reason or a short note on a decision
TEXT_MAX = 5000  # notes, purposes, explanations
VERSION_NOTE_MAX = 1000  # the note on one version of a report


def checked_text(value, *, field: str, max_length: int, required: bool = False) -> str:
    """`value` stripped, or ValidationFailed on `field` if it is missing (when required) or too long."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_("Required."), fields={field: [_("Required.")]})
    if len(text) > max_length:
        message = _("At most %(n)s characters (this has %(m)s).") % {"n": max_length, "m": len(text)}
        raise ValidationFailed(message, fields={field: [message]})
    return text
