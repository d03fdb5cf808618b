"""Formatting filters of the project pages."""

from django import template
from django.utils.translation import get_language

from ..programme_2026 import MINISTRIES

register = template.Library()


@register.filter
def ministry_name(code: str) -> str:
    """A ministry of the announcement by its code, in the reader's language."""
    for ministry_code, name_ko, name_en, _sample in MINISTRIES:
        if ministry_code == code:
            return name_en if (get_language() or "ko").startswith("en") else name_ko
    return code
