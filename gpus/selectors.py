"""Reads of the inventory and the ledger. Each function runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from .models import Allocation, AllocationGpu, Cluster, Gpu, HolderKind, Layer, Server, ServerStatus


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Asia/Seoul: ledger periods are compared at the start of a KST day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


@dataclass
class Capacity:
    """GPUs of one cluster at one moment.

    total = awarded + reserve + free. `idle` are awarded to projects that have not started;
    `lendable` are in service, not borrowed, and idle, in the reserve or free."""

    total: int = 0
    awarded: int = 0
    held_started: int = 0
    idle: int = 0
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


@dataclass
class CapacityReport:
    at: dt.datetime
    clusters: list[ClusterCapacity]
    totals: Capacity = field(default_factory=Capacity)

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


def capacity_at(at: dt.datetime | dt.date | None = None) -> CapacityReport:
    """Capacity per provider and cluster at a moment (a date means its start in KST). Three queries."""
    if at is None:
        at = timezone.now()
    elif isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = day_start(at)
    local_day = timezone.localtime(at).date()
    clusters = list(Cluster.objects.select_related("provider").order_by("provider__code", "code"))
    per_cluster = {c.pk: Capacity() for c in clusters}

    for row in Gpu.objects.values("server__cluster_id", "server__status").annotate(n=Count("id")).order_by():
        cap = per_cluster[row["server__cluster_id"]]
        cap.total += row["n"]
        if row["server__status"] == ServerStatus.MAINTENANCE:
            cap.maintenance += row["n"]

    # One row per GPU held at `at` in either layer, classified in SQL and counted per cluster.
    held = (
        AllocationGpu.objects.filter(period__contains=at)
        .values(
            "gpu__server__cluster_id",
            "gpu__server__status",
            "layer",
            "allocation__holder_kind",
        )
        .annotate(
            n=Count("id"),
            started=Count("id", filter=Q(allocation__project__actual_start__lte=local_day)),
        )
        .order_by()
    )
    # Lendable = in service, minus GPUs of started projects, minus GPUs already on loan. (During a
    # recall notice a loan can sit on a started project's GPU; the floor at zero covers that.)
    unavailable = dict.fromkeys(per_cluster, 0)
    for row in held:
        cap = per_cluster[row["gpu__server__cluster_id"]]
        n = row["n"]
        in_service = row["gpu__server__status"] != ServerStatus.MAINTENANCE
        if row["layer"] == Layer.LOAN:
            cap.on_loan += n
            unavailable[row["gpu__server__cluster_id"]] += n if in_service else 0
        elif row["allocation__holder_kind"] == HolderKind.RESERVE:
            cap.reserve += n
        else:
            cap.awarded += n
            cap.held_started += row["started"]
            cap.idle += n - row["started"]
            unavailable[row["gpu__server__cluster_id"]] += row["started"] if in_service else 0
    for pk, cap in per_cluster.items():
        cap.free = cap.total - cap.awarded - cap.reserve
        cap.lendable = max(cap.total - cap.maintenance - unavailable[pk], 0)

    report = CapacityReport(at=at, clusters=[ClusterCapacity(c, per_cluster[c.pk]) for c in clusters])
    for row in report.clusters:
        report.totals.add(row.capacity)
    return report


def free_servers(*, cluster: Cluster, starts_at: dt.datetime, ends_at: dt.datetime, layer: str = Layer.AWARD):
    """In-service servers of a cluster none of whose GPUs is held in `layer` during the period."""
    period = DateTimeTZRange(starts_at, ends_at, "[)")
    # NOT IN over the busy servers' ids: one hashed subplan, fast whatever the table statistics.
    busy = AllocationGpu.objects.filter(
        gpu__server__cluster=cluster, layer=layer, period__overlap=period
    ).values("gpu__server_id")
    return (
        Server.objects.filter(cluster=cluster, status=ServerStatus.IN_SERVICE)
        .exclude(pk__in=busy)
        .order_by("hostname")
    )


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


def servers_held_by_project(project, at: dt.datetime | None = None) -> list[Server]:
    at = at or timezone.now()
    return list(
        Server.objects.filter(
            gpus__holdings__allocation__project=project,
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

# Ledger entries hold all their GPUs for one period, so GPU-hours come from the entries (a few
# rows per project) rather than from the per-GPU rows.
HOURS_BY_MONTH_SQL = MONTHS_CTE + """
SELECT a.project_id, m.month,
       SUM(a.gpu_count * EXTRACT(EPOCH FROM
           LEAST(a.ends_at, m.hi) - GREATEST(a.starts_at, m.lo, p.actual_start::timestamp AT TIME ZONE %(tz)s))) / 3600.0
  FROM gpus_allocation a
  JOIN projects_project p ON p.id = a.project_id
  JOIN months m ON a.starts_at < m.hi AND a.ends_at > m.lo
 WHERE a.layer = 'award' AND a.project_id = ANY(%(ids)s) AND p.actual_start IS NOT NULL
   AND m.hi > m.lo
   AND LEAST(a.ends_at, m.hi) > GREATEST(a.starts_at, m.lo, p.actual_start::timestamp AT TIME ZONE %(tz)s)
 GROUP BY a.project_id, m.month
