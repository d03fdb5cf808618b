"""Awards racing from separate database connections: PostgreSQL decides, and the ledger stays
consistent. Each thread has its own connection (Django's are per thread)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from allocation_portal.errors import CapacityConflict
from allocation_portal.models import Role
from gpus.models import Allocation, AllocationGpu, HolderKind
from gpus.selectors import day_start
from gpus.services import allocation_award
from projects.services import project_award_servers
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def race(attempts):
    """Run each callable in its own thread, all released at once; return (results, errors)."""
    barrier = threading.Barrier(len(attempts))
    results, errors = [], []
    lock = threading.Lock()

    def run(attempt):
        try:
            barrier.wait(timeout=10)
            value = attempt()
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def overlapping_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM gpus_allocationgpu a JOIN gpus_allocationgpu b
               ON a.gpu_id = b.gpu_id AND a.layer = b.layer AND a.id < b.id AND a.period && b.period"""
        )
        return cursor.fetchone()[0]


def test_eight_awards_of_the_same_servers_exactly_one_wins():
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=2)
    admin = f.make_user(Role.ADMIN)
    gpus = f.server_gpus(*cluster.servers.all())
    projects = [f.make_project(ministry, gpus=16) for _ in range(8)]
    start = day_start(dt.date(2026, 4, 1))

    def attempt(project, offset):
        return lambda: allocation_award(
            actor=admin,
            holder_kind=HolderKind.PROJECT,
            project=project,
            gpus=gpus,
            starts_at=start + dt.timedelta(days=offset),
            ends_at=start + dt.timedelta(days=90 + offset),
            reason="race",
        )

    results, errors = race([attempt(p, i) for i, p in enumerate(projects)])
    assert len(results) == 1
    assert len(errors) == 7
    assert all(isinstance(e, CapacityConflict) for e in errors), errors
    assert all(e.code == "capacity_conflict" and "gpus" in e.fields for e in errors)
    assert Allocation.objects.count() == 1
    assert AllocationGpu.objects.count() == 16
    assert overlapping_pairs() == 0


def test_ten_awards_for_six_free_servers_exactly_six_succeed():
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=6)
    admin = f.make_user(Role.ADMIN)
    projects = [f.make_project(ministry, gpus=8) for _ in range(10)]
    window = {"starts_at": day_start(dt.date(2026, 4, 1)), "ends_at": day_start(dt.date(2027, 4, 1))}

    def attempt(project):
        return lambda: project_award_servers(
            actor=admin, project=project, cluster=cluster, server_count=1, reason="race", **window
        )

    results, errors = race([attempt(p) for p in projects])
    assert len(results) == 6, errors
    assert len(errors) == 4
    assert all(isinstance(e, CapacityConflict) for e in errors), errors
    held_servers = AllocationGpu.objects.values("gpu__server").distinct().count()
    assert held_servers == 6
    assert AllocationGpu.objects.count() == 48
    assert overlapping_pairs() == 0


def test_disjoint_periods_on_the_same_server_all_succeed():
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=1)
    admin = f.make_user(Role.ADMIN)
    gpus = f.server_gpus(*cluster.servers.all())
    projects = [f.make_project(ministry, gpus=8) for _ in range(8)]

    def attempt(project, month):
        return lambda: allocation_award(
            actor=admin,
            holder_kind=HolderKind.PROJECT,
            project=project,
            gpus=gpus,
            starts_at=day_start(dt.date(2026, month, 1)),
            ends_at=day_start(dt.date(2026, month + 1, 1)),
            reason="race",
        )

    results, errors = race([attempt(p, 4 + i) for i, p in enumerate(projects)])
    assert not errors
    assert len(results) == 8
    assert overlapping_pairs() == 0
