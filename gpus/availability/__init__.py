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

from .capacity import (
    CAPACITY_DAY_SECONDS,
    CAPACITY_NOW_SECONDS,
    Capacity,
    CapacityReport,
    ClusterCapacity,
    capacity_at,
    kept_capacity_at,
    programme_capacity,
    programme_capacity_series,
)
from .index import LendingIndex
from .lendable import (
    ServerOffer,
    lendable_servers,
    servers_for_projects,
    servers_free_for_award,
    unavailable_by_week,
    unlendable,
)
from .periods import FREE, IDLE, RESERVE, SOURCE_ORDER, day_start, period, programme_pool

__all__ = [
    "CAPACITY_DAY_SECONDS", "CAPACITY_NOW_SECONDS", "FREE", "IDLE", "RESERVE", "SOURCE_ORDER", "Capacity", "CapacityReport", "ClusterCapacity", "LendingIndex",
    "ServerOffer", "capacity_at", "day_start", "kept_capacity_at", "lendable_servers", "period", "programme_capacity", "programme_capacity_series",
    "programme_pool",
    "servers_for_projects", "servers_free_for_award", "unavailable_by_week", "unlendable",
]
