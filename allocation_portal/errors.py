"""The one error type the services raise. Pages show its message; the API renders it as
{"error": {"code", "message", "fields"}} with the status below."""

from __future__ import annotations

from django.db import DataError
from django.utils.translation import gettext as _


class PortalError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.fields = {key: [str(m) for m in (v if isinstance(v, list | tuple) else [v])]
                       for key, v in (fields or {}).items()}


class ValidationFailed(PortalError):
    status_code = 400
    default_code = "invalid"


class CapacityConflict(PortalError):
    """The GPUs asked for are no longer free for the whole period (another holder got them)."""

    status_code = 409
    default_code = "capacity_conflict"


class StateConflict(PortalError):
    """The object is not in a state that allows this step (already decided, withdrawn, ...)."""

    status_code = 409
    default_code = "state_conflict"


class NotPermitted(PortalError):
    status_code = 403
    default_code = "permission_denied"


def is_bad_value_error(exc: BaseException) -> bool:
    """The database refused a value as data: out of its column's range, too long, or a NUL
    character (which psycopg2 refuses before sending). Bad input, not a fault of the portal."""
    if isinstance(exc, DataError):
        return True
    return isinstance(exc, ValueError) and "NUL (0x00)" in str(exc)


def bad_value_message() -> str:
    return _("A value in the request cannot be stored (a NUL character, or a number out of range).")
