"""Reads of the ledger: a project's holdings and the GPU-hours it held. Each function runs a fixed
number of queries. Which GPUs are free, idle or lendable is `gpus.availability`'s question."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from allocation_portal import months

from .availability import (  # noqa: F401 - the ledger's readers import them here
    CAPACITY_DAY_SECONDS,
    CAPACITY_NOW_SECONDS,
    CapacityReport,
    capacity_at,
    day_start,
    kept_capacity_at,
)
from .models import Allocation, AllocationGpu, HolderKind, Layer, Server


def holdings_for_project(project):
    """The project's ledger history, newest first, with the servers of each entry."""
    return (
        Allocation.objects.filter(project=project)
        .select_related("cluster__provider", "created_by", "released_by", "parent")
        .prefetch_related(
            Prefetch("gpu_rows", queryset=AllocationGpu.objects.select_related("gpu__server").order_by("gpu__server__hostname", "gpu__index"))
        )
        .order_by("-starts_at", "-id")
    )


def servers_held_by_project(project, at: dt.datetime | None = None, *, holder_kinds=(HolderKind.PROJECT,)) -> list[Server]:
    """Servers the project holds at `at` (default now); with SUSPENDED in `holder_kinds`, also
    those suspended."""
    at = at or timezone.now()
    return list(
        Server.objects.filter(
            gpus__holdings__allocation__project=project,
            gpus__holdings__allocation__holder_kind__in=list(holder_kinds),
            gpus__holdings__layer=Layer.AWARD,
            gpus__holdings__period__contains=at,
        )
        .select_related("cluster")
        .distinct()
        .order_by("hostname")
    )


MONTHS_CTE = """
WITH months AS (
    SELECT d::date AS month,
           (d AT TIME ZONE %(tz)s) AS lo,
           LEAST((d + interval '1 month') AT TIME ZONE %(tz)s, %(now)s) AS hi
      FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 month') AS d
)
"""

# A project's GPU-hours are those in which it *used* its GPUs: from its start, or from the end of
# a loan that still held a GPU then, never while suspended. GPUs of one entry taken over at the same
# moment are one segment, so the sums run over a few rows per project, not one per GPU.
SEGMENTS_CTE = """
segments AS (
    SELECT a.project_id, lower(h.occupied) AS lo, upper(h.occupied) AS hi, COUNT(*) AS gpus
      FROM gpus_allocation a
      JOIN gpus_allocationgpu h ON h.allocation_id = a.id
     WHERE a.layer = 'award' AND a.holder_kind = 'project' AND a.project_id = ANY(%(ids)s)
       AND h.occupied IS NOT NULL AND NOT isempty(h.occupied)
     GROUP BY a.project_id, lower(h.occupied), upper(h.occupied)
)
"""

HOURS_BY_MONTH_SQL = MONTHS_CTE + ", " + SEGMENTS_CTE + """
SELECT s.project_id, m.month, SUM(s.gpus * EXTRACT(EPOCH FROM LEAST(s.hi, m.hi) - GREATEST(s.lo, m.lo))) / 3600.0
  FROM segments s
  JOIN months m ON s.lo < m.hi AND s.hi > m.lo
 WHERE m.hi > m.lo
 GROUP BY s.project_id, m.month
"""

GPUS_BY_MONTH_SQL = MONTHS_CTE + """
SELECT a.project_id, m.month, COUNT(DISTINCT h.gpu_id)
  FROM gpus_allocation a
  JOIN gpus_allocationgpu h ON h.allocation_id = a.id
  JOIN months m ON h.occupied && tstzrange(m.lo, m.hi, '[)')
 WHERE a.layer = 'award' AND a.holder_kind = 'project' AND a.project_id = ANY(%(ids)s) AND m.hi > m.lo
 GROUP BY a.project_id, m.month
"""

CUMULATIVE_HOURS_SQL = "WITH " + SEGMENTS_CTE + """
SELECT s.project_id,
       SUM(s.gpus * GREATEST(EXTRACT(EPOCH FROM LEAST(s.hi, %(hi)s) - s.lo), 0)) / 3600.0,
       SUM(s.gpus * GREATEST(EXTRACT(EPOCH FROM LEAST(s.hi, %(hi)s) - GREATEST(s.lo, %(lo)s)), 0)) / 3600.0
  FROM segments s
 WHERE s.lo < %(hi)s
 GROUP BY s.project_id
"""


