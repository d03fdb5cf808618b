"""Small formatting filters only; no logic lives in template tags."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocation_portal import formatting, months
from allocation_portal.messages import render

register = template.Library()


@register.filter
def servers(gpus) -> int:
    return int(gpus or 0) // 8


@register.simple_tag
def sample_tag(obj):
    """The SAMPLE badge every page shows beside invented demo data."""
    if getattr(obj, "is_sample", False):
        return format_html('<span class="tag tag-sample" title="{}">{}</span>', _("Invented demo data"), _("SAMPLE"))
    return ""


@register.filter
def num(value, decimals=0):
    """Every count on every page: `{{ n|num }}` -> '2,832' (`{{ x|num:1 }}` one decimal)."""
    return formatting.format_number(value, int(decimals))


@register.filter
def gpu_hours(value):
    """GPU-hours, always with the same one decimal: `{{ h|gpu_hours }}` -> '27,648.0'."""
    return formatting.format_number(value, formatting.GPU_HOURS_DECIMALS)


@register.filter
def gpu_seconds_as_hours(value):
    """GPU-seconds (as measured) written as GPU-hours: `{{ s|gpu_seconds_as_hours }}` -> '6,692.2'."""
    if value is None or value == "":
        return formatting.EMPTY
    return formatting.format_number(float(value) / 3600, formatting.GPU_HOURS_DECIMALS)


@register.filter
def percent(value, digits=formatting.PERCENT_DECIMALS):
    """A share as a percent: `{{ 0.2345|percent }}` -> '23.5%'."""
    return formatting.format_percent(value, int(digits))


@register.filter
def delayed(project, policy):
    """Not started the policy's days after its planned start: `{{ project|delayed:policy }}`."""
    return project.is_delayed(flag_days=policy.delay_flag_days)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def due_date(month, policy):
    """The month's report due date under the policy: `{{ month|due_date:policy }}`."""
    return months.due_date(month, policy.report_due_day)


@register.filter
def calendar_level(row, value):
    return row.level(value)


@register.filter
def ratio_percent(value):
    """'0.2345' (a share stored as text in evidence) as '23.5%', like every other share."""
    return formatting.format_percent(value)


SOURCE_LABELS = {
    "reserve": gettext_lazy("reserve"),
    "idle": gettext_lazy("idle"),
    "free": gettext_lazy("free"),
}


@register.filter
def source_label(value):
    return SOURCE_LABELS.get(value, value)


@register.filter
def moment(value) -> str:
    """A point in time, written one way on every page: `YYYY-MM-DD HH:MM` in Asia/Seoul."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@register.filter
def end_moment(value) -> str:
    """The end of a period that runs up to (not including) `value`: a midnight end is written as
    24:00 of the last day, so a loan "until 2026-09-30" reads as it was asked for."""
    if not value:
        return ""
    local = timezone.localtime(value)
    if local.time() == dt.time.min:
        return f"{(local - dt.timedelta(days=1)).strftime('%Y-%m-%d')} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


@register.filter
def stored_text(value):
    """A text the portal stored (a message, or a string of its catalog) in the reader's language."""
    return render(value)
