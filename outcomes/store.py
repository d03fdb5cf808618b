"""Kept figures, so the dashboard and the API do not compute years of ledger on each request.

- Ended months are computed once and kept (outcomes.models.OutcomeMonth). Triggers in the database
  add one to a kept month's version whenever a row it was computed from changes, and a month's
  figures are saved only for the version read before they were computed, so a change that commits
  meanwhile leaves the month to be computed again.
- The figures of now (the month under way, the forecast) are kept for at most NOW_SECONDS under the
  portal's change number (allocation_portal.kept): any write to what they are computed from moves
  it on, so they are computed again on the next read. Between two writes they lag behind the clock
  by at most NOW_SECONDS (the page says as of when)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from allocation_portal import months
from allocation_portal.kept import kept

from .figures import Outcomes, Period, Scope, compute_months, programme_outcomes, scope_for
from .forecast import Forecast, programme_forecast
from .models import OutcomeMonth

NOW_SECONDS = 600


def current_month(scope: Scope) -> tuple[Period, dt.datetime]:
    """The month under way, as of at most NOW_SECONDS ago."""
    month = _current(scope)

    def compute():
        return compute_months(Scope(pool=scope.pool, first=month, last=month, now=scope.now))[month].state()

    state, as_of = kept(f"outcomes:month:{scope.pool.pk}:{month:%Y-%m}", compute, seconds=NOW_SECONDS, now=scope.now)
    return Period.from_state(month, state), as_of


def forecast(*, now: dt.datetime | None = None) -> tuple[Forecast, dt.datetime]:
    """The three-month forecast, as of at most NOW_SECONDS ago."""
    now = now or timezone.now()
    return kept(f"outcomes:forecast:{months.first_day(timezone.localtime(now).date()):%Y-%m}",
                lambda: programme_forecast(now=now), seconds=NOW_SECONDS, now=now)


def _current(scope: Scope) -> dt.date:
    return months.first_day(timezone.localtime(scope.now).date())


@dataclass
class Read:
    periods: dict[dt.date, Period]
    as_of: dt.datetime  # the moment the month under way was computed at
    computed: list[dt.date]  # ended months that were not kept (or out of date) and were computed


def kept_months(scope: Scope, *, keep: bool = False) -> Read:
    """The scope's months: ended ones from the store where they are current, the rest computed; with
    `keep` (the job, never a request: a GET writes nothing), the ended ones computed are kept."""
    current = _current(scope)
    wanted = list(months.months_between(scope.first, scope.last))
    ended = [m for m in wanted if m < current]
    rows = {row.month: row for row in OutcomeMonth.objects.filter(month__in=ended)}
    periods = {m: Period.from_state(m, row.figures) for m, row in rows.items()
               if row.figures is not None and row.computed_version == row.version}
    missing = [m for m in ended if m not in periods]
    versions: dict[dt.date, int] = {}
    if missing and keep:
        OutcomeMonth.objects.bulk_create([OutcomeMonth(month=m) for m in missing if m not in rows], ignore_conflicts=True)
        versions = dict(OutcomeMonth.objects.filter(month__in=missing).values_list("month", "version"))
    if missing:
        computed = compute_months(Scope(pool=scope.pool, first=min(missing), last=max(missing), now=scope.now))
        for month in missing:
            periods[month] = computed[month]
            if keep:
                OutcomeMonth.objects.filter(month=month, version=versions[month]).update(
                    figures=computed[month].state(), computed_at=scope.now, computed_version=F("version"))
    as_of = scope.now
    if scope.last >= current:
        periods[current], as_of = current_month(scope)
    return Read(periods=periods, as_of=as_of, computed=missing)


def outcomes(first: dt.date | None = None, last: dt.date | None = None, *, now: dt.datetime | None = None,
             scope: Scope | None = None) -> Outcomes:
    """programme_outcomes with the kept figures: ended months from the store, the month under way as
    of at most NOW_SECONDS ago (`as_of`). Ended months that were not kept yet are computed, and listed
    in `computed_live` (the caller asks the job to keep them: keep_soon)."""
    reads: list[Read] = []

    def months_of(chosen: Scope) -> dict[dt.date, Period]:
        reads.append(kept_months(chosen))
        return reads[-1].periods

    result = programme_outcomes(first, last, now=now, scope=scope, months_of=months_of)
    if reads:
        result.as_of, result.computed_live = reads[0].as_of, reads[0].computed
    return result


def keep(*, now: dt.datetime | None = None) -> int:
    """Compute and keep the programme's ended months that are missing or out of date (the daily
    job). Returns how many ended months there are."""
    scope = scope_for(now=now)
    if scope is None:
        return 0
    return len([m for m in kept_months(scope, keep=True).periods if m < _current(scope)])


def rebuild(*, now: dt.datetime | None = None) -> int:
    """Compute every ended month again and keep it (`manage.py rebuild_outcomes`)."""
    OutcomeMonth.objects.update(version=F("version") + 1)
    return keep(now=now)
