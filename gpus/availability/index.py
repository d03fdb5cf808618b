"""Lendable GPUs for many periods at once, in memory: the redistribution proposal's index."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from ..models import (
    GPUS_PER_SERVER,
    Cluster,
    Gpu,
    Pool,
    Server,
    ServerStatus,
)
from .lendable import ServerOffer, _sources

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
        found: list[ServerOffer] = []
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
