"""What every request passes before a view runs, and the last line behind every view.

- A NUL character in the path or the query string is refused (400): no URL, code or search term
  contains one, and PostgreSQL cannot store or compare it.
- A body larger than the upload limit is refused (413) from its Content-Length, before a byte of
  it is read. Django reads no more than Content-Length of a body (a chunked body without one is
  read as empty), so this bounds the work of every path: pages, API, admin.
- A value the database refuses as data (a NUL inside a body value, a number out of its column's
  range) is a 400 for the person who sent it, not a server error; whatever the request had begun
  to write was rolled back with its transaction.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _

from .api import json_error
from .errors import bad_value_message, is_bad_value_error

logger = logging.getLogger(__name__)


def wants_json(request) -> bool:
    return request.path.startswith("/api/")


def refuse(request, status: int, code: str, message: str):
    if wants_json(request):
        return json_error(request, status, code, message)
    return render(request, "400.html", {"message": message, "status": status}, status=status)


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _has_nul(request) -> bool:
    if "\x00" in request.path or "\x00" in request.path_info:
        return True
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            return refuse(request, 400, "invalid", _("The address contains a NUL character."))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refuse(request, 400, "invalid", _("The Content-Length header is not a number."))
        metering = request.path.startswith("/api/v1/metering/")
        limit = settings.PORTAL_METERING_MAX_BYTES if metering else settings.PORTAL_REQUEST_MAX_BYTES
        if length > limit:
            return refuse(
                request, 413, "too_large",
                _("The request is larger than the upload limit of %(limit)s.")
                % {"limit": size_label(settings.PORTAL_METERING_MAX_BYTES if metering else settings.PORTAL_UPLOAD_MAX_BYTES)},
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_bad_value_error(exception):
            return None
        logger.warning("Refused a value the database cannot store: %s", exception, exc_info=exception)
        return refuse(request, 400, "invalid", bad_value_message())


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
