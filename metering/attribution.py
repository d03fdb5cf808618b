"""Who held each GPU of a server, moment by moment, in the ledger — and so whose use a measurement is.

A GPU at a moment belongs, for measured use, to:
- the holder that *uses* it (`AllocationGpu.occupied`): a loan, or a project that has started;
  a suspended project's GPUs are not its own to use, so use on them is unattributed;
- otherwise the award's holder: a project not started yet (its GPUs are idle) or the MSIT reserve;
- otherwise nobody: unattributed use, listed for MSIT.

Slurm does not say which GPUs of a node a job had, only how many: a run's GPU time on a server is
shared among the server's holders in proportion to the GPUs each held."""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from gpus.models import AllocationGpu, Gpu, HolderKind, Layer

from .models import UsageHolder
from .sacct import KST

Holder = tuple[str, int | None, int | None]  # (UsageHolder, project id, loan id)
NOBODY: Holder = (UsageHolder.UNATTRIBUTED, None, None)
# (server id, GPU id or None when the source names no GPU, KST day, holder) -> [GPU-seconds, covered seconds]
Key = tuple[int, int | None, dt.date, Holder]
Totals = dict[Key, list[float]]


def totals() -> Totals:
    return defaultdict(lambda: [0.0, 0.0])


@dataclass(frozen=True)
class Segment:
    start: dt.datetime
    end: dt.datetime
    shares: tuple[tuple[Holder, float], ...]  # holder -> share of the server's GPUs
    holders: dict[int, Holder]  # GPU id -> its holder (GPUs not named: nobody)


def _used_holder(kind: str, project_id: int | None, loan_id: int | None) -> Holder:
    if kind == HolderKind.LOAN:
        return (UsageHolder.LOAN, None, loan_id)
    if kind == HolderKind.PROJECT:
        return (UsageHolder.PROJECT, project_id, None)
    return NOBODY  # a suspension: the project may not use these GPUs


def _award_holder(kind: str, project_id: int | None) -> Holder:
    if kind == HolderKind.PROJECT:
        return (UsageHolder.IDLE, project_id, None)
    if kind == HolderKind.RESERVE:
        return (UsageHolder.RESERVE, None, None)
    return NOBODY


class Timelines:
    """The holders of every GPU of the given servers over [start, end), as segments per server."""

    def __init__(self, server_ids: Iterable[int], start: dt.datetime, end: dt.datetime):
        server_ids = list(set(server_ids))
        self.start, self.end = start, end
        gpus_per_server: dict[int, int] = defaultdict(int)
        for server_id in Gpu.objects.filter(server_id__in=server_ids).values_list("server_id", flat=True):
            gpus_per_server[server_id] += 1
        rows: dict[int, list[tuple]] = defaultdict(list)
        held = (
            AllocationGpu.objects.filter(gpu__server_id__in=server_ids, period__overlap=(start, end))
            .values_list("gpu__server_id", "gpu_id", "layer", "period", "occupied", "allocation__holder_kind",
                         "allocation__project_id", "allocation__loan_id")
        )
        for server_id, gpu_id, layer, period, occupied, kind, project_id, loan_id in held.iterator(chunk_size=5000):
            rows[server_id].append((gpu_id, layer, period, occupied, kind, project_id, loan_id))
        self.segments: dict[int, list[Segment]] = {}
        self.starts: dict[int, list[dt.datetime]] = {}
        for server_id in server_ids:
            segments = self._build(rows.get(server_id, []), gpus_per_server.get(server_id, 0) or 8)
            self.segments[server_id] = segments
            self.starts[server_id] = [s.start for s in segments]

    def _clip(self, moment: dt.datetime | None, default: dt.datetime) -> dt.datetime:
        if moment is None:
            return default
        return min(max(moment, self.start), self.end)

    def _build(self, rows: list[tuple], gpu_count: int) -> list[Segment]:
        edges = {self.start, self.end}
        for _gpu, _layer, period, occupied, *_rest in rows:
            for r in (period, occupied):
                if r is not None:
                    edges.add(self._clip(r.lower, self.start))
                    edges.add(self._clip(r.upper, self.end))
        ordered = sorted(edges)
        segments = []
        for lo, hi in zip(ordered, ordered[1:], strict=False):
            if hi <= lo:
                continue
            holder_of: dict[int, Holder] = {}
            for gpu_id, layer, period, occupied, kind, project_id, loan_id in rows:
                if occupied is not None and _contains(occupied, lo):
                    holder_of[gpu_id] = _used_holder(kind, project_id, loan_id)
                elif layer == Layer.AWARD and _contains(period, lo) and gpu_id not in holder_of:
                    holder_of[gpu_id] = _award_holder(kind, project_id)
            counts: dict[Holder, int] = defaultdict(int)
            for holder in holder_of.values():
                counts[holder] += 1
            rest = gpu_count - sum(counts.values())
            if rest > 0:
                counts[NOBODY] += rest
            total = sum(counts.values())
            segments.append(Segment(lo, hi, tuple((h, n / total) for h, n in sorted(counts.items(), key=str)), holder_of))
        return segments

    def _pieces(self, server_id: int, start: dt.datetime, end: dt.datetime):
        """(segment, KST day, seconds) of [start, end) on the server, cut at holder changes and days."""
        segments, starts = self.segments[server_id], self.starts[server_id]
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        while i < len(segments) and segments[i].start < end:
            segment = segments[i]
            lo, hi = max(start, segment.start), min(end, segment.end)
            while lo < hi:
                local = lo.astimezone(KST)
                day_end = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
                piece_end = min(hi, day_end)
                yield segment, local.date(), (piece_end - lo).total_seconds()
                lo = piece_end
            i += 1

    def attribute(self, server_id: int, start: dt.datetime, end: dt.datetime, gpus: float, into: Totals) -> None:
        """Add the GPU-seconds of `gpus` GPUs of the server (which ones unknown, as Slurm reports them)
        used over [start, end) to `into`, by KST day and holder, in proportion to what each held."""
        for segment, day, seconds in self._pieces(server_id, start, end):
            for holder, share in segment.shares:
                into[(server_id, None, day, holder)][0] += seconds * gpus * share

    def holder_through(self, server_id: int, gpu_id: int, start: dt.datetime, end: dt.datetime) -> Holder | None:
        """The GPU's one holder over all of [start, end), or None when it changed (or the span crosses
        a KST day, which the caller must cut)."""
        segments, starts = self.segments[server_id], self.starts[server_id]
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        holder = None
        while i < len(segments) and segments[i].start < end:
            current = segments[i].holders.get(gpu_id, NOBODY)
            if holder is not None and current != holder:
                return None
            holder = current
            i += 1
        return holder

    def attribute_gpu(self, server_id: int, gpu_id: int, start: dt.datetime, end: dt.datetime, busy: float,
                      into: Totals) -> None:
        """One GPU measured over [start, end), busy for the fraction `busy` of it: busy and covered
        GPU-seconds to its holder at that time, by KST day."""
        for segment, day, seconds in self._pieces(server_id, start, end):
            cell = into[(server_id, gpu_id, day, segment.holders.get(gpu_id, NOBODY))]
            cell[0] += seconds * busy
            cell[1] += seconds


def _contains(r, moment: dt.datetime) -> bool:
    lower_ok = r.lower is None or (r.lower <= moment if r.lower_inc else r.lower < moment)
    upper_ok = r.upper is None or (moment < r.upper if not r.upper_inc else moment <= r.upper)
    return lower_ok and upper_ok
