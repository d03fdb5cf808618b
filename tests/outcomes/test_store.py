"""Kept months: the job keeps ended months, requests read them (and never write), and any change to
what they were computed from (however it is written) makes them computed again, also when it commits
while they are computed."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from allocation_portal.policy import policy_update
from lending.models import Organisation
from monitoring.models import UsageReport
from outcomes import store
from outcomes.figures import programme_outcomes, scope_for
from outcomes.models import OutcomeMonth
from outcomes.tasks import keep_outcome_months
from tests.monitoring.test_monthly_check import policy_values
from tests.outcomes.conftest import APR, JUN, MAY

pytestmark = pytest.mark.django_db


def same(a, b):
    return a.to_dict() == b.to_dict()


def test_ended_months_are_kept_by_the_job_and_read_back(small_world, django_assert_num_queries):
    first = store.outcomes(APR, JUN)
    assert same(first, programme_outcomes(APR, JUN)) and first.computed_live == [APR, MAY, JUN]
    assert not OutcomeMonth.objects.exists()  # a read computes, it does not keep
    assert keep_outcome_months() == 3
    assert sorted(OutcomeMonth.objects.values_list("month", flat=True)) == [APR, MAY, JUN]
    assert all(m.computed_version == m.version for m in OutcomeMonth.objects.all())
    with django_assert_num_queries(4):  # pool, the kept months, reclaimed cases, where their servers are
        again = store.outcomes(APR, JUN)
    assert same(again, first) and again.computed_live == []


def test_the_month_under_way_is_never_kept(small_world):
    store.keep()
    assert not OutcomeMonth.objects.filter(month=dt.date(2026, 7, 1)).exists()


@pytest.mark.parametrize("change", ["report", "organisation", "policy", "ledger", "loan"])
def test_a_change_to_an_ended_month_is_seen_however_it_is_written(small_world, change):
    store.keep()
    if change == "report":  # an UPDATE no service made: the trigger still sees it
        UsageReport.objects.filter(project=small_world["c"], month=MAY).update(state="submitted")
    elif change == "organisation":
        Organisation.objects.filter(name="대학 Y").update(kind="research")
    elif change == "policy":
        policy_update(actor=small_world["admin"], reason="test", values={**policy_values(), "recall_notice_hours": 24})
    elif change == "ledger":  # C's April ends a week early (a correction of the past)
        from gpus.models import AllocationGpu

        held = AllocationGpu.objects.filter(allocation__project=small_world["c"], allocation__holder_kind="project")
        for row in held:
            row.period = (row.period.lower, row.period.lower + dt.timedelta(days=23))
            row.save(update_fields=["period"])
    elif change == "loan":
        from lending.models import Loan

        Loan.objects.filter(organisation__name="산업체 X", starts_at__month=5).update(
            state="ended", end_reason="declined", ended_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    read = store.outcomes(APR, JUN)
    assert same(read, programme_outcomes(APR, JUN)) and read.computed_live
    store.keep()
    assert all(m.computed_version == m.version for m in OutcomeMonth.objects.all())
    assert same(store.outcomes(APR, JUN), programme_outcomes(APR, JUN))


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_while_a_month_is_computed_leaves_it_to_be_computed_again(small_world, monkeypatch):
    """Another connection submits C's returned May report while the store computes May: the figures
    saved are of the old data, so the month must stay stale and the next read count the report."""
    computing = store.compute_months

    def compute_with_a_write_meanwhile(scope):
        periods = computing(scope)

        def write():
            UsageReport.objects.filter(project=small_world["c"], month=MAY).update(state="submitted")
            connections.close_all()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=30)
        return periods

    monkeypatch.setattr(store, "compute_months", compute_with_a_write_meanwhile)
    store.keep()
    may, april = OutcomeMonth.objects.get(month=MAY), OutcomeMonth.objects.get(month=APR)
    assert may.computed_version != may.version  # computed before the write committed: not kept as current
    assert april.computed_version == april.version  # the write did not touch April
    monkeypatch.setattr(store, "compute_months", computing)
    read = store.outcomes(APR, JUN)
    assert read.months[1].used_reported == Decimal(6000) and MAY in read.computed_live


def test_rebuild_computes_every_ended_month_again(small_world):
    store.keep()
    versions = dict(OutcomeMonth.objects.values_list("month", "version"))
    assert store.rebuild() == 3 and scope_for().first == APR
    for month in OutcomeMonth.objects.all():
        assert month.version == versions[month.month] + 1 and month.computed_version == month.version


def test_the_figures_of_now_follow_every_write_at_once(small_world):
    july = dt.date(2026, 7, 1)
    before = store.outcomes(july, july)
    assert store.outcomes(july, july).as_of == before.as_of  # kept: the same moment
    UsageReport.objects.filter(project=small_world["a"], month=JUN).update(gpu_hours_used=1)  # any write
    after = store.outcomes(july, july)
    assert same(after, programme_outcomes(july, july))
    forecast, _as_of = store.forecast()
    assert [p.code for p, _n in forecast.months[2].starting] == ["O-B"]
    type(small_world["b"]).objects.filter(pk=small_world["b"].pk).update(expected_start=dt.date(2026, 8, 10))
    moved, _as_of = store.forecast()
    assert [p.code for p, _n in moved.months[1].starting] == ["O-B"] and not moved.months[2].starting
