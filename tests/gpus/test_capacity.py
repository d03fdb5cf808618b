"""Capacity at a date, per provider and cluster: total, awarded, held by started projects, idle,
reserve, free, on loan, in maintenance, lendable."""

import datetime as dt

import pytest

from gpus.models import HolderKind
from gpus.selectors import capacity_at, day_start
from gpus.services import allocation_award
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=6, maintenance=1)
    servers = list(cluster.servers.order_by("hostname"))
    started = f.make_project(ministry, gpus=16, started=True, actual_start=dt.date(2026, 5, 1))
    waiting = f.make_project(ministry, gpus=8, planned_start=dt.date(2026, 9, 1))
    f.award(started, servers[0:2], start=dt.date(2026, 4, 1), end=dt.date(2027, 1, 1))
    f.award(waiting, servers[2:3], start=dt.date(2026, 4, 1), end=dt.date(2027, 1, 1))
    # MSIT reserve holds one server from August; two GPUs of the idle project's server are on loan in June.
    allocation_award(
        actor=None, holder_kind=HolderKind.RESERVE, gpus=f.server_gpus(servers[3]),
        starts_at=day_start(dt.date(2026, 8, 1)), ends_at=day_start(dt.date(2027, 1, 1)), reason="reclaimed",
    )
    f.make_loan(gpus=f.server_gpus(servers[2])[:2], start=dt.date(2026, 6, 1), end=dt.date(2026, 7, 1))
    return cluster


def caps(day):
    report = capacity_at(day)
    assert len(report.clusters) == 1
    return report.clusters[0].capacity


def test_before_anyone_starts_everything_awarded_is_idle(scene):
    cap = caps(dt.date(2026, 4, 15))
    assert (cap.total, cap.awarded, cap.held_started, cap.idle, cap.reserve, cap.free) == (48, 24, 0, 24, 0, 24)
    assert cap.maintenance == 8
    # In service: 40 GPUs, none used by a started project, none on loan.
    assert cap.lendable == 40


def test_started_projects_hold_and_loans_borrow_idle(scene):
    cap = caps(dt.date(2026, 6, 15))
    assert (cap.awarded, cap.held_started, cap.idle, cap.on_loan) == (24, 16, 8, 2)
    assert cap.lendable == 40 - 16 - 2


def test_the_reserve_is_neither_awarded_nor_free(scene):
    cap = caps(dt.date(2026, 8, 15))
    assert (cap.reserve, cap.free, cap.awarded) == (8, 16, 24)
    assert cap.total == cap.awarded + cap.reserve + cap.free


def test_after_the_awards_end_everything_is_free(scene):
    cap = caps(dt.date(2027, 2, 1))
    assert (cap.awarded, cap.reserve, cap.free) == (0, 0, 48)


def test_capacity_runs_a_fixed_number_of_queries(scene, django_assert_num_queries):
    f.make_cluster(servers=3)
    with django_assert_num_queries(4):
        report = capacity_at(dt.date(2026, 6, 15))
    assert len(report.by_provider()) == 2
    assert report.totals.total == 72
