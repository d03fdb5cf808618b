"""Reads for short-term lending: proposals of GPUs for a request, the idle calendar, the ranked queue.

Which GPUs are lendable for a period is answered by `gpus.availability`, for every caller alike."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils import timezone

from gpus.availability import (
    ServerOffer,
    day_start,
    lendable_servers,
    programme_pool,
    unavailable_by_week,
)
from gpus.models import GPUS_PER_SERVER, AllocationGpu, Cluster, Layer, Provider, Server
from projects.models import Project

from .models import Loan, LoanRequest, LoanState, Region, RequestState


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


def propose(gpu_model: str, gpu_count: int, starts_at: dt.datetime, ends_at: dt.datetime, *, offers=None,
            pool=None) -> Proposal:
    """Choose GPUs lendable for the whole period: whole servers for whole-server requests; for 1-4
    GPUs, one server's GPUs before spreading (the fullest server that still fits, so whole servers
    stay whole). The programme lends idle GPUs of projects that have not started first (those
    expected to start latest first), then the MSIT reserve, then free GPUs of its pool."""
    offers = offers if offers is not None else lendable_servers(gpu_model, starts_at, ends_at, pool=pool)
    picks: list[tuple[ServerOffer, list[int]]] = []
    if gpu_count >= GPUS_PER_SERVER:
        whole = sorted((o for o in offers if o.whole), key=lambda o: (o.preference(), o.cluster.code, o.hostname))
        # Keep a loan on one cluster when it can be.
        by_cluster: dict[int, list[ServerOffer]] = defaultdict(list)
        for offer in whole:
            by_cluster[offer.cluster.pk].append(offer)
        needed = gpu_count // GPUS_PER_SERVER
        fitting = [group for group in by_cluster.values() if len(group) >= needed]
        chosen = (min(fitting, key=lambda g: [o.preference() for o in g[:needed]])[:needed] if fitting else whole[:needed])
        picks = [(offer, list(offer.gpu_ids)) for offer in chosen]
    else:
        fits = [o for o in offers if len(o.gpu_ids) >= gpu_count]
        if fits:
            best = min(fits, key=lambda o: (o.preference(), len(o.gpu_ids), o.cluster.code, o.hostname))
            picks = [(best, best.gpu_ids[:gpu_count])]
        else:
            remaining = gpu_count
            for offer in sorted(offers, key=lambda o: (o.preference(), -len(o.gpu_ids), o.hostname)):
                take = offer.gpu_ids[:remaining]
                picks.append((offer, take))
                remaining -= len(take)
                if remaining == 0:
                    break
    return Proposal(picks=picks, gpu_count=gpu_count)


def request_window(request: LoanRequest, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The period a request asks for; once its first day has begun, from now (a loan is never
    booked in the past)."""
    now = now or timezone.now()
    return max(day_start(request.starts_on), now), day_start(request.ends_on + dt.timedelta(days=1))


# --- The idle calendar -----------------------------------------------------------------------

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
    """GPUs of the programme's pool lendable for each whole week of the next three months, by
    provider and GPU model. Projects that have not started are expected to take their servers back
    from their expected (or planned) start. Four queries."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=today.weekday())
    week_starts = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    pool = programme_pool()
    if pool is None:
        return Calendar(weeks=week_starts, rows=[], now_by_model={})
    in_service, busy = unavailable_by_week(pool, week_starts)
    clusters = {c.pk: c for c in Cluster.objects.select_related("provider").filter(pk__in=in_service)}
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
    return Loan.objects.filter(state__in=[LoanState.OFFERED, LoanState.SCHEDULED, LoanState.ACTIVE])


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
    award_gpus = AllocationGpu.objects.filter(allocation__project=project, layer=Layer.AWARD).values("gpu_id")
    return (
        Loan.objects.filter(allocations__gpu_rows__gpu_id__in=award_gpus)
        .exclude(state=LoanState.ENDED)
        .select_related("organisation")
        .distinct()
        .order_by("starts_at")
    )


# --- One loan's GPUs ----------------------------------------------------------------------------


@dataclass
class LoanServer:
    """A server a loan (or an offer) holds GPUs of: where it is, which slots, and the projects whose
    reserved server it is (their start recalls the loan), with their expected starts."""

    server: Server
    slots: list[int]
    risks: list[Project]

    @property
    def provider(self):
        return self.server.cluster.provider


def loan_servers(loan: Loan) -> list[LoanServer]:
    """The loan's servers with provider, cluster, slots and recall risk. Three queries at most."""
    rows = (
        AllocationGpu.objects.filter(allocation__loan=loan)
        .select_related("gpu__server__cluster__provider")
        .order_by("gpu__server__hostname", "gpu__index")
    )
    servers: dict[int, LoanServer] = {}
    for row in rows:
        entry = servers.setdefault(row.gpu.server_id, LoanServer(server=row.gpu.server, slots=[], risks=[]))
        entry.slots.append(row.gpu.index)
    pairs = set(
        AllocationGpu.objects.filter(
            layer=Layer.AWARD, gpu__server_id__in=list(servers), allocation__project__isnull=False,
            allocation__starts_at__lt=loan.ends_at, allocation__ends_at__gt=loan.starts_at,
        ).values_list("gpu__server_id", "allocation__project_id")
    )
    projects = {p.pk: p for p in Project.objects.filter(pk__in={pid for _sid, pid in pairs})} if pairs else {}
    for server_id, project_id in sorted(pairs, key=lambda pair: projects[pair[1]].code):
        servers[server_id].risks.append(projects[project_id])
    return list(servers.values())


def loan_providers(servers: list[LoanServer]) -> list[Provider]:
    """The providers of these servers, once each, for the access steps."""
    seen: dict[int, Provider] = {}
    for entry in servers:
        seen.setdefault(entry.provider.pk, entry.provider)
    return list(seen.values())
