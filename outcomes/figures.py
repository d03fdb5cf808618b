"""The programme's outcome figures: is the programme using its GPUs?

Per month and cumulative over a range of months, for the programme's pool, computed from the
ledger (what was held, idle, in the reserve, suspended, lent), the monthly reports and measured use
(what the owners used), the requests and loans (how fast idle GPUs were lent, recalls) and the
reclamation cases (where reclaimed servers went). Every figure has its rows (`figure_rows`), which
add up to it. A fixed number of queries, whatever the range.

Definitions (GPU-hours; the month under way counts up to now):
- awarded = held_started + idle + reserve + suspended: the pool's award layer, the GPUs awarded to
  the programme's projects and the MSIT reserve they feed;
- used_reported: submitted and accepted reports; used_measured: the providers' measured use
  (metering) where it is complete, with the project-months it covers;
- lent: the loan layer on GPUs that were idle (awarded to a project not using them) or in the
  reserve; lent_from_idle and lent_from_reserve split it;
- used_or_lent_share = (used_reported + lent) / awarded;
- idle_recovered_share = lent / (idle + reserve)."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from allocation_portal import months
from allocation_portal import policy as programme_policy
from gpus.availability import day_start, programme_pool
from gpus.models import Allocation, AllocationGpu, HolderKind, Layer
from gpus.selectors import freed_before, held_by_month, pool_hours_by_entry, pool_hours_by_month
from lending.models import (
    Loan,
    LoanEnd,
    LoanRequest,
    LoanState,
    Organisation,
    OrganisationKind,
    Region,
    RequestState,
)
from metering.models import Source
from metering.selectors import measured_by_month
from monitoring.models import CaseState, ReclamationCase, ReportState, UsageReport
from monitoring.selectors import ratio
from projects.models import Project

MOST_MONTHS = 60  # the widest range one request may ask for
TOP_ORGANISATIONS = 5
HOURS = Decimal("0.1")
DAYS = Decimal("0.1")

# The GPU-hour figures of the ledger: the categories of gpus.selectors' pool hours each adds (+1) or
# takes away (-1). Lent from free GPUs (the pool's, awarded to nobody) is lent but outside "awarded",
# so it is in neither share.
LEDGER_FIGURES: dict[str, dict[str, int]] = {
    "awarded": {"held_started": 1, "idle": 1, "reserve": 1, "suspended": 1},
    "held_started": {"held_started": 1},
    "idle": {"idle": 1},
    "reserve": {"reserve": 1},
    "suspended": {"suspended": 1},
    "lent": {"lent_from_idle": 1, "lent_from_reserve": 1},
    "lent_from_idle": {"lent_from_idle": 1},
    "lent_from_reserve": {"lent_from_reserve": 1},
    "lent_from_free": {"lent": 1, "lent_from_idle": -1, "lent_from_reserve": -1},
}
# Requests that were decided: approved (then offered: accepted, declined or lapsed) or rejected.
DECIDED_REQUEST_STATES = (RequestState.APPROVED, RequestState.REJECTED, RequestState.DECLINED, RequestState.LAPSED)
# Loans that were taken up (an offer declined or lapsed lent nothing).
NOT_TAKEN = Q(state=LoanState.OFFERED) | Q(end_reason__in=[LoanEnd.DECLINED, LoanEnd.LAPSED])
COUNTED_REPORTS = (ReportState.SUBMITTED, ReportState.ACCEPTED)


def _hours(value) -> Decimal:
    return Decimal(value or 0).quantize(HOURS)


def _days(delta: dt.timedelta) -> Decimal:
    return (Decimal(max(delta.total_seconds(), 0)) / Decimal(86400)).quantize(DAYS)


def _s(value) -> str | None:
    return None if value is None else str(value)


@dataclass
class Speed:
    """Days from one moment to another: how many, the median and the 90th percentile."""

    days: list[Decimal] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> Decimal | None:
        return Decimal(statistics.median(self.days)).quantize(DAYS) if self.days else None

    @property
    def p90(self) -> Decimal | None:
        if not self.days:
            return None
        ordered = sorted(self.days)
        # The nearest rank: the smallest value with at least 90% of the values at or below it.
        return ordered[max(math.ceil(Decimal(len(ordered)) * Decimal("0.9")) - 1, 0)]

    def to_dict(self) -> dict:
        return {"count": self.count, "median_days": _s(self.median), "p90_days": _s(self.p90)}


@dataclass
class Split:
    """Loans and lent GPU-hours by one key (organisation type, or region)."""

    loans: dict[str, int] = field(default_factory=dict)
    gpu_hours: dict[str, Decimal] = field(default_factory=dict)

    def add(self, key: str, loans: int, hours: Decimal) -> None:
        self.loans[key] = self.loans.get(key, 0) + loans
        self.gpu_hours[key] = self.gpu_hours.get(key, Decimal(0)) + hours

    def loan_share(self, key: str) -> Decimal | None:
        return ratio(self.loans.get(key, 0), sum(self.loans.values()))

    def hour_share(self, key: str) -> Decimal | None:
        return ratio(self.gpu_hours.get(key, Decimal(0)), sum(self.gpu_hours.values(), Decimal(0)))

    def shares(self, keys) -> dict:
        return {
            key: {"loans": self.loans.get(key, 0), "gpu_hours": str(_hours(self.gpu_hours.get(key))),
                  "loan_share": _s(self.loan_share(key)), "gpu_hour_share": _s(self.hour_share(key))}
            for key in keys
        }


@dataclass
class Period:
    """The figures of one month, or of the whole range (`month` None)."""

    month: dt.date | None
    ledger: dict[str, Decimal] = field(default_factory=dict)
    used_reported: Decimal = Decimal(0)
    used_measured: Decimal = Decimal(0)
    measured_project_months: int = 0
    decision: Speed = field(default_factory=Speed)
    idle_to_loan: Speed = field(default_factory=Speed)
    recalls: int = 0
    recalls_full_notice: int = 0
    notice_gpu_hours: Decimal = Decimal(0)
    cases_reclaimed: int = 0
    servers_reclaimed: int = 0
    loans_started: int = 0
    by_kind: Split = field(default_factory=Split)
    by_region: Split = field(default_factory=Split)
    by_organisation: Split = field(default_factory=Split)

    def add_lending(self, org, *, loans: int = 0, hours: Decimal = Decimal(0)) -> None:
        self.by_kind.add(org.kind, loans, hours)
        self.by_region.add(org.region, loans, hours)
        self.by_organisation.add(str(org.pk), loans, hours)

    @classmethod
    def merged(cls, periods: list[Period]) -> Period:
        """The figures of several months together (medians and percentiles over all their values)."""
        total = cls(month=None)
        for p in periods:
            for name in LEDGER_FIGURES:
                total.ledger[name] = total.figure(name) + p.figure(name)
            total.used_reported += p.used_reported
            total.used_measured += p.used_measured
            total.measured_project_months += p.measured_project_months
            total.decision.days += p.decision.days
            total.idle_to_loan.days += p.idle_to_loan.days
            total.recalls += p.recalls
            total.recalls_full_notice += p.recalls_full_notice
            total.notice_gpu_hours += p.notice_gpu_hours
            total.cases_reclaimed += p.cases_reclaimed
            total.servers_reclaimed += p.servers_reclaimed
            total.loans_started += p.loans_started
            for mine, theirs in ((total.by_kind, p.by_kind), (total.by_region, p.by_region),
                                 (total.by_organisation, p.by_organisation)):
                for key in theirs.loans.keys() | theirs.gpu_hours.keys():
                    mine.add(key, theirs.loans.get(key, 0), theirs.gpu_hours.get(key, Decimal(0)))
        return total

    def state(self) -> dict:
        """Everything the month's figures are made of, as JSON (the store keeps closed months so)."""
        return {
            "ledger": {k: str(v) for k, v in self.ledger.items()}, "used_reported": str(self.used_reported),
            "used_measured": str(self.used_measured), "measured_project_months": self.measured_project_months,
            "decision": [str(d) for d in self.decision.days], "idle_to_loan": [str(d) for d in self.idle_to_loan.days],
            "recalls": [self.recalls, self.recalls_full_notice, str(self.notice_gpu_hours)],
            "reclaimed": [self.cases_reclaimed, self.servers_reclaimed], "loans_started": self.loans_started,
            "splits": {name: {"loans": split.loans, "gpu_hours": {k: str(v) for k, v in split.gpu_hours.items()}}
                       for name, split in (("kind", self.by_kind), ("region", self.by_region),
                                           ("organisation", self.by_organisation))},
        }

    @classmethod
    def from_state(cls, month: dt.date, state: dict) -> Period:
        p = cls(month=month, ledger={k: Decimal(v) for k, v in state["ledger"].items()},
                used_reported=Decimal(state["used_reported"]), used_measured=Decimal(state["used_measured"]),
                measured_project_months=state["measured_project_months"],
                decision=Speed([Decimal(d) for d in state["decision"]]),
                idle_to_loan=Speed([Decimal(d) for d in state["idle_to_loan"]]),
                recalls=state["recalls"][0], recalls_full_notice=state["recalls"][1],
                notice_gpu_hours=Decimal(state["recalls"][2]), cases_reclaimed=state["reclaimed"][0],
                servers_reclaimed=state["reclaimed"][1], loans_started=state["loans_started"])
        for name, split in (("kind", p.by_kind), ("region", p.by_region), ("organisation", p.by_organisation)):
            kept = state["splits"][name]
            split.loans = dict(kept["loans"])
            split.gpu_hours = {k: Decimal(v) for k, v in kept["gpu_hours"].items()}
        return p

    def figure(self, name: str) -> Decimal:
        return self.ledger.get(name, Decimal(0))

    def value(self, name: str):
        """A GPU-hour figure by its name (the ledger's, or used_reported / used_measured)."""
        if name in LEDGER_FIGURES:
            return self.figure(name)
        if name == "used_measured" and not self.measured_project_months:
            return None
        return getattr(self, name)

    @property
    def used_or_lent_share(self) -> Decimal | None:
        return ratio(self.used_reported + self.figure("lent"), self.figure("awarded"))

    @property
    def idle_recovered_share(self) -> Decimal | None:
        return ratio(self.figure("lent"), self.figure("idle") + self.figure("reserve"))

    @property
    def top_share(self) -> Decimal | None:
        """The share of lent GPU-hours that went to the five organisations that had the most."""
        hours = sorted(self.by_organisation.gpu_hours.values(), reverse=True)
        return ratio(sum(hours[:TOP_ORGANISATIONS], Decimal(0)), sum(hours, Decimal(0)))

    def to_dict(self) -> dict:
        return {
            **({"month": months.label(self.month)} if self.month else {}),
            "gpu_hours": {name: str(_hours(self.figure(name))) for name in LEDGER_FIGURES},
            "used_reported": str(_hours(self.used_reported)),
            "used_measured": str(_hours(self.used_measured)) if self.measured_project_months else None,
            "measured_project_months": self.measured_project_months,
            "used_or_lent_share": _s(self.used_or_lent_share),
            "idle_recovered_share": _s(self.idle_recovered_share),
            "lending_speed": {"submission_to_decision": self.decision.to_dict(),
                              "idle_to_loan_start": self.idle_to_loan.to_dict()},
            "recalls": {"count": self.recalls, "full_notice": self.recalls_full_notice,
                        "gpu_hours_in_notice": str(_hours(self.notice_gpu_hours))},
            "reclaimed": {"cases": self.cases_reclaimed, "servers": self.servers_reclaimed},
            "loans_started": self.loans_started,
            "by_organisation_type": self.by_kind.shares(OrganisationKind.values),
            "by_region": self.by_region.shares(Region.values),
            "top_organisations_share": _s(self.top_share),
        }


