"""Periods, the sources of lendable GPUs, and the programme's pool: the words the other modules use."""

from __future__ import annotations

import datetime as dt

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from ..models import (
    Pool,
    PoolKind,
)

IDLE, RESERVE, FREE = "idle", "reserve", "free"
# The order in which a programme lends its capacity.
SOURCE_ORDER = {IDLE: 0, RESERVE: 1, FREE: 2}


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Asia/Seoul: ledger periods are compared at the start of a KST day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def period(starts_at: dt.datetime, ends_at: dt.datetime | None) -> DateTimeTZRange:
    """[starts_at, ends_at): half open, as every period of the ledger (no end: for ever)."""
    return DateTimeTZRange(starts_at, ends_at, "[)")


PROGRAMME_ORDER = ("-opens_on", "code")


def programme_pool() -> Pool | None:
    """The pool of the programme that lends its idle GPUs now (the 2026 national AI projects)."""
    return Pool.objects.filter(kind=PoolKind.PROGRAMME).order_by(*PROGRAMME_ORDER).first()


