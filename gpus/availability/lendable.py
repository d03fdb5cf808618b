"""Which GPUs are lendable for one period, where they come from (idle, reserve, free), which servers
a project can be given, and the idle calendar: SQL over the used periods of the ledger."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from ..models import (
    GPUS_PER_SERVER,
    AllocationGpu,
    Cluster,
    Gpu,
    HolderKind,
    Layer,
    Pool,
    Server,
    ServerStatus,
)
from .periods import FREE, IDLE, RESERVE, SOURCE_ORDER, day_start, period, programme_pool

# --- One period, in SQL ------------------------------------------------------------------------

LENDABLE_SQL = """
SELECT g.id, g.server_id
  FROM gpus_gpu g
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
 WHERE c.gpu_model = %(model)s AND s.status = 'in_service' AND s.pool_id = %(pool)s
   AND NOT EXISTS (
       SELECT 1 FROM gpus_allocationgpu h
        WHERE h.gpu_id = g.id AND h.occupied && tstzrange(%(lo)s, %(hi)s, '[)')
          AND NOT (h.allocation_id = ANY(%(ignore)s)))
 ORDER BY g.server_id, g.index
"""

# What holds each server in the award layer during the window, where that matters for lending:
# a project that has not started (recall risk from its expected start), or the MSIT reserve.
SOURCES_SQL = """
SELECT DISTINCT g.server_id, a.holder_kind, p.code, COALESCE(p.expected_start, p.planned_start)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
  JOIN gpus_allocation a ON a.id = h.allocation_id
  LEFT JOIN projects_project p ON p.id = a.project_id
 WHERE h.layer = 'award' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
   AND c.gpu_model = %(model)s AND s.pool_id = %(pool)s
   AND (a.holder_kind = 'reserve' OR (a.holder_kind = 'project' AND p.actual_start IS NULL))
   AND (%(servers)s::bigint[] IS NULL OR g.server_id = ANY(%(servers)s::bigint[]))
"""


@dataclass
class ServerOffer:
    """A server's GPUs that are lendable for the whole period, with where they come from."""

    server_id: int
    hostname: str
    cluster: Cluster
    gpu_ids: list[int]
    recall_risk: list[tuple[str, dt.date]] = field(default_factory=list)
    reserve: bool = False

    @property
    def whole(self) -> bool:
        return len(self.gpu_ids) == GPUS_PER_SERVER

    @property
    def risk_from(self) -> dt.date | None:
        return min((d for _code, d in self.recall_risk), default=None)

    @property
    def source(self) -> str:
        return IDLE if self.recall_risk else RESERVE if self.reserve else FREE

    def preference(self) -> tuple:
        """Idle GPUs first (the project expected to start latest first), then the reserve, then free."""
        risk = self.risk_from
        return (SOURCE_ORDER[self.source], -risk.toordinal() if risk else 0)


def _sources(cursor, *, model: str, pool_id: int, lo, hi, servers=None):
    risks: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
    reserve: set[int] = set()
    cursor.execute(SOURCES_SQL, {"model": model, "pool": pool_id, "lo": lo, "hi": hi, "servers": servers})
    for server_id, holder, code, start in cursor.fetchall():
        if holder == HolderKind.RESERVE:
            reserve.add(server_id)
        else:
            risks[server_id].append((code, start))
    return risks, reserve


def lendable_servers(gpu_model: str, starts_at: dt.datetime, ends_at: dt.datetime, *, pool: Pool | None = None,
                     ignore_allocations=()) -> list[ServerOffer]:
    """Servers of the programme's pool with GPUs lendable for all of [starts_at, ends_at), with
    their source and recall risk. Three queries (four without `pool`)."""
    pool = pool or programme_pool()
    if pool is None:
        return []
    params: dict[str, Any] = {"model": gpu_model, "pool": pool.pk, "lo": starts_at, "hi": ends_at,
                              "ignore": list(ignore_allocations) or [0]}
    with connection.cursor() as cursor:
        cursor.execute(LENDABLE_SQL, params)
        rows = cursor.fetchall()
        by_server: dict[int, list[int]] = defaultdict(list)
        for gpu_id, server_id in rows:
            by_server[server_id].append(gpu_id)
        if not by_server:
            return []
        risks, reserve = _sources(cursor, model=gpu_model, pool_id=pool.pk, lo=starts_at, hi=ends_at,
                                  servers=list(by_server))
    servers = {s.pk: s for s in Server.objects.filter(pk__in=by_server).select_related("cluster__provider")}
    return [
        ServerOffer(server_id=sid, hostname=servers[sid].hostname, cluster=servers[sid].cluster, gpu_ids=gpu_ids,
                    recall_risk=sorted(risks.get(sid, [])), reserve=sid in reserve)
        for sid, gpu_ids in by_server.items()
    ]


def unlendable(gpu_ids, gpu_model: str, starts_at, ends_at, *, pool: Pool | None = None, ignore_allocations=()) -> set[int]:
    """Those of `gpu_ids` that are not lendable for the whole period."""
    offers = lendable_servers(gpu_model, starts_at, ends_at, pool=pool, ignore_allocations=ignore_allocations)
    return set(gpu_ids) - {gpu_id for offer in offers for gpu_id in offer.gpu_ids}


