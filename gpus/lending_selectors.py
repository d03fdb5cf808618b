"""Reads for short-term lending: which GPUs are idle for a period, the idle calendar, the ranked queue.

A GPU is lendable for a period when its server is in service, no loan holds it at any time in the
period, and no started project holds it then. GPUs awarded to a project that has not started are
lendable, with the risk of recall when that project starts (72 hours' notice)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from .models import (
    GPUS_PER_SERVER,
    Cluster,
    Gpu,
    Loan,
    LoanRequest,
    LoanState,
    Region,
    RequestState,
    Server,
    ServerStatus,
)
from .selectors import day_start

LENDABLE_SQL = """
SELECT g.id, g.server_id
  FROM gpus_gpu g
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
 WHERE c.gpu_model = %(model)s AND s.status = 'in_service'
   AND NOT EXISTS (
       SELECT 1 FROM gpus_allocationgpu h
        WHERE h.gpu_id = g.id AND h.layer = 'loan' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
          AND NOT (h.allocation_id = ANY(%(ignore)s)))
   AND NOT EXISTS (
       SELECT 1 FROM gpus_allocationgpu h
         JOIN gpus_allocation a ON a.id = h.allocation_id
         JOIN projects_project p ON p.id = a.project_id
        WHERE h.gpu_id = g.id AND h.layer = 'award' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
          AND p.actual_start IS NOT NULL)
 ORDER BY g.server_id, g.index
"""

RISK_SQL = """
SELECT DISTINCT g.server_id, p.code, COALESCE(p.expected_start, p.planned_start)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_allocation a ON a.id = h.allocation_id
  JOIN projects_project p ON p.id = a.project_id
 WHERE h.layer = 'award' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)') AND p.actual_start IS NULL
   AND g.server_id = ANY(%(servers)s)
"""


@dataclass
class ServerOffer:
    """A server's GPUs that are lendable for the whole period."""

    server_id: int
    hostname: str
    cluster: Cluster
    gpu_ids: list[int]
    recall_risk: list[tuple[str, dt.date]] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return len(self.gpu_ids) == GPUS_PER_SERVER

    @property
    def risk_from(self) -> dt.date | None:
        return min((d for _code, d in self.recall_risk), default=None)


def lendable_servers(gpu_model: str, starts_at: dt.datetime, ends_at: dt.datetime, *, ignore_allocations=()) -> list[ServerOffer]:
    """Servers with GPUs lendable for all of [starts_at, ends_at), with their recall risk. Three queries."""
    params = {"model": gpu_model, "lo": starts_at, "hi": ends_at, "ignore": list(ignore_allocations) or [0]}
    with connection.cursor() as cursor:
        cursor.execute(LENDABLE_SQL, params)
        rows = cursor.fetchall()
    by_server: dict[int, list[int]] = defaultdict(list)
    for gpu_id, server_id in rows:
        by_server[server_id].append(gpu_id)
    if not by_server:
        return []
    servers = {
        s.pk: s
        for s in Server.objects.filter(pk__in=by_server).select_related("cluster__provider")
    }
    risks: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(RISK_SQL, {"lo": starts_at, "hi": ends_at, "servers": list(by_server)})
        for server_id, code, start in cursor.fetchall():
            risks[server_id].append((code, start))
    return [
        ServerOffer(server_id=sid, hostname=servers[sid].hostname, cluster=servers[sid].cluster, gpu_ids=gpu_ids,
                    recall_risk=sorted(risks.get(sid, [])))
        for sid, gpu_ids in by_server.items()
    ]


@dataclass
class Proposal:
    """GPUs proposed for a request: per server, the GPU ids to lend."""

    picks: list[tuple[ServerOffer, list[int]]]
    gpu_count: int

    @property
    def complete(self) -> bool:
        return sum(len(ids) for _offer, ids in self.picks) == self.gpu_count

    @property
    def gpu_ids(self) -> list[int]:
        return [gpu_id for _offer, ids in self.picks for gpu_id in ids]

    @property
    def recall_risk(self) -> list[tuple[str, dt.date]]:
        return sorted({risk for offer, _ids in self.picks for risk in offer.recall_risk}, key=lambda r: r[1])


def _risk_key(offer: ServerOffer):
    # No recall risk first; otherwise the project expected to start latest.
    return (0, dt.date.min) if not offer.recall_risk else (1, -offer.risk_from.toordinal())


