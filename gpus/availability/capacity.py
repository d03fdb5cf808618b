"""Capacity at a moment, per pool and cluster: what is awarded, used, idle, suspended, in the MSIT
reserve, free, lent, in maintenance and lendable."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from allocation_portal.kept import kept

from ..models import (
    AllocationGpu,
    Cluster,
    Gpu,
    HolderKind,
    Layer,
    Pool,
    PoolKind,
    ServerStatus,
)
from .periods import day_start, programme_pool

# --- Capacity at a moment ------------------------------------------------------------------------


@dataclass
class Capacity:
    """GPUs at one moment.

    total = awarded + suspended + reserve + free. Of the awarded, `held_started` are used by
    started projects and `idle` are not (projects that have not started). `lendable` are in
    service, in a programme's pool, and used by nobody."""

    total: int = 0
    awarded: int = 0
    held_started: int = 0
    idle: int = 0
    suspended: int = 0
    reserve: int = 0
    free: int = 0
    maintenance: int = 0
    on_loan: int = 0
    lendable: int = 0

    def add(self, other: Capacity) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ClusterCapacity:
    cluster: Cluster
    capacity: Capacity
    pool: Pool


@dataclass
class CapacityReport:
    at: dt.datetime
    clusters: list[ClusterCapacity]
    totals: Capacity = field(default_factory=Capacity)
    pools: list[Pool] = field(default_factory=list)

    @property
    def programme_pool(self) -> Pool | None:
        """The same pool as `programme_pool()`, from the pools this report read."""
        programmes = [p for p in self.pools if p.kind == PoolKind.PROGRAMME]
        programmes.sort(key=lambda p: p.code)
        programmes.sort(key=lambda p: p.opens_on or dt.date.min, reverse=True)
        return programmes[0] if programmes else None

    def by_provider(self) -> list[tuple]:
        providers: dict[int, tuple] = {}
        for row in self.clusters:
            provider = row.cluster.provider
            if provider.pk not in providers:
                providers[provider.pk] = (provider, Capacity(), [])
            providers[provider.pk][1].add(row.capacity)
            providers[provider.pk][2].append(row)
        return list(providers.values())

    def by_model(self) -> list[tuple[str, Capacity]]:
        models: dict[str, Capacity] = {}
        for row in self.clusters:
            models.setdefault(row.cluster.gpu_model, Capacity()).add(row.capacity)
        return sorted(models.items())

    def by_pool(self) -> list[tuple[Pool, Capacity, list[ClusterCapacity]]]:
        pools: dict[int, tuple[Pool, Capacity, list[ClusterCapacity]]] = {}
        for row in self.clusters:
            if row.pool.pk not in pools:
                pools[row.pool.pk] = (row.pool, Capacity(), [])
            pools[row.pool.pk][1].add(row.capacity)
            pools[row.pool.pk][2].append(row)
        return sorted(pools.values(), key=lambda item: (item[0].kind != PoolKind.PROGRAMME, item[0].code))

    def only(self, pool: Pool | None) -> CapacityReport:
        """The same report for one pool (empty without one)."""
        report = CapacityReport(at=self.at, clusters=[row for row in self.clusters if pool and row.pool.pk == pool.pk],
                                pools=[pool] if pool else [])
        for row in report.clusters:
            report.totals.add(row.capacity)
        return report


def capacity_at(at: dt.datetime | dt.date | None = None) -> CapacityReport:
    """Capacity per pool and cluster at a moment (a date means its start in KST). Four queries."""
    if at is None:
        at = timezone.now()
    elif isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = day_start(at)
    clusters = {c.pk: c for c in Cluster.objects.select_related("provider")}
    pools = {p.pk: p for p in Pool.objects.all()}
    per: dict[tuple[int, int], Capacity] = defaultdict(Capacity)

    for gpus in Gpu.objects.values("server__pool_id", "server__cluster_id", "server__status").annotate(n=Count("id")).order_by():
        cap = per[(gpus["server__pool_id"], gpus["server__cluster_id"])]
        cap.total += gpus["n"]
        if gpus["server__status"] == ServerStatus.MAINTENANCE:
            cap.maintenance += gpus["n"]
        elif pools[gpus["server__pool_id"]].kind == PoolKind.PROGRAMME:
            cap.lendable += gpus["n"]

    # One row per GPU held at `at` in either layer, classified in SQL and counted per pool and cluster.
    held = (
        AllocationGpu.objects.filter(period__contains=at)
        .values("gpu__server__pool_id", "gpu__server__cluster_id", "gpu__server__status", "layer", "allocation__holder_kind")
        .annotate(n=Count("id"), used=Count("id", filter=Q(occupied__contains=at)))
        .order_by()
    )
    for holding in held:
        key = (holding["gpu__server__pool_id"], holding["gpu__server__cluster_id"])
        cap = per[key]
        n, used = holding["n"], holding["used"]
        if holding["layer"] == Layer.LOAN:
            cap.on_loan += n
        elif holding["allocation__holder_kind"] == HolderKind.RESERVE:
            cap.reserve += n
        elif holding["allocation__holder_kind"] == HolderKind.SUSPENDED:
            cap.suspended += n
        else:
            cap.awarded += n
            cap.held_started += used
            cap.idle += n - used
        if holding["gpu__server__status"] != ServerStatus.MAINTENANCE and pools[key[0]].kind == PoolKind.PROGRAMME:
            cap.lendable -= used
    for cap in per.values():
        cap.free = cap.total - cap.awarded - cap.suspended - cap.reserve
        cap.lendable = max(cap.lendable, 0)

    rows = [
        ClusterCapacity(clusters[cluster_id], per[(pool_id, cluster_id)], pools[pool_id])
        for pool_id, cluster_id in sorted(per, key=lambda k: (pools[k[0]].kind != PoolKind.PROGRAMME, pools[k[0]].code,
                                                              clusters[k[1]].provider.code, clusters[k[1]].code))
    ]
    report = CapacityReport(at=at, clusters=rows, pools=list(pools.values()))
    for cluster_row in report.clusters:
        report.totals.add(cluster_row.capacity)
    return report