def servers_free_for_award(*, pool: Pool, cluster: Cluster, starts_at: dt.datetime, ends_at: dt.datetime,
                           in_use_from: dt.datetime | None = None):
    """In-service servers of `cluster` in `pool` that nobody holds in the award layer during the
    period and, for a started project (`in_use_from`), that nobody uses from then to the end."""
    # NOT IN over the busy servers' ids: one hashed subplan, fast whatever the table statistics.
    busy = AllocationGpu.objects.filter(
        gpu__server__cluster=cluster, layer=Layer.AWARD, period__overlap=period(starts_at, ends_at)
    ).values("gpu__server_id")
    servers = Server.objects.filter(cluster=cluster, pool=pool, status=ServerStatus.IN_SERVICE).exclude(pk__in=busy)
    if in_use_from is not None and in_use_from < ends_at:
        used = AllocationGpu.objects.filter(
            gpu__server__cluster=cluster, occupied__overlap=period(in_use_from, ends_at)
        ).values("gpu__server_id")
        servers = servers.exclude(pk__in=used)
    return servers.order_by("hostname")


def servers_for_projects(pool: Pool, starts_at, ends_at, *, exclude_gpus=frozenset()) -> list[tuple[Server, str]]:
    """Whole in-service servers of the pool that a project could be given for the period: nobody but
    the MSIT reserve holds them in the award layer, and nobody uses them. The reserve first (that is
    what reclaimed servers are for), then the pool's free servers. Returns (server, source)."""
    rows = AllocationGpu.objects.filter(gpu__server__pool=pool).filter(
        Q(period__overlap=period(starts_at, ends_at), layer=Layer.AWARD) | Q(occupied__overlap=period(starts_at, ends_at))
    ).values_list("gpu__server_id", "layer", "allocation__holder_kind")
    blocked, reserve = set(), set()
    for server_id, layer, holder in rows.distinct():
        if layer == Layer.AWARD and holder == HolderKind.RESERVE:
            reserve.add(server_id)
        else:
            blocked.add(server_id)
    excluded = set(Gpu.objects.filter(pk__in=exclude_gpus).values_list("server_id", flat=True)) if exclude_gpus else set()
    candidates = (
        Server.objects.filter(pool=pool, status=ServerStatus.IN_SERVICE)
        .exclude(pk__in=blocked | excluded)
        .select_related("cluster")
    )
    found = [(s, RESERVE if s.pk in reserve else FREE) for s in candidates]
    return sorted(found, key=lambda pair: (SOURCE_ORDER[pair[1]], pair[0].cluster.code, pair[0].hostname))


# --- The idle calendar ---------------------------------------------------------------------------

# Per GPU of the pool, the intervals it is not lendable: used, or idle but expected back by its
# project from that project's expected (or planned) start.
UNAVAILABLE_SQL = """
SELECT s.cluster_id, h.gpu_id, s.status, lower(h.occupied), upper(h.occupied)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
 WHERE s.pool_id = %(pool)s AND h.occupied && tstzrange(%(lo)s, %(hi)s, '[)')
UNION ALL
SELECT s.cluster_id, h.gpu_id, s.status,
       GREATEST(lower(h.period), COALESCE(p.expected_start, p.planned_start)::timestamp AT TIME ZONE %(tz)s),
       upper(h.period)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_allocation a ON a.id = h.allocation_id
  JOIN projects_project p ON p.id = a.project_id
 WHERE s.pool_id = %(pool)s AND h.layer = 'award' AND a.holder_kind = 'project' AND p.actual_start IS NULL
   AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
"""


def unavailable_by_week(pool: Pool, week_starts: list[dt.date]) -> tuple[dict[int, int], dict[tuple[int, int], set[int]]]:
    """In-service GPUs per cluster of the pool, and per (cluster, week index) the GPUs not lendable
    for that whole week. Two queries."""
    in_service: dict[int, int] = defaultdict(int)
    for cluster_id, count in (
        Gpu.objects.filter(server__status=ServerStatus.IN_SERVICE, server__pool=pool)
        .values_list("server__cluster_id").annotate(n=Count("id")).order_by()
    ):
        in_service[cluster_id] = count
    bounds = [(day_start(w), day_start(w + dt.timedelta(days=7))) for w in week_starts]
    busy: dict[tuple[int, int], set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(UNAVAILABLE_SQL, {"pool": pool.pk, "lo": bounds[0][0], "hi": bounds[-1][1],
                                         "tz": str(timezone.get_default_timezone())})
        for cluster_id, gpu_id, status, start, end in cursor.fetchall():
            if status != ServerStatus.IN_SERVICE or start is None or end is None or start >= end:
                continue
            for index, (week_lo, week_hi) in enumerate(bounds):
                if start < week_hi and end > week_lo:
                    busy[(cluster_id, index)].add(gpu_id)
    return in_service, busy