def held_hours_to(project_ids, month: dt.date, now: dt.datetime | None = None) -> dict:
    """Per project, GPU-hours used-by-right from its start to the end of `month` (or now), and
    within `month` alone, in one query: {project_id: (cumulative, this_month)}."""
    ids = list(project_ids)
    if not ids:
        return {}
    lo, hi = months.bounds(month)
    params: dict[str, Any] = {"lo": lo, "hi": min(hi, now or timezone.now()), "ids": ids}
    with connection.cursor() as cursor:
        cursor.execute(CUMULATIVE_HOURS_SQL, params)
        return {
            pid: (Decimal(total or 0).quantize(Decimal("0.1")), Decimal(this or 0).quantize(Decimal("0.1")))
            for pid, total, this in cursor.fetchall()
        }


def held_by_month(project_ids, first_month: dt.date, last_month: dt.date, now: dt.datetime | None = None,
                  *, with_gpus: bool = True):
    """GPU-hours and GPUs each started project held in each month, from the ledger.

    Allocated GPU-hours of a month = GPUs held x hours held in it, counted while the project used
    them (from its start; not while a loan still held them, nor while suspended) and, for the
    month under way, up to now. `gpus` is the number of distinct GPUs held at some time in the
    month (the ceiling for a report's peak); without `with_gpus` it is 0 and only one query runs.
    Returns {(project_id, month): (gpu_hours: Decimal, gpus: int)}."""
    ids = list(project_ids)
    if not ids:
        return {}
    params: dict[str, Any] = {
        "tz": str(timezone.get_default_timezone()),
        "now": now or timezone.now(),
        "first": dt.datetime.combine(first_month.replace(day=1), dt.time.min),
        "last": dt.datetime.combine(last_month.replace(day=1), dt.time.min),
        "ids": ids,
    }
    with connection.cursor() as cursor:
        cursor.execute(HOURS_BY_MONTH_SQL, params)
        hours = {(pid, month): Decimal(h).quantize(Decimal("0.1")) for pid, month, h in cursor.fetchall()}
        gpus: dict[tuple[int, dt.date], int] = {}
        if with_gpus:
            cursor.execute(GPUS_BY_MONTH_SQL, params)
            gpus = {(pid, month): n for pid, month, n in cursor.fetchall()}
    return {key: (hours.get(key, Decimal(0)), gpus.get(key, 0)) for key in hours.keys() | gpus.keys()}