"""

GPUS_BY_MONTH_SQL = MONTHS_CTE + """
SELECT a.project_id, m.month, COUNT(DISTINCT ag.gpu_id)
  FROM gpus_allocation a
  JOIN gpus_allocationgpu ag ON ag.allocation_id = a.id
  JOIN projects_project p ON p.id = a.project_id
  JOIN months m ON a.starts_at < m.hi AND a.ends_at > m.lo
 WHERE a.layer = 'award' AND a.project_id = ANY(%(ids)s) AND p.actual_start IS NOT NULL
   AND m.hi > m.lo
   AND LEAST(a.ends_at, m.hi) > GREATEST(a.starts_at, m.lo, p.actual_start::timestamp AT TIME ZONE %(tz)s)
 GROUP BY a.project_id, m.month
"""


CUMULATIVE_HOURS_SQL = """
SELECT a.project_id,
       SUM(a.gpu_count * GREATEST(EXTRACT(EPOCH FROM
           LEAST(a.ends_at, %(hi)s) - GREATEST(a.starts_at, p.actual_start::timestamp AT TIME ZONE %(tz)s)), 0)) / 3600.0,
       SUM(a.gpu_count * GREATEST(EXTRACT(EPOCH FROM
           LEAST(a.ends_at, %(hi)s) - GREATEST(a.starts_at, %(lo)s, p.actual_start::timestamp AT TIME ZONE %(tz)s)), 0)) / 3600.0
  FROM gpus_allocation a
  JOIN projects_project p ON p.id = a.project_id
 WHERE a.layer = 'award' AND a.project_id = ANY(%(ids)s) AND p.actual_start IS NOT NULL AND a.starts_at < %(hi)s
 GROUP BY a.project_id
"""


def held_hours_to(project_ids, month: dt.date, now: dt.datetime | None = None) -> dict:
    """Per project, GPU-hours held from its actual start to the end of `month` (or now), and within
    `month` alone, in one query: {project_id: (cumulative, this_month)}."""
    from decimal import Decimal

    from django.db import connection

    from allocation_portal import months

    ids = list(project_ids)
    if not ids:
        return {}
    lo, hi = months.bounds(month)
    params = {"tz": str(timezone.get_default_timezone()), "lo": lo, "hi": min(hi, now or timezone.now()), "ids": ids}
    with connection.cursor() as cursor:
        cursor.execute(CUMULATIVE_HOURS_SQL, params)
        return {
            pid: (Decimal(total or 0).quantize(Decimal("0.1")), Decimal(this or 0).quantize(Decimal("0.1")))
            for pid, total, this in cursor.fetchall()
        }


def held_by_month(project_ids, first_month: dt.date, last_month: dt.date, now: dt.datetime | None = None,
                  *, with_gpus: bool = True):
    """GPU-hours and GPUs each started project held in each month, from the ledger.

    Allocated GPU-hours of a month = GPUs held x hours held in it, counted from the project's
    actual start and, for the month under way, up to now. `gpus` is the number of distinct GPUs
    held at some time in the month (the ceiling for a report's peak); without `with_gpus` it is
    0 and only one query runs. Returns {(project_id, month): (gpu_hours: Decimal, gpus: int)}."""
    from decimal import Decimal

    from django.db import connection

    ids = list(project_ids)
    if not ids:
        return {}
    params = {
        "tz": str(timezone.get_default_timezone()),
        "now": now or timezone.now(),
        "first": dt.datetime.combine(first_month.replace(day=1), dt.time.min),
        "last": dt.datetime.combine(last_month.replace(day=1), dt.time.min),
        "ids": ids,
    }
    with connection.cursor() as cursor:
        cursor.execute(HOURS_BY_MONTH_SQL, params)
        hours = {(pid, month): Decimal(h).quantize(Decimal("0.1")) for pid, month, h in cursor.fetchall()}
        gpus = {}
        if with_gpus:
            cursor.execute(GPUS_BY_MONTH_SQL, params)
            gpus = {(pid, month): n for pid, month, n in cursor.fetchall()}
    return {key: (hours.get(key, Decimal(0)), gpus.get(key, 0)) for key in hours.keys() | gpus.keys()}
