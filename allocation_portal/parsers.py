"""Request body parsers (kept apart from api.py: DRF's settings import them while its views load)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class JSONObjectParser(JSONParser):
    """A JSON body must be an object: a list, a string, a number or null where the API expects an
    object is a 400, never an AttributeError in a view. The one endpoint that takes a list (a
    project's plan) says so with `json_list_body = True` on its action."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        view = (parser_context or {}).get("view")
        if isinstance(data, dict) or (isinstance(data, list) and getattr(view, "json_list_body", False)):
            return data
        expected = _("a JSON list or object") if getattr(view, "json_list_body", False) else _("a JSON object")
        raise exceptions.ParseError(_("The request body must be %(expected)s.") % {"expected": expected})
