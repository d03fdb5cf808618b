"""The allocation ledger: award, release, change, and the database's refusal to double-book."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange

from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent, Role
from gpus.models import Allocation, AllocationGpu, HolderKind, Layer
from gpus.selectors import day_start
from gpus.services import allocation_award, allocation_change_end, allocation_release
from projects.services import project_award_servers
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=4)
    servers = list(cluster.servers.order_by("hostname"))
    admin = f.make_user(Role.ADMIN)
    return ministry, cluster, servers, admin


def test_it_awards_whole_servers_and_writes_an_audit_event(setup):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=16)
    allocation = f.award(project, servers[:2], actor=admin)
    assert allocation.gpu_count == 16
    assert AllocationGpu.objects.filter(allocation=allocation).count() == 16
    event = AuditEvent.objects.get(action="allocation.award", object_id=str(allocation.public_id))
    assert event.actor == admin
    assert event.after["servers"] == [servers[0].hostname, servers[1].hostname]
    assert event.reason == "test award"


def test_it_refuses_a_gpu_promised_twice_with_a_clear_error(setup):
    ministry, cluster, servers, admin = setup
    first = f.make_project(ministry, gpus=8)
    second = f.make_project(ministry, gpus=8)
    f.award(first, servers[:1])
    with pytest.raises(CapacityConflict) as excinfo:
        f.award(second, servers[:1], start=dt.date(2026, 12, 1))
    assert servers[0].hostname in excinfo.value.message
    assert first.code in excinfo.value.message
    assert not Allocation.objects.filter(project=second).exists()


def test_back_to_back_periods_do_not_overlap(setup):
    ministry, cluster, servers, admin = setup
    first = f.make_project(ministry, gpus=8)
    second = f.make_project(ministry, gpus=8)
    f.award(first, servers[:1], start=dt.date(2026, 4, 1), end=dt.date(2026, 7, 1))
    f.award(second, servers[:1], start=dt.date(2026, 7, 1), end=dt.date(2026, 10, 1))
    assert Allocation.objects.count() == 2


def test_the_database_itself_refuses_overlaps(setup):
    """Bypassing every Python check, PostgreSQL's exclusion constraint still refuses."""
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    allocation = f.award(project, servers[:1])
    gpu = f.server_gpus(servers[0])[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationGpu.objects.create(
            allocation=allocation,
            gpu=f.server_gpus(servers[1])[0],
            layer=Layer.AWARD,
            period=DateTimeTZRange(day_start(dt.date(2026, 1, 1)), day_start(dt.date(2026, 2, 1))),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO gpus_allocationgpu (allocation_id, gpu_id, layer, period) VALUES (%s, %s, 'award', %s)",
                [allocation.pk, gpu.pk, DateTimeTZRange(day_start(dt.date(2026, 5, 1)), day_start(dt.date(2026, 6, 1)))],
            )


def test_a_loan_may_borrow_an_idle_award_but_not_another_loan(setup):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    f.award(project, servers[:1])
    gpus = f.server_gpus(servers[0])[:2]
    f.make_loan(gpus=gpus, start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 1))
    with pytest.raises(CapacityConflict):
        f.make_loan(gpus=gpus[1:], start=dt.date(2026, 5, 15), end=dt.date(2026, 6, 15))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"reason": ""}, "reason"),
        ({"gpus": []}, "gpus"),
        ({"ends_at": day_start(dt.date(2026, 3, 1))}, "ends_at"),
    ],
)
def test_it_validates_awards(setup, kwargs, field):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    base = {
        "actor": admin,
        "holder_kind": HolderKind.PROJECT,
        "project": project,
        "gpus": f.server_gpus(servers[0]),
        "starts_at": day_start(dt.date(2026, 4, 1)),
        "ends_at": day_start(dt.date(2026, 5, 1)),
        "reason": "r",
    }
    with pytest.raises(ValidationFailed) as excinfo:
        allocation_award(**{**base, **kwargs})
    assert field in excinfo.value.fields


def test_projects_hold_whole_servers_only(setup):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    with pytest.raises(ValidationFailed, match="whole servers"):
        allocation_award(
            actor=admin, holder_kind=HolderKind.PROJECT, project=project, gpus=f.server_gpus(servers[0])[:4],
            starts_at=day_start(dt.date(2026, 4, 1)), ends_at=day_start(dt.date(2026, 5, 1)), reason="r",
        )