def propose(gpu_model: str, gpu_count: int, starts_at: dt.datetime, ends_at: dt.datetime, *, offers=None) -> Proposal:
    """Choose GPUs idle for the whole period: whole servers for whole-server requests; for 1-4 GPUs,
    one server's GPUs before spreading (the fullest server that still fits, so whole servers stay
    whole), GPUs without recall risk before those of projects that have not started."""
    offers = offers if offers is not None else lendable_servers(gpu_model, starts_at, ends_at)
    picks: list[tuple[ServerOffer, list[int]]] = []
    if gpu_count >= GPUS_PER_SERVER:
        whole = sorted((o for o in offers if o.whole), key=lambda o: (_risk_key(o), o.cluster.code, o.hostname))
        # Keep a loan on one cluster when it can be.
        by_cluster: dict[int, list[ServerOffer]] = defaultdict(list)
        for offer in whole:
            by_cluster[offer.cluster.pk].append(offer)
        needed = gpu_count // GPUS_PER_SERVER
        fitting = [group for group in by_cluster.values() if len(group) >= needed]
        chosen = (min(fitting, key=lambda g: [_risk_key(o) for o in g[:needed]])[:needed] if fitting else whole[:needed])
        picks = [(offer, list(offer.gpu_ids)) for offer in chosen]
    else:
        fits = [o for o in offers if len(o.gpu_ids) >= gpu_count]
        if fits:
            best = min(fits, key=lambda o: (_risk_key(o), len(o.gpu_ids), o.cluster.code, o.hostname))
            picks = [(best, best.gpu_ids[:gpu_count])]
        else:
            remaining = gpu_count
            for offer in sorted(offers, key=lambda o: (_risk_key(o), -len(o.gpu_ids), o.hostname)):
                take = offer.gpu_ids[:remaining]
                picks.append((offer, take))
                remaining -= len(take)
                if remaining == 0:
                    break
    return Proposal(picks=picks, gpu_count=gpu_count)


def request_window(request: LoanRequest) -> tuple[dt.datetime, dt.datetime]:
    return day_start(request.starts_on), day_start(request.ends_on + dt.timedelta(days=1))


# --- The idle calendar -----------------------------------------------------------------------

UNAVAILABLE_SQL = """
SELECT c.id, h.gpu_id, s.status,
       GREATEST(lower(h.period), CASE WHEN h.layer = 'award' AND p.actual_start IS NULL
                THEN COALESCE(p.expected_start, p.planned_start)::timestamp AT TIME ZONE %(tz)s END) AS lo,
       upper(h.period) AS hi
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
  LEFT JOIN gpus_allocation a ON a.id = h.allocation_id
  LEFT JOIN projects_project p ON p.id = a.project_id
 WHERE h.period && tstzrange(%(lo)s, %(hi)s, '[)')
   AND (h.layer = 'loan' OR a.project_id IS NOT NULL)
"""


@dataclass
class CalendarRow:
    provider: object
    gpu_model: str
    in_service: int
    weeks: list[int]

    def level(self, value: int) -> int:
        if not self.in_service or value <= 0:
            return 0
        share = value / self.in_service
        return 1 if share < 0.1 else 2 if share < 0.3 else 3


@dataclass
class Calendar:
    weeks: list[dt.date]
    rows: list[CalendarRow]
    now_by_model: dict[str, int]


def idle_calendar(*, weeks: int = 13, today: dt.date | None = None) -> Calendar:
    """GPUs lendable for each whole week of the next three months, by provider and GPU model.

    Projects that have not started are expected to take their servers back from their expected
    (or planned) start. Three queries."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=today.weekday())
    week_starts = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    lo, hi = day_start(first), day_start(first + dt.timedelta(weeks=weeks))
    clusters = {c.pk: c for c in Cluster.objects.select_related("provider")}
    in_service: dict[int, int] = defaultdict(int)
    for cluster_id, count in (
        Gpu.objects.filter(server__status=ServerStatus.IN_SERVICE)
        .values_list("server__cluster_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        in_service[cluster_id] = count
    busy: dict[tuple[int, int], set[int]] = defaultdict(set)  # (cluster, week) -> GPU ids
    with connection.cursor() as cursor:
        cursor.execute(UNAVAILABLE_SQL, {"lo": lo, "hi": hi, "tz": str(timezone.get_default_timezone())})
        for cluster_id, gpu_id, status, start, end in cursor.fetchall():
            if status != ServerStatus.IN_SERVICE or start is None or end is None or start >= end:
                continue
            for index, week in enumerate(week_starts):
                week_lo, week_hi = day_start(week), day_start(week + dt.timedelta(days=7))
                if start < week_hi and end > week_lo:
                    busy[(cluster_id, index)].add(gpu_id)
    rows: dict[tuple[int, str], CalendarRow] = {}
    for cluster_id, cluster in sorted(clusters.items(), key=lambda kv: (kv[1].provider.code, kv[1].gpu_model)):
        key = (cluster.provider_id, cluster.gpu_model)
        row = rows.setdefault(key, CalendarRow(cluster.provider, cluster.gpu_model, 0, [0] * weeks))
        row.in_service += in_service[cluster_id]
        for index in range(weeks):
            row.weeks[index] += in_service[cluster_id] - len(busy[(cluster_id, index)])
    now_by_model: dict[str, int] = defaultdict(int)
    for row in rows.values():
        now_by_model[row.gpu_model] += row.weeks[0]
    return Calendar(weeks=week_starts, rows=list(rows.values()), now_by_model=dict(now_by_model))


# --- The review queue ------------------------------------------------------------------------


def current_loans():
    return Loan.objects.filter(state__in=[LoanState.SCHEDULED, LoanState.ACTIVE])


def request_queue(queryset=None):
    """Requests waiting for a decision, ranked as the programme's rules say: criteria score (highest
    first, unscored last), then organisations outside the capital region, then those without a
    current loan (anti-concentration), then first come, first served."""
    queryset = LoanRequest.objects.all() if queryset is None else queryset
    return (
        queryset.filter(state__in=[RequestState.SUBMITTED, RequestState.CHANGES_REQUESTED])
        .select_related("organisation", "submitted_by")
        .annotate(
            outside_capital=ExpressionWrapper(Q(organisation__region=Region.NON_CAPITAL), output_field=BooleanField()),
            has_current_loan=Exists(current_loans().filter(organisation=OuterRef("organisation"))),
        )
        .order_by(
            F("score").desc(nulls_last=True),
            "-outside_capital",
            "has_current_loan",
            "submitted_at",
            "id",
        )
    )


def loans_on_project(project):
    """Loans, not ended, that borrow GPUs awarded to this project (they are recalled when it starts)."""
    from .models import AllocationGpu, Layer

    award_gpus = AllocationGpu.objects.filter(allocation__project=project, layer=Layer.AWARD).values("gpu_id")
    return (
        Loan.objects.filter(allocations__gpu_rows__gpu_id__in=award_gpus)
        .exclude(state=LoanState.ENDED)
        .select_related("organisation")
        .distinct()
        .order_by("starts_at")
    )


BLOCKING_SQL = """
SELECT h.gpu_id, g.server_id, lower(h.period), upper(h.period)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
  LEFT JOIN gpus_allocation a ON a.id = h.allocation_id
  LEFT JOIN projects_project p ON p.id = a.project_id
 WHERE c.gpu_model = %(model)s AND s.status = 'in_service' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
   AND (h.layer = 'loan' OR (a.project_id IS NOT NULL AND p.actual_start IS NOT NULL))
