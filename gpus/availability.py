"""The one place that answers which GPUs are free, idle, lendable, or at recall risk for a period.

The words (DOMAIN.md), as the ledger records them:

- A GPU is *used* while a loan holds it, while a started project holds it (from the moment it took
  the GPU over: its start, or the end of a loan that still held the GPU then), or while it is
  suspended. `AllocationGpu.occupied` is that used period, and the database refuses two users of
  one GPU at overlapping times (`gpu_never_used_twice`), whatever the layer.
- *Idle*: awarded to a project that has not started. Lendable, at risk of recall (with notice) when
  the project starts.
- *Reserve*: held by the MSIT reserve (reclaimed servers). Lendable without recall risk, and
  redistributable to projects.
- *Free*: in a pool, held by nobody in the award layer.
- *Lendable for a period*: in service, in the programme's pool, and used by nobody at any moment of
  the period. A programme lends and redistributes only within its own pool: idle servers of projects
  that have not started first, then the MSIT reserve, then the pool's free servers.

Capacity, the lending pages, loan approvals and redistribution all ask here, so the answer is
written once, in SQL for one period and in an in-memory index for many periods at once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Count, Q
from django.utils import timezone

from .models import (
    GPUS_PER_SERVER,
    AllocationGpu,
    Cluster,
    Gpu,
    HolderKind,
    Layer,
    Pool,
    PoolKind,
    Server,
    ServerStatus,
)

IDLE, RESERVE, FREE = "idle", "reserve", "free"
# The order in which a programme lends its capacity.
SOURCE_ORDER = {IDLE: 0, RESERVE: 1, FREE: 2}


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Asia/Seoul: ledger periods are compared at the start of a KST day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def period(starts_at: dt.datetime, ends_at: dt.datetime) -> DateTimeTZRange:
    return DateTimeTZRange(starts_at, ends_at, "[)")


PROGRAMME_ORDER = ("-opens_on", "code")


def programme_pool() -> Pool | None:
    """The pool of the programme that lends its idle GPUs now (the 2026 national AI projects)."""
    return Pool.objects.filter(kind=PoolKind.PROGRAMME).order_by(*PROGRAMME_ORDER).first()


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
    params = {"model": gpu_model, "pool": pool.pk, "lo": starts_at, "hi": ends_at,
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
    pool: Pool | None = None


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
        pools: dict[int, tuple] = {}
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

    for row in Gpu.objects.values("server__pool_id", "server__cluster_id", "server__status").annotate(n=Count("id")).order_by():
        cap = per[(row["server__pool_id"], row["server__cluster_id"])]
        cap.total += row["n"]
        if row["server__status"] == ServerStatus.MAINTENANCE:
            cap.maintenance += row["n"]
        elif pools[row["server__pool_id"]].kind == PoolKind.PROGRAMME:
            cap.lendable += row["n"]

    # One row per GPU held at `at` in either layer, classified in SQL and counted per pool and cluster.
    held = (
        AllocationGpu.objects.filter(period__contains=at)
        .values("gpu__server__pool_id", "gpu__server__cluster_id", "gpu__server__status", "layer", "allocation__holder_kind")
        .annotate(n=Count("id"), used=Count("id", filter=Q(occupied__contains=at)))
        .order_by()
    )
    for row in held:
        key = (row["gpu__server__pool_id"], row["gpu__server__cluster_id"])
        cap = per[key]
        n, used = row["n"], row["used"]
        if row["layer"] == Layer.LOAN:
            cap.on_loan += n
        elif row["allocation__holder_kind"] == HolderKind.RESERVE:
            cap.reserve += n
        elif row["allocation__holder_kind"] == HolderKind.SUSPENDED:
            cap.suspended += n
        else:
            cap.awarded += n
            cap.held_started += used
            cap.idle += n - used
        if row["gpu__server__status"] != ServerStatus.MAINTENANCE and pools[key[0]].kind == PoolKind.PROGRAMME:
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
    for row in report.clusters:
        report.totals.add(row.capacity)
    return report


def programme_capacity(at: dt.datetime | dt.date | None = None) -> CapacityReport:
    """Capacity of the programme's own pool only (four queries)."""
    report = capacity_at(at)
    return report.only(report.programme_pool)


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


# --- Many periods at once, in memory -------------------------------------------------------------

BLOCKING_SQL = """
SELECT h.gpu_id, lower(h.occupied), upper(h.occupied)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
 WHERE c.gpu_model = %(model)s AND s.status = 'in_service' AND s.pool_id = %(pool)s
   AND h.occupied && tstzrange(%(lo)s, %(hi)s, '[)')
"""