@dataclass
class Outcomes:
    first: dt.date
    last: dt.date
    months: list[Period]
    total: Period
    reclaimed_servers: dict[str, int]  # where the servers reclaimed in the range are now
    as_of: dt.datetime | None = None  # the month under way counts up to this moment
    computed_live: list[dt.date] = field(default_factory=list)  # ended months not kept yet (outcomes.store)
    nurion_reference: Decimal = Decimal("0.77")  # KISTI Nurion's average utilisation, for comparison

    def to_dict(self) -> dict:
        return {
            "from": months.label(self.first), "to": months.label(self.last),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "months": [p.to_dict() for p in self.months],
            "cumulative": {**self.total.to_dict(), "reclaimed_servers_now": self.reclaimed_servers},
            "reference_utilisation": str(self.nurion_reference),
        }



class RangeInvalid(ValueError):
    """A range of months the figures cannot be asked for; the message is for people."""


@dataclass
class Scope:
    """What the figures are of: the programme's pool, from `first` to `last` (months), as of `now`."""

    pool: object
    first: dt.date
    last: dt.date
    now: dt.datetime

    @property
    def lo(self) -> dt.datetime:
        return months.start_of(self.first)

    @property
    def hi(self) -> dt.datetime:
        return max(min(months.start_of(months.next_month(self.last)), self.now), self.lo)