"""

WINDOW_RISK_SQL = """
SELECT DISTINCT g.server_id, p.code, COALESCE(p.expected_start, p.planned_start)
  FROM gpus_allocationgpu h
  JOIN gpus_gpu g ON g.id = h.gpu_id
  JOIN gpus_server s ON s.id = g.server_id
  JOIN gpus_cluster c ON c.id = s.cluster_id
  JOIN gpus_allocation a ON a.id = h.allocation_id
  JOIN projects_project p ON p.id = a.project_id
 WHERE c.gpu_model = %(model)s AND h.layer = 'award' AND h.period && tstzrange(%(lo)s, %(hi)s, '[)')
   AND p.actual_start IS NULL
"""


class LendingIndex:
    """Idle GPUs of one model for many requests at once, in memory (five queries).

    Built for one window that covers all the requests. Servers nobody holds in the window
    ("clean") are offered without checking; the others keep, per day of the window, a bitmask of
    the slots free all that day, with a sparse table so any run of days is checked in constant
    time. A day touched by a holding counts as busy, so the index may pass over a GPU free for part
    of a day but never offers a busy one (and every approval re-checks in the database anyway).
    `claim` records GPUs proposed in this round, so no GPU is proposed twice for overlapping time."""

    def __init__(self, gpu_model: str, lo: dt.datetime, hi: dt.datetime):
        self.gpu_model = gpu_model
        self.lo, self.hi = lo, hi
        self.tz = timezone.get_default_timezone()
        self.day0 = lo.astimezone(self.tz).date()
        self.days = (hi.astimezone(self.tz).date() - self.day0).days + 1
        clusters = {c.pk: c for c in Cluster.objects.select_related("provider").filter(gpu_model=gpu_model)}
        self.gpus: dict[int, list[int]] = defaultdict(list)
        for gpu_id, server_id in (
            Gpu.objects.filter(server__status=ServerStatus.IN_SERVICE, server__cluster__gpu_model=gpu_model)
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
            cursor.execute(BLOCKING_SQL, {"model": gpu_model, "lo": lo, "hi": hi})
            for gpu_id, _server_id, start, end in cursor.fetchall():
                self.blocks[gpu_id].append((start, end))
            cursor.execute(WINDOW_RISK_SQL, {"model": gpu_model, "lo": lo, "hi": hi})
            self.risk: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
            for server_id, code, start in cursor.fetchall():
                self.risk[server_id].append((code, start))
        blocked = {self.server_of[g] for g in self.blocks if g in self.server_of}
        self.tables: dict[int, list[list[int]]] = {}
        self.dirty: list[int] = []
        for sid in sorted(blocked):
            self._build(sid)
        self.clean = sorted(
            (sid for sid in self.gpus if sid not in blocked),
            key=lambda sid: (bool(self.risk.get(sid)), self.servers[sid][1].code, self.servers[sid][0]),
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
            # Held every day of the window (a started project's server): never offered.
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
                           recall_risk=sorted(self.risk.get(sid, [])))

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
        """GPUs proposed in this round are held for that period from now on."""
        touched = set()
        for gpu_id in gpu_ids:
            if gpu_id in self.server_of:
                self.blocks[gpu_id].append((starts_at, ends_at))
                touched.add(self.server_of[gpu_id])
        for sid in touched:
            self.clean_taken.add(sid)
            self._build(sid)