def suspended_periods(project, first: dt.datetime, last: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """When the project's GPUs were suspended between `first` and `last`: (from, to, GPUs)."""
    return [
        (a.starts_at, a.ends_at, a.gpu_count)
        for a in Allocation.objects.filter(
            project=project, holder_kind=HolderKind.SUSPENDED, starts_at__lt=last, ends_at__gt=first
        ).order_by("starts_at")
        if a.ends_at > a.starts_at
    ]


# --- The programme pool's GPU-hours by what the ledger says of them -----------------------------

# Every GPU-hour of a pool's ledger rows, split into what it was: of the award layer, used by a
# started project (`held_started`), awarded to a project that was not using it yet (`idle`: not
# started, or a loan still on it), `suspended`, or in the MSIT `reserve`; of the loan layer, `lent`,
# and again as `lent_from_idle` or `lent_from_reserve` by the award-layer row under the loan's GPU
# at that time (a loan on GPUs of nobody's award is lent but from neither). The GPUs of one entry
# that share a period are one piece, so the month sums run over a few rows per entry.
POOL_PIECES_CTE = """
pool_rows AS MATERIALIZED (
    SELECT h.allocation_id, h.gpu_id, h.layer, a.holder_kind, h.period, h.occupied
      FROM gpus_allocationgpu h
      JOIN gpus_allocation a ON a.id = h.allocation_id
      JOIN gpus_gpu g ON g.id = h.gpu_id
      JOIN gpus_server s ON s.id = g.server_id
     WHERE s.pool_id = %(pool)s AND lower(h.period) < %(hi)s AND upper(h.period) > %(lo)s
), pieces AS (
    SELECT allocation_id, 'held_started' AS category, occupied AS span, COUNT(*) AS gpus
      FROM pool_rows WHERE layer = 'award' AND holder_kind = 'project' AND occupied IS NOT NULL
     GROUP BY 1, 3
    UNION ALL
    SELECT allocation_id, 'idle', CASE WHEN occupied IS NULL THEN period ELSE period - occupied END, COUNT(*)
      FROM pool_rows WHERE layer = 'award' AND holder_kind = 'project'
     GROUP BY 1, 3
    UNION ALL
    SELECT allocation_id, holder_kind, period, COUNT(*)
      FROM pool_rows WHERE layer = 'award' AND holder_kind IN ('suspended', 'reserve')
     GROUP BY 1, 2, 3
    UNION ALL
    SELECT allocation_id, 'lent', period, COUNT(*) FROM pool_rows WHERE layer = 'loan' GROUP BY 1, 3
    UNION ALL
    SELECT l.allocation_id, CASE WHEN aw.holder_kind = 'reserve' THEN 'lent_from_reserve' ELSE 'lent_from_idle' END,
           l.period * aw.period, COUNT(*)
      FROM pool_rows l JOIN pool_rows aw ON aw.gpu_id = l.gpu_id AND aw.layer = 'award' AND aw.period && l.period
     WHERE l.layer = 'loan'
     GROUP BY 1, 2, 3
), month_pieces AS (
    SELECT p.allocation_id, p.category, m.month,
           p.gpus * EXTRACT(EPOCH FROM LEAST(upper(p.span), m.hi) - GREATEST(lower(p.span), m.lo)) AS seconds
      FROM pieces p JOIN months m ON lower(p.span) < m.hi AND upper(p.span) > m.lo
     WHERE NOT isempty(p.span) AND m.hi > m.lo
)
"""

POOL_HOURS_SQL = MONTHS_CTE + ", " + POOL_PIECES_CTE + """
SELECT category, month, SUM(seconds) / 3600.0 FROM month_pieces GROUP BY 1, 2
"""

POOL_HOURS_ROWS_SQL = MONTHS_CTE + ", " + POOL_PIECES_CTE + """
SELECT allocation_id, month, category, SUM(seconds) / 3600.0 FROM month_pieces WHERE category = ANY(%(categories)s)
 GROUP BY 1, 2, 3
"""

POOL_HOUR_CATEGORIES = ("held_started", "idle", "suspended", "reserve", "lent", "lent_from_idle", "lent_from_reserve")


def _pool_hours_params(pool, first_month: dt.date, last_month: dt.date, now: dt.datetime | None) -> dict[str, Any]:
    now = now or timezone.now()
    lo = months.start_of(first_month)
    return {
        "tz": str(timezone.get_default_timezone()), "now": now, "pool": pool.pk,
        "first": dt.datetime.combine(months.first_day(first_month), dt.time.min),
        "last": dt.datetime.combine(months.first_day(last_month), dt.time.min),
        "lo": lo, "hi": max(min(months.start_of(months.next_month(last_month)), now), lo),
    }


def pool_hours_by_month(pool, first_month: dt.date, last_month: dt.date, now: dt.datetime | None = None) -> dict:
    """The pool's GPU-hours per month and category (POOL_HOUR_CATEGORIES), from the ledger, the
    month under way up to now, in one query: {(category, month): Decimal}."""
    with connection.cursor() as cursor:
        cursor.execute(POOL_HOURS_SQL, _pool_hours_params(pool, first_month, last_month, now))
        return {(category, month): Decimal(h).quantize(Decimal("0.1")) for category, month, h in cursor.fetchall()}


def pool_hours_by_entry(pool, categories, first_month: dt.date, last_month: dt.date,
                        now: dt.datetime | None = None) -> dict:
    """The same GPU-hours per ledger entry, month and category, for the given categories (the rows a
    figure counts): {(allocation_id, month, category): Decimal}. One query."""
    params = {**_pool_hours_params(pool, first_month, last_month, now), "categories": list(categories)}
    with connection.cursor() as cursor:
        cursor.execute(POOL_HOURS_ROWS_SQL, params)
        return {(aid, month, category): Decimal(h) for aid, month, category, h in cursor.fetchall()}


FREED_BEFORE_SQL = """
SELECT a.loan_id, MAX(prev.freed)
  FROM gpus_allocation a
  JOIN gpus_allocationgpu h ON h.allocation_id = a.id
  CROSS JOIN LATERAL (
      SELECT MAX(upper(o.occupied)) AS freed
        FROM gpus_allocationgpu o JOIN gpus_allocation oa ON oa.id = o.allocation_id
       WHERE o.gpu_id = h.gpu_id AND o.occupied IS NOT NULL AND NOT isempty(o.occupied)
         AND o.occupied && tstzrange(NULL, lower(h.period), '[)') AND oa.loan_id IS DISTINCT FROM a.loan_id
  ) prev
 WHERE a.loan_id = ANY(%(ids)s) AND h.layer = 'loan'
 GROUP BY a.loan_id
"""


def freed_before(loan_ids) -> dict[int, dt.datetime]:
    """Per loan, when the last of its GPUs was freed by the holder that used it before the loan
    began (a project, or another loan); loans whose GPUs nobody used before are left out. One query."""
    ids = list(loan_ids)
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(FREED_BEFORE_SQL, {"ids": ids})
        return {loan_id: freed for loan_id, freed in cursor.fetchall() if freed is not None}