def scope_for(first: dt.date | None = None, last: dt.date | None = None, *, now: dt.datetime | None = None) -> Scope | None:
    """The scope of a range (default: the programme's first month to this month); None without a
    programme pool. RangeInvalid when the range is reversed, in the future or too long."""
    now = now or timezone.now()
    pool = programme_pool()
    if pool is None:
        return None
    current = months.first_day(timezone.localtime(now).date())
    default_first = min(months.first_day(pool.opens_on), current) if pool.opens_on else current
    first, last = months.first_day(first or default_first), months.first_day(last or current)
    if last < first:
        raise RangeInvalid(_("The last month is before the first."))
    if last > current:
        raise RangeInvalid(_("Outcomes are of months that have begun: choose %(month)s or earlier.")
                           % {"month": months.label(current)})
    if len(list(months.months_between(first, last))) > MOST_MONTHS:
        raise RangeInvalid(_("Choose at most %(n)s months.") % {"n": MOST_MONTHS})
    return Scope(pool=pool, first=first, last=last, now=now)


def _month_of(moment: dt.datetime) -> dt.date:
    return months.first_day(timezone.localtime(moment).date())


# --- What each figure counts (the rows of the drill-down are these same reads) -------------------

def counted_reports(scope: Scope):
    return UsageReport.objects.filter(project__pool=scope.pool, month__gte=scope.first, month__lte=scope.last,
                                      state__in=COUNTED_REPORTS)


