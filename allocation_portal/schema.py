"""The OpenAPI schema tells the truth about errors: every operation documents the error responses
the shared layer can give it, in the one error shape.

- 400: any request (the guard middleware refuses a NUL in any address; every input is validated)
- 401 and 403: operations that need a login (not the public ones)
- 404: operations with an object in the path (outside a user's scope is "not found" too) and
  paginated lists (a page past the last)
- 409: writes (a workflow step on an object in the wrong state, capacity taken meanwhile)
- 413: writes (a body over the upload limit)
- 429: any request (throttles)
"""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """{"error": {"code", "message", "fields"}}: every API error."""

    error = ErrorDetailSerializer()


DESCRIPTIONS = {
    "400": "Invalid input (`fields` names each invalid field).",
    "401": "Not logged in, or the token is unknown, expired or revoked.",
    "403": "The role may not do this.",
    "404": "Not found, or outside what the user may see.",
    "409": "The object's state or the capacity does not allow this now; nothing was written.",
    "413": "The request is larger than the upload limit.",
    "429": "Too many requests; retry after the time in Retry-After.",
}


class PortalAutoSchema(AutoSchema):
    def _is_public(self) -> bool:
        return any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    def _error_codes(self) -> list[str]:
        codes = ["400", "429"]
        if not self._is_public():
            codes += ["401", "403"]
        has_path_object = "{" in self.path
        is_paginated_list = self._is_list_view() and getattr(self.view, "pagination_class", None) is not None
        if has_path_object or is_paginated_list:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["409", "413"]
        # A view that looks up an object named in its body (a provider's code) answers 404 as well.
        codes += [c for c in getattr(self.view, "extra_error_codes", ()) if c not in codes]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = DESCRIPTIONS[code]
                responses[code] = response
        return dict(sorted(responses.items()))


class SecondFactorSessionScheme(SessionScheme):
    """The session cookie, as drf-spectacular names it for DRF's own session authentication (the
    portal's refuses a session that still owes its second factor)."""

    target_class = "allocation_portal.second_factor.SessionAuthentication"
