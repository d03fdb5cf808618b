"""The ledger's side of a project's award and start: picking free servers of the project's pool for
an award (concurrent awards take different servers), and the take-over of its GPUs when it starts."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from .availability import servers_free_for_award
from .models import Gpu, Layer, Server
from .services import _conflicts, project_in_use_from


def lock_free_servers(*, project, cluster, count: int, starts_at, ends_at) -> list[Server]:
    """Lock up to `count` servers of the project's pool free for the period (and, for a started
    project, used by nobody from its start). SKIP LOCKED lets concurrent awards take different
    servers; each candidate is re-checked after its lock is held, because a rival may have committed
    a holding on it after our statement's snapshot."""
    in_use_from = project_in_use_from(project, starts_at)
    chosen: list[Server] = []
    passed_over: set[int] = set()
    while len(chosen) < count:
        candidates = list(
            servers_free_for_award(pool=project.pool, cluster=cluster, starts_at=starts_at, ends_at=ends_at,
                                   in_use_from=in_use_from)
            .exclude(pk__in=passed_over | {s.pk for s in chosen})
            .select_for_update(skip_locked=True, of=("self",))[: count - len(chosen)]
        )
        if not candidates:
            break
        gpu_ids = Gpu.objects.filter(server__in=candidates).values_list("pk", flat=True)
        busy_now = {row.gpu.server_id for row in _conflicts(list(gpu_ids), Layer.AWARD, starts_at, ends_at,
                                                            in_use_from=in_use_from)}
        chosen += [s for s in candidates if s.pk not in busy_now]
        passed_over |= busy_now
    return chosen


# Each GPU of a started project's award is used from the start, or, where a loan still held it
# then, from the end of that loan (after its recall notice): never by both at once.
TAKE_OVER_SQL = """
UPDATE gpus_allocationgpu h
   SET in_use_from = GREATEST(
         lower(h.period), %(at)s,
         COALESCE((SELECT max(upper(l.occupied)) FROM gpus_allocationgpu l
                    WHERE l.gpu_id = h.gpu_id AND l.layer = 'loan' AND NOT isempty(l.occupied)
                      AND l.occupied && tstzrange(%(at)s, upper(h.period), '[)')), %(at)s))
  FROM gpus_allocation a
 WHERE a.id = h.allocation_id AND a.project_id = %(project)s AND a.holder_kind = 'project'
   AND h.layer = 'award' AND upper(h.period) > %(at)s
"""


def project_take_over(*, project, at: dt.datetime) -> int:
    """The project has started at `at`: its awarded GPUs become used by it (not lendable). Loans on
    them must have had their recall notice first; the caller holds the project's server locks."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TAKE_OVER_SQL, {"at": at, "project": project.pk})
        return cursor.rowcount
