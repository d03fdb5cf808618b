"""Measured use per project (or loan) and month, beside what the ledger says was held.

- scheduled GPU-hours: Slurm accounting, the GPU time the holder's jobs had;
- busy GPU-hours: telemetry, the GPU time the GPUs worked, with the GPU-hours that had data;
- `measured`: the figure the portal compares reports with — scheduled where the month's accounting
  was received from every provider whose servers the holder used, else busy where telemetry covers
  the GPU-hours held (to the policy's share), else none: incomplete data is never read as no use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from allocation_portal import months
from gpus.models import Allocation, HolderKind

from .models import MeasuredUsage, Source, UsageBatch, UsageHolder

COMPLETE_COVERAGE = Decimal("0.99")
HOUR = Decimal(3600)


def _hours(seconds) -> Decimal:
    return (Decimal(str(seconds or 0)) / HOUR).quantize(Decimal("0.1"))


@dataclass
class Measured:
    scheduled: Decimal | None = None  # None: no accounting received for the month
    busy: Decimal | None = None  # None: no telemetry
    covered: Decimal | None = None  # GPU-hours of telemetry data
    scheduled_complete: bool = False

    def coverage(self, allocated: Decimal | None) -> Decimal | None:
        if self.covered is None or not allocated:
            return None
        return min(self.covered / allocated, Decimal(1)).quantize(Decimal("0.001"))

    def measured(self, allocated: Decimal | None) -> tuple[Decimal | None, str]:
        """(GPU-hours, source): the comparable measured figure, or (None, "") when data is incomplete."""
        if self.scheduled is not None and self.scheduled_complete:
            return self.scheduled, Source.SCHEDULER
        coverage = self.coverage(allocated)
        if self.busy is not None and coverage is not None and coverage >= COMPLETE_COVERAGE:
            return self.busy, Source.TELEMETRY
        return None, ""


def measured_by_month(project_ids, first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], Measured]:
    """{(project id, month): Measured} for the months from `first` to `last` (two queries)."""
    ids = list(project_ids)
    if not ids:
        return {}
    start, end = months.start_of(first), months.start_of(months.next_month(last))
    rows = (
        MeasuredUsage.objects.filter(project_id__in=ids, holder_kind=UsageHolder.PROJECT, day__gte=start.date(),
                                     day__lt=end.date(), batch__current=True)
        .annotate(month=TruncMonth("day"))
        .values("project_id", "month", "source")
        .annotate(seconds=Sum("gpu_seconds"), covered=Sum("covered_seconds"))
    )
    found: dict[tuple[int, dt.date], Measured] = defaultdict(Measured)
    for row in rows:
        cell = found[(row["project_id"], row["month"])]
        if row["source"] == Source.SCHEDULER:
            cell.scheduled = _hours(row["seconds"])
        else:
            cell.busy, cell.covered = _hours(row["seconds"]), _hours(row["covered"])
    # Accounting is complete for a month when every provider whose servers the project held sent it.
    providers = defaultdict(set)
    for project_id, provider_id in (
        Allocation.objects.filter(project_id__in=ids, holder_kind=HolderKind.PROJECT, starts_at__lt=end, ends_at__gt=start)
        .values_list("project_id", "cluster__provider_id").distinct()
    ):
        providers[project_id].add(provider_id)
    received = defaultdict(set)
    for provider_id, month in (
        UsageBatch.objects.filter(source=Source.SCHEDULER, current=True, period_start__gte=start, period_start__lt=end)
        .values_list("provider_id", "period_start")
    ):
        received[months.first_day(month.astimezone(start.tzinfo).date())].add(provider_id)
    for (project_id, month), cell in found.items():
        if cell.scheduled is not None:
            cell.scheduled_complete = bool(providers[project_id]) and providers[project_id] <= received[month]
    for project_id, wanted in providers.items():  # a month with accounting from all and no job: zero use
        for month in months.months_between(first, last):
            if wanted and wanted <= received[month] and (project_id, month) not in found:
                found[(project_id, month)] = Measured(scheduled=Decimal(0), scheduled_complete=True)
    return dict(found)


def measured_for_loan(loan) -> Measured:
    """What the borrower's use measured over the loan."""
    rows = (MeasuredUsage.objects.filter(loan=loan, batch__current=True).values("source")
            .annotate(seconds=Sum("gpu_seconds"), covered=Sum("covered_seconds"), n=Count("id")))
    cell = Measured()
    for row in rows:
        if row["source"] == Source.SCHEDULER:
            cell.scheduled, cell.scheduled_complete = _hours(row["seconds"]), True
        else:
            cell.busy, cell.covered = _hours(row["seconds"]), _hours(row["covered"])
    return cell


def unattributed_by_month(first: dt.date, last: dt.date) -> list[dict]:
    """Use on GPUs nobody held (or a suspended project): per provider and month, for MSIT."""
    start, end = months.start_of(first), months.start_of(months.next_month(last))
    return list(
        MeasuredUsage.objects.filter(holder_kind=UsageHolder.UNATTRIBUTED, batch__current=True, day__gte=start.date(),
                                     day__lt=end.date())
        .annotate(month=TruncMonth("day"))
        .values("batch__provider__code", "month", "source")
        .annotate(seconds=Sum("gpu_seconds"), servers=Count("server", distinct=True))
        .order_by("month", "batch__provider__code", "source")
        .filter(~Q(seconds=0))
    )
