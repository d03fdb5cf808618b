"""Measured use per project (or loan) and month, beside what the ledger says was held.

- scheduled GPU-hours: Slurm accounting, the GPU time the holder's jobs had;
- busy GPU-hours: telemetry, the GPU time the GPUs worked, with the GPU-hours that had data;
- `measured`: the figure the portal compares reports with — scheduled where the month's accounting
  was received from every provider whose servers the holder used, else busy where telemetry covers
  the GPU-hours held (to the policy's share), else none: incomplete data is never read as no use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from allocation_portal import months

from .models import MeasuredUsage, Source, UsageHolder

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


MEASURED_BY_MONTH_SQL = """
WITH months AS (
    SELECT generate_series(%(first)s::date, %(last)s::date, interval '1 month')::date AS month
), usage AS (
    SELECT mu.project_id, date_trunc('month', mu.day)::date AS month, mu.source,
           sum(mu.gpu_seconds) AS seconds, sum(mu.covered_seconds) AS covered
    FROM metering_measuredusage mu JOIN metering_usagebatch b ON b.id = mu.batch_id AND b.current
    WHERE mu.project_id = ANY(%(ids)s) AND mu.holder_kind = 'project' AND mu.day >= %(first)s AND mu.day < %(end_day)s
    GROUP BY 1, 2, 3
), wanted AS (  -- the providers whose servers each project held in the period
    SELECT DISTINCT a.project_id, c.provider_id
    FROM gpus_allocation a JOIN gpus_cluster c ON c.id = a.cluster_id
    WHERE a.project_id = ANY(%(ids)s) AND a.holder_kind = 'project' AND a.starts_at < %(end)s AND a.ends_at > %(start)s
), received AS (  -- the months each provider's accounting was received for
    SELECT provider_id, date_trunc('month', period_start AT TIME ZONE %(tz)s)::date AS month
    FROM metering_usagebatch WHERE source = 'sacct' AND current AND period_start >= %(start)s AND period_start < %(end)s
), complete AS (
    SELECT w.project_id, m.month, bool_and(r.provider_id IS NOT NULL) AS complete
    FROM wanted w CROSS JOIN months m
    LEFT JOIN received r ON r.provider_id = w.provider_id AND r.month = m.month
    GROUP BY 1, 2
)
SELECT coalesce(u.project_id, c.project_id), coalesce(u.month, c.month), u.source, u.seconds, u.covered,
       coalesce(c.complete, false)
FROM usage u FULL JOIN complete c ON c.project_id = u.project_id AND c.month = u.month
"""


def measured_by_month(project_ids, first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], Measured]:
    """{(project id, month): Measured} for the months from `first` to `last`, in one query. A month
    whose accounting every provider of the project sent, with no job in it, is zero scheduled use."""
    ids = list(project_ids)
    if not ids:
        return {}
    first, last = months.first_day(first), months.first_day(last)
    start, end = months.start_of(first), months.start_of(months.next_month(last))
    params = {"ids": ids, "first": first, "last": last, "end_day": months.next_month(last), "start": start,
              "end": end, "tz": str(timezone.get_default_timezone())}
    found: dict[tuple[int, dt.date], Measured] = {}
    with connection.cursor() as cursor:
        cursor.execute(MEASURED_BY_MONTH_SQL, params)
        for project_id, month, source, seconds, covered, complete in cursor.fetchall():
            cell = found.setdefault((project_id, month), Measured())
            cell.scheduled_complete = cell.scheduled_complete or bool(complete)
            if source == Source.SCHEDULER:
                cell.scheduled = _hours(seconds)
            elif source == Source.TELEMETRY:
                cell.busy, cell.covered = _hours(seconds), _hours(covered)
    for cell in found.values():
        if cell.scheduled is None and cell.scheduled_complete:
            cell.scheduled = Decimal(0)  # every provider sent the month, and no job ran on the project's servers
    return {key: cell for key, cell in found.items() if cell.scheduled is not None or cell.busy is not None}


def measured_for_loan(loan) -> Measured:
    """What the borrower's use measured over the loan."""
    rows = (MeasuredUsage.objects.filter(loan=loan, batch__current=True).values("source")
            .annotate(seconds=Sum("gpu_seconds"), covered=Sum("covered_seconds")))
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