def measured_rows(scope: Scope) -> list[tuple[int, dt.date, Decimal, str]]:
    """(project id, month, measured GPU-hours, source) wherever the providers' measured use of a
    started project's month is complete."""
    ids = list(Project.objects.filter(pool=scope.pool, actual_start__isnull=False).values_list("pk", flat=True))
    measured = measured_by_month(ids, scope.first, scope.last)
    if not measured:
        return []
    held = held_by_month(ids, scope.first, scope.last, scope.now, with_gpus=False)
    rows = []
    for (pid, month), row in sorted(measured.items()):
        value, source = row.measured(held.get((pid, month), (Decimal(0), 0))[0])
        if value is not None and scope.first <= month <= scope.last:
            rows.append((pid, month, value, source))
    return rows


def decided_requests(scope: Scope):
    return (LoanRequest.objects.filter(pool=scope.pool, state__in=DECIDED_REQUEST_STATES, reviewed_at__gte=scope.lo,
                                       reviewed_at__lt=scope.hi)
            .select_related("organisation").order_by("reviewed_at", "pk"))


def started_loans(scope: Scope):
    """Loans taken up (not declined or lapsed offers) that began in the range."""
    return (Loan.objects.filter(request__pool=scope.pool, starts_at__gte=scope.lo, starts_at__lt=scope.hi).exclude(NOT_TAKEN)
            .select_related("request", "organisation").order_by("starts_at", "pk"))


def recalled_loans(scope: Scope):
    return (Loan.objects.filter(request__pool=scope.pool, recall_notice_at__gte=scope.lo, recall_notice_at__lt=scope.hi)
            .select_related("organisation").order_by("recall_notice_at", "pk"))


def reclaimed_cases(scope: Scope):
    return (ReclamationCase.objects.filter(project__pool=scope.pool, state=CaseState.APPROVED, decided_at__gte=scope.lo,
                                           decided_at__lt=scope.hi, decided_servers__gt=0)
            .select_related("project").order_by("decided_at", "pk"))


