"""Labels of the board's statuses and flags, in the reader's language."""

from django import template

from allocation_portal import months

from ..selectors import FLAG_LABELS, STATUS_LABELS, VERSION_EVENT_LABELS
from ..services.uploads import COLUMN_LABELS

register = template.Library()


@register.filter
def status_label(value):
    return STATUS_LABELS.get(value, value)


@register.filter
def flag_label(value):
    return FLAG_LABELS.get(value, value)


@register.filter
def version_event_label(value):
    return VERSION_EVENT_LABELS.get(value, value)


@register.filter
def join_months(values):
    """Months as the portal writes them (2026-07, 2026-08)."""
    return ", ".join(months.label(value) for value in values)


@register.filter
def upload_column(name):
    """An upload column's name in the reader's language (the file's own Korean header in Korean);
    empty for an error of the row as a whole (never a field's internal name)."""
    label = COLUMN_LABELS.get(name)
    return str(label) if label is not None else ""