def test_servers_in_maintenance_cannot_be_promised(db):
    cluster = f.make_cluster(servers=2, maintenance=1)
    project = f.make_project(f.make_ministry(), gpus=8)
    in_maintenance = cluster.servers.get(status="maintenance")
    with pytest.raises(ValidationFailed, match="maintenance"):
        f.award(project, [in_maintenance])


def test_only_msit_admins_change_the_ledger(setup):
    ministry, cluster, servers, admin = setup
    official = f.make_user(Role.OFFICIAL, ministry=ministry)
    project = f.make_project(ministry, gpus=8)
    with pytest.raises(NotPermitted):
        f.award(project, servers[:1], actor=official)


def test_project_award_picks_free_servers_and_respects_the_award(setup):
    ministry, cluster, servers, admin = setup
    other = f.make_project(ministry, gpus=8)
    f.award(other, servers[:1])
    project = f.make_project(ministry, gpus=16)
    window = {"starts_at": day_start(dt.date(2026, 4, 1)), "ends_at": day_start(dt.date(2027, 1, 1))}
    allocation = project_award_servers(actor=admin, project=project, cluster=cluster, server_count=2, reason="r", **window)
    held = set(AllocationGpu.objects.filter(allocation=allocation).values_list("gpu__server__hostname", flat=True))
    assert held == {servers[1].hostname, servers[2].hostname}
    with pytest.raises(ValidationFailed, match="awarded 16 GPUs"):
        project_award_servers(actor=admin, project=project, cluster=cluster, server_count=1, reason="r", **window)
    third = f.make_project(ministry, gpus=16)
    with pytest.raises(CapacityConflict, match="Only 1 servers"):
        project_award_servers(actor=admin, project=third, cluster=cluster, server_count=2, reason="r", **window)


def test_release_ends_the_holding_and_frees_the_gpus(setup, clock):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    allocation = f.award(project, servers[:1])
    at = day_start(dt.date(2026, 10, 1))
    assert allocation_release(actor=admin, allocation=allocation, reason="reclaimed", at=at) is None
    allocation.refresh_from_db()
    assert allocation.ends_at == at and allocation.released_by == admin
    assert allocation.planned_ends_at == day_start(dt.date(2027, 4, 1))
    event = AuditEvent.objects.get(action="allocation.release")
    assert event.before["ends_at"] != event.after["ends_at"]
    # The GPUs are free again from the release on.
    other = f.make_project(ministry, gpus=8)
    f.award(other, servers[:1], start=dt.date(2026, 10, 1))
    with pytest.raises(StateConflict):
        allocation_release(actor=admin, allocation=allocation, reason="again")


def test_partial_release_keeps_the_rest_in_a_continuation(setup, clock):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=24)
    allocation = f.award(project, servers[:3])
    at = day_start(dt.date(2026, 10, 1))
    continuation = allocation_release(
        actor=admin, allocation=allocation, reason="reclaim one server", at=at, gpus=f.server_gpus(servers[2])
    )
    assert continuation.parent == allocation
    assert continuation.gpu_count == 16
    assert continuation.starts_at == at and continuation.ends_at == day_start(dt.date(2027, 4, 1))
    kept = set(AllocationGpu.objects.filter(allocation=continuation).values_list("gpu__server__hostname", flat=True))
    assert kept == {servers[0].hostname, servers[1].hostname}


def test_changing_the_end_must_still_fit(setup):
    ministry, cluster, servers, admin = setup
    first = f.make_project(ministry, gpus=8)
    second = f.make_project(ministry, gpus=8)
    allocation = f.award(first, servers[:1], end=dt.date(2026, 7, 1))
    f.award(second, servers[:1], start=dt.date(2026, 9, 1))
    allocation_change_end(actor=admin, allocation=allocation, ends_at=day_start(dt.date(2026, 9, 1)), reason="extend")
    assert allocation.ends_at == day_start(dt.date(2026, 9, 1))
    with pytest.raises(CapacityConflict):
        allocation_change_end(actor=admin, allocation=allocation, ends_at=day_start(dt.date(2026, 10, 1)), reason="more")
    allocation.refresh_from_db()
    assert allocation.ends_at == day_start(dt.date(2026, 9, 1))
    assert AuditEvent.objects.filter(action="allocation.change").count() == 1


def test_a_failed_change_leaves_no_audit_event(setup):
    ministry, cluster, servers, admin = setup
    project = f.make_project(ministry, gpus=8)
    f.award(project, servers[:1])
    before = AuditEvent.objects.count()
    with pytest.raises(CapacityConflict):
        f.award(f.make_project(ministry, gpus=8), servers[:1])
    assert AuditEvent.objects.count() == before