def idle_waits(loans, scope: Scope) -> dict[int, tuple[dt.datetime, Decimal]]:
    """Per loan: since when a request could have used its GPUs (the latest of: the request's
    submission, the first day it asked for, the moment the loan's last GPU was freed by its
    previous user, the programme's opening) and the days from then to the loan's start."""
    freed = freed_before([loan.pk for loan in loans])
    opens = months.start_of(scope.pool.opens_on) if scope.pool.opens_on else None
    out = {}
    for loan in loans:
        candidates = [loan.request.submitted_at, day_start(loan.request.starts_on), freed.get(loan.pk), opens]
        since = max(c for c in candidates if c is not None)
        out[loan.pk] = (since, _days(loan.starts_at - since))
    return out


def planned_ends(loans) -> dict[int, dt.datetime]:
    """Each loan's planned end as its ledger entries were written (before any recall)."""
    ends: dict[int, dt.datetime] = {}
    for loan_id, planned in Allocation.objects.filter(loan_id__in=[loan.pk for loan in loans]).values_list(
            "loan_id", "planned_ends_at"):
        ends[loan_id] = max(ends.get(loan_id, planned), planned)
    return ends


def recall_figures(loan: Loan, notice_hours: int, planned_end: dt.datetime | None) -> tuple[bool, Decimal]:
    """(had its full notice, GPU-hours inside the notice): the loan kept its GPUs until the notice
    ran out, or until its own planned end if that came first."""
    notice_at = loan.recall_notice_at
    full_until = notice_at + dt.timedelta(hours=notice_hours)
    if planned_end is not None:
        full_until = min(full_until, planned_end)
    inside = max((loan.ends_at - max(notice_at, loan.starts_at)).total_seconds(), 0)
    return loan.ends_at >= full_until, Decimal(loan.gpu_count) * Decimal(inside) / Decimal(3600)


def lent_by_organisation(scope: Scope) -> list[tuple[int, dt.date, Organisation, Decimal]]:
    """(ledger entry, month, organisation, lent GPU-hours) of every loan entry in the range."""
    hours = entry_hours(scope, "lent")
    entries = dict(Allocation.objects.filter(pk__in={aid for aid, _m in hours}).values_list("pk", "loan__organisation_id"))
    organisations = Organisation.objects.in_bulk(set(entries.values()))
    return [(aid, month, organisations[entries[aid]], h) for (aid, month), h in sorted(hours.items())]


def entry_hours(scope: Scope, figure: str) -> dict[tuple[int, dt.date], Decimal]:
    """A ledger figure's GPU-hours per ledger entry and month (its rows)."""
    signs = LEDGER_FIGURES[figure]
    out: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    for (aid, month, category), h in pool_hours_by_entry(scope.pool, signs, scope.first, scope.last, scope.now).items():
        out[(aid, month)] += signs[category] * h
    return {key: h for key, h in out.items() if abs(h) >= Decimal("0.0001")}  # not the float residue of a difference


WHERE_NOW = ("redistributed", "lent", "reserve", "released")


def where_now(hostnames, now) -> dict[str, str]:
    """Where each reclaimed server is now: redistributed (awarded to a project again), lent (in the
    reserve, on loan), reserve (in the reserve, not lent), or released (neither)."""
    rows = (AllocationGpu.objects.filter(gpu__server__hostname__in=list(hostnames), period__contains=now)
            .values_list("gpu__server__hostname", "layer", "allocation__holder_kind"))
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for hostname, layer, kind in rows:
        seen[hostname].add((layer, kind))
    out = {}
    for hostname in hostnames:
        kinds = seen.get(hostname, set())
        if (Layer.AWARD, HolderKind.PROJECT) in kinds or (Layer.AWARD, HolderKind.SUSPENDED) in kinds:
            out[hostname] = "redistributed"
        elif any(layer == Layer.LOAN for layer, _kind in kinds):
            out[hostname] = "lent"
        elif (Layer.AWARD, HolderKind.RESERVE) in kinds:
            out[hostname] = "reserve"
        else:
            out[hostname] = "released"
    return out


# --- The figures ---------------------------------------------------------------------------------