class LendingIndex:
    """Lendable GPUs of one model and pool for many requests at once, in memory (five queries).

    Built for one window that covers all the requests. Servers nobody uses in the window ("clean")
    are offered without checking; the others keep, per day of the window, a bitmask of the slots
    free all that day, with a sparse table so any run of days is checked in constant time. A day
    touched by a use counts as busy, so the index may pass over a GPU free for part of a day but
    never offers a used one (and every approval re-checks in the database anyway). `claim` records
    GPUs proposed in this round, so no GPU is proposed twice for overlapping time."""

    def __init__(self, gpu_model: str, lo: dt.datetime, hi: dt.datetime, *, pool: Pool):
        self.gpu_model = gpu_model
        self.lo, self.hi = lo, hi
        self.tz = timezone.get_default_timezone()
        self.day0 = lo.astimezone(self.tz).date()
        self.days = (hi.astimezone(self.tz).date() - self.day0).days + 1
        clusters = {c.pk: c for c in Cluster.objects.select_related("provider").filter(gpu_model=gpu_model)}
        self.gpus: dict[int, list[int]] = defaultdict(list)
        for gpu_id, server_id in (
            Gpu.objects.filter(server__status=ServerStatus.IN_SERVICE, server__cluster__gpu_model=gpu_model, server__pool=pool)
            .order_by("server_id", "index").values_list("id", "server_id")
        ):
            self.gpus[server_id].append(gpu_id)
        self.servers = {
            sid: (hostname, clusters[cid])
            for sid, hostname, cid in Server.objects.filter(pk__in=self.gpus).values_list("id", "hostname", "cluster_id")
        }
        self.server_of = {g: sid for sid, gpus in self.gpus.items() for g in gpus}
        self.blocks: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        with connection.cursor() as cursor:
            cursor.execute(BLOCKING_SQL, {"model": gpu_model, "pool": pool.pk, "lo": lo, "hi": hi})
            for gpu_id, start, end in cursor.fetchall():
                self.blocks[gpu_id].append((start, end))
            self.risk, self.reserve = _sources(cursor, model=gpu_model, pool_id=pool.pk, lo=lo, hi=hi)
        blocked = {self.server_of[g] for g in self.blocks if g in self.server_of}
        self.tables: dict[int, list[list[int]]] = {}
        self.dirty: list[int] = []
        for sid in sorted(blocked):
            self._build(sid)
        self.clean = sorted(
            (sid for sid in self.gpus if sid not in blocked),
            key=lambda sid: (self._offer(sid, []).preference(), self.servers[sid][1].code, self.servers[sid][0]),
        )
        self.clean_taken: set[int] = set()

    def _day(self, moment: dt.datetime) -> int:
        return (moment.astimezone(self.tz).date() - self.day0).days

    def _span(self, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
        """The window's days touched by [start, end)."""
        first = max(self._day(max(start, self.lo)), 0)
        last = min(self._day(min(end, self.hi) - dt.timedelta(microseconds=1)), self.days - 1)
        return first, last

    def _build(self, sid: int) -> None:
        full = (1 << len(self.gpus[sid])) - 1
        masks = [full] * self.days
        for slot, gpu_id in enumerate(self.gpus[sid]):
            busy = [0] * (self.days + 1)
            for start, end in self.blocks.get(gpu_id, ()):
                if start < self.hi and end > self.lo:
                    first, last = self._span(start, end)
                    if first <= last:
                        busy[first] += 1
                        busy[last + 1] -= 1
            running, bit = 0, ~(1 << slot)
            for day in range(self.days):
                running += busy[day]
                if running:
                    masks[day] &= bit
        if not any(masks):
            # Used every day of the window (a started project's server): never offered.
            if sid in self.tables:
                self.dirty.remove(sid)
                del self.tables[sid]
            return
        table = [masks]
        width = 1
        while width * 2 <= self.days:
            previous = table[-1]
            table.append([previous[d] & previous[d + width] for d in range(self.days - 2 * width + 1)])
            width *= 2
        if sid not in self.tables:
            self.dirty.append(sid)
        self.tables[sid] = table

    def _offer(self, sid: int, gpu_ids: list[int]) -> ServerOffer:
        hostname, cluster = self.servers[sid]
        return ServerOffer(server_id=sid, hostname=hostname, cluster=cluster, gpu_ids=gpu_ids,
                           recall_risk=sorted(self.risk.get(sid, [])), reserve=sid in self.reserve)

    def offers(self, starts_at: dt.datetime, ends_at: dt.datetime, gpu_count: int) -> list[ServerOffer]:
        """Offers for one period: enough checked servers that could serve it, and enough clean ones.
        "Enough" is a handful more than the request needs, so the proposal still has a choice."""
        first, last = self._span(starts_at, ends_at)
        level = (last - first + 1).bit_length() - 1
        right = last - (1 << level) + 1
        whole = gpu_count >= GPUS_PER_SERVER
        wanted = max(gpu_count // GPUS_PER_SERVER, 1) * 4 + 8
        found = []
        for sid in self.dirty:
            row = self.tables[sid][level]
            mask = row[first] & row[right]
            if not mask:
                continue
            gpus = self.gpus[sid]
            if whole and mask != (1 << len(gpus)) - 1:
                continue
            if not whole and mask.bit_count() < gpu_count and len(found) >= wanted:
                continue
            found.append(self._offer(sid, [g for slot, g in enumerate(gpus) if mask >> slot & 1]))
            if len(found) >= 2 * wanted:
                break
        clean = [sid for sid in self.clean if sid not in self.clean_taken][:wanted]
        found += [self._offer(sid, list(self.gpus[sid])) for sid in clean]
        return found

    def claim(self, gpu_ids: list[int], starts_at: dt.datetime, ends_at: dt.datetime) -> None:
        """GPUs proposed in this round are used for that period from now on."""
        touched = set()
        for gpu_id in gpu_ids:
            if gpu_id in self.server_of:
                self.blocks[gpu_id].append((starts_at, ends_at))
                touched.add(self.server_of[gpu_id])
        for sid in touched:
            self.clean_taken.add(sid)
            self._build(sid)
