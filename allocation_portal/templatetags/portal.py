"""Small formatting filters only; no logic lives in template tags."""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def servers(gpus) -> int:
    return int(gpus or 0) // 8


@register.filter
def ministry_name(code: str) -> str:
    from projects.programme_2026 import MINISTRIES

    for ministry_code, name_ko, name_en, _sample in MINISTRIES:
        if ministry_code == code:
            return name_en if (get_language() or "ko").startswith("en") else name_ko
    return code


@register.simple_tag
def sample_tag(obj):
    """The SAMPLE badge every page shows beside invented demo data."""
    if getattr(obj, "is_sample", False):
        return format_html('<span class="tag tag-sample" title="{}">{}</span>', _("Invented demo data"), _("SAMPLE"))
    return ""


@register.filter
def percent(value, digits=0):
    if value is None:
        return "–"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def delayed(project, today):
    return project.is_delayed(today)