def compute_months(scope: Scope) -> dict[dt.date, Period]:
    """Every month of the scope computed from the data (the store keeps closed months: see
    outcomes.store). A fixed number of queries."""
    periods = {m: Period(month=m) for m in months.months_between(scope.first, scope.last)}
    hours = pool_hours_by_month(scope.pool, scope.first, scope.last, scope.now)
    for period in periods.values():
        for name, categories in LEDGER_FIGURES.items():
            period.ledger[name] = sum((sign * hours.get((c, period.month), Decimal(0)) for c, sign in categories.items()),
                                      Decimal(0))
    for row in counted_reports(scope).values("month").annotate(used=Sum("gpu_hours_used")).order_by():
        periods[row["month"]].used_reported += row["used"] or Decimal(0)
    for _pid, month, value, _source in measured_rows(scope):
        periods[month].used_measured += value
        periods[month].measured_project_months += 1
    for request in decided_requests(scope):
        periods[_month_of(request.reviewed_at)].decision.days.append(_days(request.reviewed_at - request.submitted_at))
    loans = list(started_loans(scope))
    waits = idle_waits(loans, scope)
    for loan in loans:
        org, period = loan.organisation, periods[_month_of(loan.starts_at)]
        period.idle_to_loan.days.append(waits[loan.pk][1])
        period.loans_started += 1
        period.add_lending(org, loans=1)
    for _aid, month, org, h in lent_by_organisation(scope):
        periods[month].add_lending(org, hours=h)
    recalled = list(recalled_loans(scope))
    notice_hours = programme_policy.current().recall_notice_hours
    planned = planned_ends(recalled)
    for loan in recalled:
        full, inside = recall_figures(loan, notice_hours, planned.get(loan.pk))
        period = periods[_month_of(loan.recall_notice_at)]
        period.recalls += 1
        period.recalls_full_notice += int(full)
        period.notice_gpu_hours += inside
    for case in reclaimed_cases(scope):
        period = periods[_month_of(case.decided_at)]
        period.cases_reclaimed += 1
        period.servers_reclaimed += case.decided_servers or 0
    return periods


def reclaimed_now(scope: Scope) -> dict[str, int]:
    """Where the servers reclaimed in the range are now (read live: it is about now)."""
    hostnames = [h for case in reclaimed_cases(scope) for h in (case.outcome or {}).get("servers", [])]
    counts = dict.fromkeys(WHERE_NOW, 0)
    for where in where_now(hostnames, scope.now).values():
        counts[where] += 1
    return counts


def programme_outcomes(first: dt.date | None = None, last: dt.date | None = None, *,
                       now: dt.datetime | None = None, scope: Scope | None = None, months_of=None) -> Outcomes:
    """The outcome figures of the programme's pool for every month from `first` to `last`
    (default: the programme's first month to this month) and over the whole range; or of a `scope`
    already checked (scope_for). `months_of(scope)` gives the months' figures (default: computed;
    the store passes its own, which keeps closed months)."""
    scope = scope or scope_for(first, last, now=now)
    if scope is None:
        current = months.first_day(timezone.localdate())
        return Outcomes(first=current, last=current, months=[], total=Period(month=None),
                        reclaimed_servers=dict.fromkeys(WHERE_NOW, 0))
    periods = (months_of or compute_months)(scope)
    ordered = [periods[m] for m in months.months_between(scope.first, scope.last)]
    return Outcomes(first=scope.first, last=scope.last, months=ordered, total=Period.merged(ordered),
                    reclaimed_servers=reclaimed_now(scope), as_of=scope.now)


# --- The rows behind each figure (the drill-down) ------------------------------------------------

@dataclass
class FigureRow:
    """One thing a figure counts, with what it adds to the figure (`value`)."""

    label: str
    value: Decimal
    url: str = ""
    month: dt.date | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        return {"label": self.label, "value": str(self.value.quantize(HOURS)), "url": self.url,
                "month": months.label(self.month) if self.month else None, "detail": self.detail}


