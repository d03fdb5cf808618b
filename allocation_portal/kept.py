"""Figures kept between requests, and the one number that says when they are out of date.

PostgreSQL keeps a sequence, portal_change_seq. Each app puts a trigger on its own tables whose rows
figures are computed from (`watch`, in a migration): at the commit of any transaction that inserted,
changed or deleted such rows, the sequence moves on. A figure kept under the number read before it
was computed (`kept`) is read back only while the number has not moved, and for at most the seconds
its caller allows (figures of "now" also age with the clock). A sequence never locks, so writers
never wait on each other for it, and the triggers run at commit (deferred), so a reader never sees
the new number before the data it announces, except in the instant between the trigger and the
commit itself: the caller's seconds bound that.

The cache is Django's (Redis in production); keys carry the database's name and OID, so test
workers, a database made again and the benchmark's database sharing one Redis never read each
other's figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

CREATE = """
CREATE SEQUENCE IF NOT EXISTS portal_change_seq;
CREATE OR REPLACE FUNCTION portal_changed() RETURNS trigger AS $$
BEGIN
    PERFORM nextval('portal_change_seq');
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
DROP = "DROP FUNCTION IF EXISTS portal_changed(); DROP SEQUENCE IF EXISTS portal_change_seq;"


def watch(tables: list[str]) -> str:
    """SQL for a migration: the change number moves on at the commit of any write to `tables`."""
    return "\n".join(
        f"CREATE CONSTRAINT TRIGGER portal_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_changed();"
        for table in tables
    )


def unwatch(tables: list[str]) -> str:
    return "\n".join(f"DROP TRIGGER IF EXISTS portal_changed ON {table};" for table in tables)


def change_number() -> str:
    """The sequence's value, with the database's own identity (its OID: a database made again under
    the same name, whose sequence starts again, never reads the figures kept for the old one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), last_value "
                       "FROM portal_change_seq")
        database, number = cursor.fetchone()
        return f"{database}:{number}"


def kept(name: str, compute: Callable[[], Any], *, seconds: int, now: dt.datetime | None = None) -> tuple[Any, dt.datetime]:
    """(value, as of): what `compute()` gave at most `seconds` ago and before any write since; else
    computed now and kept. One query (the change number) when kept."""
    now = now or timezone.now()
    key = f"kept:{connection.settings_dict['NAME']}:{name}:{change_number()}"
    found = cache.get(key)
    if found is not None and dt.timedelta(0) <= now - found[1] < dt.timedelta(seconds=seconds):
        return found
    value = (compute(), now)
    cache.set(key, value, seconds)
    return value
