"""The programme's pool ahead: who holds its GPUs at moments to come and which loans sit on the
servers of projects that have not started (they are recalled when those projects start). The
forecast (outcomes) reads the ledger here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from ..models import Pool

HOLDERS_AT_SQL = """
WITH t AS (SELECT unnest(%(ats)s::timestamptz[]) AS at),
pool_gpus AS (
    SELECT g.id FROM gpus_gpu g JOIN gpus_server s ON s.id = g.server_id
     WHERE s.pool_id = %(pool)s AND s.status = 'in_service'
), award AS (
    SELECT t.at, h.gpu_id, a.holder_kind, a.project_id
      FROM t JOIN gpus_allocationgpu h ON h.layer = 'award' AND h.period @> t.at
      JOIN gpus_allocation a ON a.id = h.allocation_id
), loan AS (
    SELECT t.at, h.gpu_id FROM t JOIN gpus_allocationgpu h ON h.layer = 'loan' AND h.period @> t.at
)
SELECT t.at, aw.holder_kind, aw.project_id, (l.gpu_id IS NOT NULL), COUNT(*)
  FROM t CROSS JOIN pool_gpus g
  LEFT JOIN award aw ON aw.at = t.at AND aw.gpu_id = g.id
  LEFT JOIN loan l ON l.at = t.at AND l.gpu_id = g.id
 GROUP BY 1, 2, 3, 4
"""

LOANS_ON_AWARDS_SQL = """
SELECT aw.project_id, l.loan_id, COUNT(DISTINCT lh.gpu_id), MAX(upper(lh.period))
  FROM gpus_allocationgpu ah
  JOIN gpus_allocation aw ON aw.id = ah.allocation_id AND aw.holder_kind = 'project'
  JOIN gpus_allocationgpu lh ON lh.gpu_id = ah.gpu_id AND lh.layer = 'loan' AND lh.period && ah.period
  JOIN gpus_allocation l ON l.id = lh.allocation_id
 WHERE ah.layer = 'award' AND aw.project_id = ANY(%(ids)s) AND upper(ah.period) > %(after)s AND upper(lh.period) > %(after)s
 GROUP BY 1, 2
"""


@dataclass(frozen=True)
class Held:
    """In-service GPUs of the pool at a moment with one award-layer holder (kind and project, or
    nobody: kind "") and whether a loan is on them."""

    holder_kind: str
    project_id: int | None
    lent: bool
    gpus: int


def pool_holders_at(pool: Pool, moments: list[dt.datetime]) -> dict[dt.datetime, list[Held]]:
    """The pool's in-service GPUs at each moment, counted by award-layer holder and loan. One query."""
    if not moments:
        return {}
    out: dict[dt.datetime, list[Held]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(HOLDERS_AT_SQL, {"ats": list(moments), "pool": pool.pk})
        for at, kind, project_id, lent, gpus in cursor.fetchall():
            out[at].append(Held(kind or "", project_id, lent, gpus))
    return {at: out.get(at, []) for at in moments}


def loans_on_awards(project_ids, after: dt.datetime) -> dict[int, list[tuple[int, int, dt.datetime]]]:
    """Per project, the loans on GPUs of its award that run past `after`: (loan id, GPUs, loan end).
    One query."""
    ids = list(project_ids)
    if not ids:
        return {}
    out: dict[int, list[tuple[int, int, dt.datetime]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(LOANS_ON_AWARDS_SQL, {"ids": ids, "after": after})
        for project_id, loan_id, gpus, end in cursor.fetchall():
            out[project_id].append((loan_id, gpus, end))
    return dict(out)
