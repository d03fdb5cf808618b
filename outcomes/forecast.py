"""The next three months of the programme's pool: what MSIT can still lend and what it will have to
recall. From the ledger as it stands (what is held, idle, in the reserve, lent) and the projects'
expected starts (a project takes its servers back at its expected start, or at its planned start
when no other was recorded; one already past its start and not started is counted as starting this
month), with the requests waiting for a decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from allocation_portal import months
from gpus.availability import day_start, programme_pool
from gpus.availability.ahead import loans_on_awards, pool_holders_at
from gpus.models import GPUS_PER_SERVER, HolderKind
from lending.models import LoanRequest
from lending.services.requests import OPEN_REQUEST_STATES
from projects.models import Project

MONTHS_AHEAD = 3


@dataclass
class ForecastMonth:
    month: dt.date
    at: dt.datetime  # the moment the ledger is read for the month (its start; now for this month)
    starting: list[tuple[Project, int]] = field(default_factory=list)  # (project, servers) expected to start
    recall_loans: int = 0  # loans on those servers that run past the project's expected start
    recall_gpus: int = 0
    idle_gpus: int = 0  # awarded to projects not expected to start by the month's end
    reserve_gpus: int = 0
    free_gpus: int = 0
    lent_gpus: int = 0  # on loan at `at`, on idle, reserve or free GPUs (not on starting projects')
    waiting_requests: int = 0
    waiting_gpus: int = 0

    @property
    def starting_servers(self) -> int:
        return sum(servers for _project, servers in self.starting)

    @property
    def lendable_gpus(self) -> int:
        return self.idle_gpus + self.reserve_gpus + self.free_gpus

    @property
    def can_lend(self) -> int:
        """Idle, reserve and free GPUs that neither a loan nor a waiting request claims."""
        return max(self.lendable_gpus - self.lent_gpus - self.waiting_gpus, 0)

    def to_dict(self) -> dict:
        return {
            "month": months.label(self.month),
            "starting_projects": [{"project": p.code, "servers": n, "expected_start": str(p.expected_start or p.planned_start)}
                                  for p, n in self.starting],
            "starting_servers": self.starting_servers,
            "recall_exposure": {"loans": self.recall_loans, "gpus": self.recall_gpus},
            "idle_gpus": self.idle_gpus, "reserve_gpus": self.reserve_gpus, "free_gpus": self.free_gpus,
            "lent_gpus": self.lent_gpus,
            "waiting_requests": {"count": self.waiting_requests, "gpus": self.waiting_gpus},
            "can_lend_gpus": self.can_lend,
        }


@dataclass
class Forecast:
    months: list[ForecastMonth]

    def to_dict(self) -> dict:
        return {"months": [m.to_dict() for m in self.months]}


def _expected(project: Project) -> dt.date:
    return project.expected_start or project.planned_start


def programme_forecast(*, now: dt.datetime | None = None, ahead: int = MONTHS_AHEAD) -> Forecast:
    """This month and the next `ahead - 1`. Five queries."""
    now = now or timezone.now()
    pool = programme_pool()
    current = months.first_day(timezone.localtime(now).date())
    wanted = [months.add_months(current, i) for i in range(ahead)]
    if pool is None:
        return Forecast(months=[ForecastMonth(month=m, at=now) for m in wanted])
    moments = [now] + [months.start_of(m) for m in wanted[1:]]
    waiting = list(LoanRequest.objects.filter(pool=pool, state__in=OPEN_REQUEST_STATES).values_list("starts_on", "ends_on", "gpu_count"))
    pending = {p.pk: p for p in Project.objects.filter(pool=pool, actual_start__isnull=True)}
    holders = pool_holders_at(pool, moments)
    exposure = loans_on_awards(pending, now)
    out = []
    for month, at in zip(wanted, moments, strict=True):
        row = ForecastMonth(month=month, at=at)
        month_end = months.next_month(month)
        starting_ids = {pid for pid, p in pending.items()
                        if _expected(p) < month_end and (month == current or _expected(p) >= month)}
        starting_gpus: dict[int, int] = {}
        for held in holders[at]:
            if held.holder_kind == HolderKind.PROJECT and held.project_id in pending:
                if held.project_id in starting_ids:
                    starting_gpus[held.project_id] = starting_gpus.get(held.project_id, 0) + held.gpus
                elif _expected(pending[held.project_id]) >= month_end:
                    row.idle_gpus += held.gpus
                    row.lent_gpus += held.gpus if held.lent else 0
            elif held.holder_kind == HolderKind.RESERVE:
                row.reserve_gpus += held.gpus
                row.lent_gpus += held.gpus if held.lent else 0
            elif held.holder_kind == "":
                row.free_gpus += held.gpus
                row.lent_gpus += held.gpus if held.lent else 0
        for pid in sorted(starting_ids, key=lambda pid: (_expected(pending[pid]), pending[pid].code)):
            project = pending[pid]
            row.starting.append((project, starting_gpus.get(pid, 0) // GPUS_PER_SERVER))
            begins = max(day_start(_expected(project)), now)
            for _loan, gpus, end in exposure.get(pid, []):
                if end > begins:
                    row.recall_loans += 1
                    row.recall_gpus += gpus
        for starts_on, ends_on, gpus in waiting:
            if starts_on < month_end and ends_on >= month:
                row.waiting_requests += 1
                row.waiting_gpus += gpus
        out.append(row)
    return Forecast(months=out)