def _moment(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _ledger_rows(scope: Scope, figure: str) -> list[FigureRow]:
    hours = entry_hours(scope, figure)
    per_entry: dict[int, Decimal] = defaultdict(Decimal)
    for (aid, _month), h in hours.items():
        per_entry[aid] += h
    entries = Allocation.objects.filter(pk__in=list(per_entry)).select_related("project", "loan__organisation", "cluster")
    rows = []
    for entry in entries:
        if entry.project_id:
            label, url = f"{entry.project.code} {entry.project.title}", reverse("project-detail", args=[entry.project.code])
        elif entry.loan_id:
            label, url = entry.loan.organisation.name, reverse("lending-loan", args=[entry.loan.public_id])
        else:
            label, url = str(entry.get_holder_kind_display()), ""
        detail = _("%(kind)s · %(gpus)s GPUs of %(cluster)s · %(start)s – %(end)s") % {
            "kind": entry.get_holder_kind_display(), "gpus": entry.gpu_count, "cluster": entry.cluster.code,
            "start": _moment(entry.starts_at), "end": _moment(entry.ends_at)}
        rows.append(FigureRow(label=label, value=per_entry[entry.pk], url=url, detail=detail))
    return sorted(rows, key=lambda r: (-r.value, r.label))


def _report_rows(scope: Scope) -> list[FigureRow]:
    return [
        FigureRow(label=f"{r.project.code} {r.project.title}", value=r.gpu_hours_used, month=r.month,
                  url=reverse("report-detail", args=[r.public_id]), detail=str(r.get_state_display()))
        for r in counted_reports(scope).select_related("project").order_by("month", "project__code")
    ]


def _measured_rows(scope: Scope) -> list[FigureRow]:
    rows = measured_rows(scope)
    projects = Project.objects.in_bulk({pid for pid, *_rest in rows})
    return [
        FigureRow(label=f"{projects[pid].code} {projects[pid].title}", value=value, month=month,
                  detail=str(Source(source).label),
                  url=reverse("project-detail", args=[projects[pid].code]))
        for pid, month, value, source in rows
    ]


def _decision_rows(scope: Scope) -> list[FigureRow]:
    return [
        FigureRow(label=r.organisation.name, value=_days(r.reviewed_at - r.submitted_at), month=_month_of(r.reviewed_at),
                  url=reverse("lending-request", args=[r.public_id]),
                  detail=_("submitted %(submitted)s · decided %(decided)s (%(state)s)") % {
                      "submitted": _moment(r.submitted_at), "decided": _moment(r.reviewed_at), "state": r.get_state_display()})
        for r in decided_requests(scope)
    ]


def _wait_rows(scope: Scope) -> list[FigureRow]:
    loans = list(started_loans(scope))
    waits = idle_waits(loans, scope)
    return [
        FigureRow(label=loan.organisation.name, value=waits[loan.pk][1], month=_month_of(loan.starts_at),
                  url=reverse("lending-loan", args=[loan.public_id]),
                  detail=_("%(gpus)s GPUs usable for it from %(since)s · began %(start)s") % {
                      "gpus": loan.gpu_count, "since": _moment(waits[loan.pk][0]), "start": _moment(loan.starts_at)})
        for loan in loans
    ]


def _loan_rows(scope: Scope) -> list[FigureRow]:
    return [
        FigureRow(label=loan.organisation.name, value=Decimal(1), month=_month_of(loan.starts_at),
                  url=reverse("lending-loan", args=[loan.public_id]),
                  detail=_("%(gpus)s GPUs · %(kind)s · %(region)s · %(start)s – %(end)s") % {
                      "gpus": loan.gpu_count, "kind": loan.organisation.get_kind_display(),
                      "region": loan.organisation.get_region_display(), "start": _moment(loan.starts_at),
                      "end": _moment(loan.ends_at)})
        for loan in started_loans(scope)
    ]


def _organisation_rows(scope: Scope) -> list[FigureRow]:
    per: dict[int, tuple[Organisation, Decimal]] = {}
    for _aid, _month, org, h in lent_by_organisation(scope):
        per[org.pk] = (org, per.get(org.pk, (org, Decimal(0)))[1] + h)
    rows = [FigureRow(label=org.name, value=h, detail=f"{org.get_kind_display()} · {org.get_region_display()}")
            for org, h in per.values()]
    return sorted(rows, key=lambda r: (-r.value, r.label))


def _recall_rows(scope: Scope) -> list[FigureRow]:
    loans = list(recalled_loans(scope))
    notice_hours = programme_policy.current().recall_notice_hours
    planned = planned_ends(loans)
    rows = []
    for loan in loans:
        full, inside = recall_figures(loan, notice_hours, planned.get(loan.pk))
        rows.append(FigureRow(
            label=loan.organisation.name, value=inside, month=_month_of(loan.recall_notice_at),
            url=reverse("lending-loan", args=[loan.public_id]),
            detail=_("notice %(notice)s · ends %(end)s · %(full)s") % {
                "notice": _moment(loan.recall_notice_at), "end": _moment(loan.ends_at),
                "full": _("full notice") if full else _("short notice")}))
    return rows


WHERE_LABELS = {
    "redistributed": gettext_lazy("redistributed to a project"),
    "lent": gettext_lazy("in the reserve, lent"),
    "reserve": gettext_lazy("in the reserve"),
    "released": gettext_lazy("released"),
}


def _reclaimed_rows(scope: Scope) -> list[FigureRow]:
    cases = list(reclaimed_cases(scope))
    where = where_now([h for case in cases for h in (case.outcome or {}).get("servers", [])], scope.now)
    rows = []
    for case in cases:
        servers = (case.outcome or {}).get("servers", [])
        rows.append(FigureRow(
            label=f"{case.project.code} {case.project.title}", value=Decimal(case.decided_servers or 0),
            month=_month_of(case.decided_at), url=reverse("case-detail", args=[case.public_id]),
            detail=", ".join(f"{h}: {WHERE_LABELS[where[h]]}" for h in servers)))
    return rows


# figure name -> (label, unit, rows). The unit says how `value` reads: GPU-hours, days, loans, servers.
FIGURES = {
    "awarded": (gettext_lazy("Awarded"), "gpu_hours", lambda s: _ledger_rows(s, "awarded")),
    "held_started": (gettext_lazy("Held by started projects"), "gpu_hours", lambda s: _ledger_rows(s, "held_started")),
    "idle": (gettext_lazy("Idle before start"), "gpu_hours", lambda s: _ledger_rows(s, "idle")),
    "reserve": (gettext_lazy("In the MSIT reserve"), "gpu_hours", lambda s: _ledger_rows(s, "reserve")),
    "suspended": (gettext_lazy("Suspended"), "gpu_hours", lambda s: _ledger_rows(s, "suspended")),
    "lent": (gettext_lazy("Lent out of idle and reserve"), "gpu_hours", lambda s: _ledger_rows(s, "lent")),
    "lent_from_idle": (gettext_lazy("Lent out of idle"), "gpu_hours", lambda s: _ledger_rows(s, "lent_from_idle")),
    "lent_from_reserve": (gettext_lazy("Lent out of the reserve"), "gpu_hours", lambda s: _ledger_rows(s, "lent_from_reserve")),
    "lent_from_free": (gettext_lazy("Lent out of free GPUs"), "gpu_hours", lambda s: _ledger_rows(s, "lent_from_free")),
    "used_reported": (gettext_lazy("Used by owners (reported)"), "gpu_hours", _report_rows),
    "used_measured": (gettext_lazy("Used by owners (measured)"), "gpu_hours", _measured_rows),
    "submission_to_decision": (gettext_lazy("Submission to decision"), "days", _decision_rows),
    "idle_to_loan_start": (gettext_lazy("Idle GPU to loan start"), "days", _wait_rows),
    "loans_started": (gettext_lazy("Loans started"), "loans", _loan_rows),
    "lent_by_organisation": (gettext_lazy("Lent GPU-hours by organisation"), "gpu_hours", _organisation_rows),
    "recalls": (gettext_lazy("GPU-hours inside recall notices"), "gpu_hours", _recall_rows),
    "servers_reclaimed": (gettext_lazy("Servers reclaimed"), "servers", _reclaimed_rows),
}


def figure_rows(figure: str, first: dt.date | None = None, last: dt.date | None = None, *,
                now: dt.datetime | None = None, scope: Scope | None = None) -> list[FigureRow]:
    """The rows `figure` counts over the range; a few queries whatever their number."""
    scope = scope or scope_for(first, last, now=now)
    if scope is None:
        return []
    return FIGURES[figure][2](scope)
