"""The portal's one parser for dates, months and timestamps, with the portal's own bounds.

Every form field, serializer field, filter and upload row reads dates through here, so that a
year 0 or 9999, a month 13 or a time zone offset no database accepts is a clear error for the
person who typed it, never a server error in the date arithmetic behind it (a loan's end + 1 day,
the month after the last one, PostgreSQL's offset range).

The bounds leave room for that arithmetic: the latest date plus a few years is still a date.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime as _django_parse_datetime
from django.utils.translation import gettext_lazy as _

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)
# Real time zones lie between UTC-12:00 and UTC+14:00; PostgreSQL refuses larger offsets.
MAX_UTC_OFFSET = dt.timedelta(hours=14)

DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII)

MESSAGES = {
    "date": _("Give the date as YYYY-MM-DD."),
    "month": _("Give the month as YYYY-MM."),
    "datetime": _("Give the time as YYYY-MM-DDThh:mm with a time zone, for example 2026-09-01T09:00+09:00."),
    "date_range": _("Give a date between %(earliest)s and %(latest)s."),
    "month_range": _("Give a month between %(earliest_month)s and %(latest_month)s."),
    "offset": _("The time zone offset must lie between -14:00 and +14:00."),
}


class DateInvalid(ValueError):
    """A date, month or timestamp the portal does not accept; `message` says why, for people."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % bounds_labels()


def bounds_labels() -> dict[str, str]:
    return {
        "earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat(),
        "earliest_month": f"{EARLIEST:%Y-%m}", "latest_month": f"{LATEST:%Y-%m}",
    }


def check_date(day: dt.date) -> dt.date:
    if isinstance(day, dt.datetime):
        day = day.date()
    if not EARLIEST <= day <= LATEST:
        raise DateInvalid("date_range")
    return day


def check_month(month: dt.date) -> dt.date:
    if not EARLIEST <= month <= LATEST:
        raise DateInvalid("month_range")
    return month.replace(day=1)


def parse_date(value) -> dt.date:
    """'YYYY-MM-DD' (or a date) within the bounds."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return check_date(value)
    match = DATE_RE.match(str(value if value is not None else "").strip())
    if not match:
        raise DateInvalid("date")
    try:
        day = dt.date(*(int(part) for part in match.groups()))
    except ValueError as exc:  # 2026-02-30, year 0
        raise DateInvalid("date_range" if int(match.group(1)) < 1 else "date") from exc
    return check_date(day)


def parse_month(value) -> dt.date:
    """'YYYY-MM' (or a date, taken as its month) as the month's first day, within the bounds."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return check_month(value.replace(day=1))
    match = MONTH_RE.match(str(value if value is not None else "").strip())
    if not match:
        raise DateInvalid("month")
    year, month = int(match.group(1)), int(match.group(2))
    if not EARLIEST.year <= year <= LATEST.year:
        raise DateInvalid("month_range")
    return check_month(dt.date(year, month, 1))


def check_datetime(value: dt.datetime) -> dt.datetime:
    """An aware datetime within the bounds and a real offset, converted to UTC; a naive one is
    taken as KST (the portal's time zone)."""
    if timezone.is_naive(value):
        if not EARLIEST <= value.date() <= LATEST:
            raise DateInvalid("date_range")
        value = timezone.make_aware(value, timezone.get_default_timezone())
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise DateInvalid("offset")
    if not EARLIEST <= value.date() <= LATEST:
        raise DateInvalid("date_range")
    return value.astimezone(dt.UTC)


def parse_datetime(value) -> dt.datetime:
    """An ISO 8601 timestamp ('2026-09-01T09:00:00+09:00', 'Z' for UTC, no offset for KST)."""
    if isinstance(value, dt.datetime):
        return check_datetime(value)
    text = str(value if value is not None else "").strip()
    try:
        parsed = _django_parse_datetime(text)
    except ValueError as exc:  # well-formed but impossible: month 13, hour 25, year 0
        raise DateInvalid("datetime") from exc
    if parsed is None:
        raise DateInvalid("datetime")
    return check_datetime(parsed)
