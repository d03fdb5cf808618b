"""What every API view shares: pagination, the one error shape and role permissions."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import PortalError, bad_value_message, is_bad_value_error

logger = logging.getLogger(__name__)


def _positive_int(raw: str) -> int | None:
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    return value if value >= 1 else None


class Pagination(PageNumberPagination):
    """Pages of 50, `page_size` up to 200. A page size or page number that is not a whole number
    in range (null, negative, zero, huge, text) is a 400, never quietly replaced; a page past the
    last is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _positive_int(raw)
        if size is None or size > self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1 to %(max)s.") % {"max": self.max_page_size}]}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and _positive_int(raw) is None:
            raise exceptions.ValidationError({self.page_query_param: [_("Give a page number from 1.")]})
        return super().paginate_queryset(queryset, request, view)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _flatten_fields(detail, prefix="") -> dict:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}{key}" if not prefix else f"{prefix}.{key}"
            if isinstance(value, dict):
                fields.update(_flatten_fields(value, name))
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    fields.update(_flatten_fields(item, f"{name}.{i}"))
            else:
                fields[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return fields


def exception_handler(exc, context):
    """Every API error, from a serializer, a service or the framework, as
    {"error": {"code", "message", "fields"}}."""
    if isinstance(exc, PortalError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if is_bad_value_error(exc):
        logger.warning("Refused a value the database cannot store: %s", exc, exc_info=exc)
        return Response(error_body("invalid", bad_value_message()), status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": [str(d) for d in exc.detail]}
        message = _("The request has invalid fields.")
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
        response.data = error_body("invalid", message, fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(str(code), str(detail))
    return response


def json_error(request, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


class IsMsitAdmin(permissions.BasePermission):
    message = _("Only MSIT admins may do this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_msit_admin)


class ReadsEverything(permissions.BasePermission):
    """MSIT admins and auditors."""

    message = _("Only MSIT admins and auditors may see this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.reads_everything)


class ProgrammeReader(permissions.BasePermission):
    """MSIT admins, auditors and ministry officials (officials see their own ministry's part)."""

    message = _("Applicants have no access to national projects' data.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.reads_everything or user.is_official))


class AuditorsOnlyRead(permissions.BasePermission):
    """Auditors read everything and change nothing."""

    message = _("Auditors can read but not change anything.")

    def has_permission(self, request, view):
        user = request.user
        if user and user.is_authenticated and user.is_auditor:
            return request.method in permissions.SAFE_METHODS
        return True


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
