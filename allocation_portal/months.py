"""Calendar months in Korea Standard Time: the unit of plans, reports and checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from .dates import DateInvalid, parse_month

REPORT_DUE_DAY = 5  # the policy's default: a month's report is due on the 5th of the next month (KST)


def first_day(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month(month: dt.date) -> dt.date:
    return add_months(first_day(month), 1)


def months_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every month from `first`'s month to `last`'s month, inclusive."""
    month, last = first_day(first), first_day(last)
    while month <= last:
        yield month
        month = next_month(month)


def start_of(month: dt.date) -> dt.datetime:
    """Midnight KST on the first day of the month."""
    return timezone.make_aware(dt.datetime.combine(first_day(month), dt.time.min), timezone.get_default_timezone())


def bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return start_of(month), start_of(next_month(month))


def hours_in(month: dt.date) -> int:
    start, end = bounds(month)
    return int((end - start).total_seconds() // 3600)


def current() -> dt.date:
    return first_day(timezone.localdate())


def due_date(month: dt.date, due_day: int | None = None) -> dt.date:
    """The day a month's report is due: `due_day` (the policy's) of the next month."""
    return next_month(month).replace(day=due_day or REPORT_DUE_DAY)


def parse(value: str) -> dt.date | None:
    """'YYYY-MM' within the portal's bounds (allocation_portal.dates), or None."""
    try:
        return parse_month(value or "")
    except DateInvalid:
        return None


def label(month: dt.date) -> str:
    return f"{month:%Y-%m}"