# How long capacity now is kept: at most ten minutes behind the clock (a period may begin or end
# without a write); its `at` says when it was computed. A day's capacity changes only with a write.
CAPACITY_NOW_SECONDS = 600
CAPACITY_DAY_SECONDS = 24 * 3600


def kept_capacity_at(day: dt.date | None = None) -> CapacityReport:
    """capacity_at the start of `day` (KST), or now, kept (allocation_portal.kept) under the change
    number: one query when kept."""
    if day is not None:
        return kept(f"capacity:{day:%Y-%m-%d}", lambda: capacity_at(day), seconds=CAPACITY_DAY_SECONDS)[0]
    return kept("capacity:now", capacity_at, seconds=CAPACITY_NOW_SECONDS)[0]


def programme_capacity(at: dt.datetime | dt.date | None = None) -> CapacityReport:
    """Capacity of the programme's own pool only (four queries)."""
    report = capacity_at(at)
    return report.only(report.programme_pool)




# --- The programme's capacity over time ----------------------------------------------------------

CAPACITY_SERIES_SQL = """
WITH held AS MATERIALIZED (  -- the pool's held GPUs, one row per (layer, holder kind, period, use): a few thousand
    SELECT h.layer, a.holder_kind, h.period, h.occupied, COUNT(*) AS n
      FROM gpus_allocationgpu h
      JOIN gpus_gpu g ON g.id = h.gpu_id
      JOIN gpus_server s ON s.id = g.server_id AND s.pool_id = %(pool)s
      JOIN gpus_allocation a ON a.id = h.allocation_id
     GROUP BY 1, 2, 3, 4
)
SELECT t.at, held.layer, held.holder_kind, SUM(held.n)::int,
       COALESCE(SUM(held.n) FILTER (WHERE held.occupied @> t.at), 0)::int
  FROM unnest(%(ats)s::timestamptz[]) AS t(at)
  JOIN held ON held.period @> t.at
 GROUP BY t.at, held.layer, held.holder_kind
"""


def programme_capacity_series(moments: list[dt.datetime]) -> list[tuple[dt.datetime, Capacity]]:
    """The programme pool's GPUs at each moment: held by started projects, idle (awarded to projects
    that have not started), suspended, MSIT reserve, free, and of these on loan. Three queries
    however many moments (the pool, its GPUs, one pass over the ledger); the pool's GPUs are
    today's inventory (servers are not added to a pool back in time)."""
    pool = programme_pool()
    if pool is None or not moments:
        return [(at, Capacity()) for at in moments]
    total = Gpu.objects.filter(server__pool=pool).count()
    series = {at: Capacity(total=total) for at in moments}
    with connection.cursor() as cursor:
        cursor.execute(CAPACITY_SERIES_SQL, {"ats": list(moments), "pool": pool.pk})
        for at, layer, holder_kind, n, used in cursor.fetchall():
            cap = series[at]  # the same instant (aware datetimes compare and hash by instant)
            if layer == Layer.LOAN:
                cap.on_loan += n
            elif holder_kind == HolderKind.RESERVE:
                cap.reserve += n
            elif holder_kind == HolderKind.SUSPENDED:
                cap.suspended += n
            else:
                cap.awarded += n
                cap.held_started += used
                cap.idle += n - used
    for cap in series.values():
        cap.free = cap.total - cap.awarded - cap.suspended - cap.reserve
    return list(series.items())
