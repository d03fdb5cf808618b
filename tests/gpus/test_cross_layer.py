"""The ledger across its two layers: no GPU is used by a loan and by a started project at
overlapping times (a database rule), awards are bounded by the project's award and period, no
release is written in the past, and a programme lends only from its own pool."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from allocation_portal.errors import CapacityConflict, ValidationFailed
from gpus.availability import day_start, lendable_servers
from gpus.models import Allocation, AllocationGpu, HolderKind
from gpus.services import allocation_award, allocation_release
from lending import services as lending
from lending.selectors import propose, request_window
from projects.services import project_award_servers
from tests import factories as f
from tests.conftest import KST
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def overlapping_uses() -> int:
    """Pairs of holdings that use the same GPU at overlapping times, whatever their layer."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM gpus_allocationgpu a JOIN gpus_allocationgpu b
               ON a.gpu_id = b.gpu_id AND a.id < b.id AND a.occupied && b.occupied"""
        )
        return cursor.fetchone()[0]


def test_an_award_to_a_started_project_cannot_take_servers_on_loan(world, clock):
    lent = world.cluster.servers.get(hostname="clw-005")
    f.make_loan(gpus=f.server_gpus(lent)[:2], start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 1))
    started = f.make_project(world.ministry_a, started=True, gpus=8, planned_start=dt.date(2026, 9, 1))
    with pytest.raises(CapacityConflict) as refused:
        f.award(started, [lent], start=dt.date(2026, 9, 10))
    assert "clw-005" in refused.value.message
    # project_award_servers passes over the lent server and takes a free one.
    allocation = project_award_servers(actor=world.admin, project=started, cluster=world.cluster, server_count=1,
                                       starts_at=day_start(dt.date(2026, 9, 10)), ends_at=day_start(dt.date(2027, 4, 1)),
                                       reason="award")
    assert "clw-005" not in {r.gpu.server.hostname for r in allocation.gpu_rows.select_related("gpu__server")}
    # A project that has not started may be awarded a lent server: its GPUs are idle until it starts.
    idle = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2027, 1, 4))
    f.award(idle, [lent])
    assert overlapping_uses() == 0


def test_the_database_refuses_a_use_that_overlaps_a_loan(world, clock):
    """Past every Python check: a started project's award row that overlaps a loan's period."""
    lent = world.cluster.servers.get(hostname="clw-006")
    gpu = f.server_gpus(lent)[0]
    f.make_loan(gpus=[gpu], start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 1))
    idle = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2027, 1, 4))
    allocation = f.award(idle, [lent])
    row = AllocationGpu.objects.get(allocation=allocation, gpu=gpu)
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationGpu.objects.filter(pk=row.pk).update(in_use_from=day_start(dt.date(2026, 10, 1)))
    # Used from the loan's end is fine.
    AllocationGpu.objects.filter(pk=row.pk).update(in_use_from=day_start(dt.date(2026, 11, 1)))
    assert overlapping_uses() == 0


def test_a_started_project_holds_no_more_than_its_award_in_any_period(world, clock):
    project = f.make_project(world.ministry_a, started=True, gpus=16, planned_start=dt.date(2026, 9, 1))
    servers = list(world.cluster.servers.filter(hostname__in=["clw-005", "clw-006", "clw-007"]).order_by("hostname"))
    f.award(project, servers[:1], start=dt.date(2026, 9, 10), end=dt.date(2026, 12, 1))
    f.award(project, servers[1:2], start=dt.date(2026, 12, 1))  # back to back: one server at a time
    f.award(project, servers[2:3], start=dt.date(2026, 9, 10))
    with pytest.raises(ValidationFailed, match="awarded 16 GPUs and already holds 16"):
        f.award(project, [world.cluster.servers.get(hostname="clw-008")], start=dt.date(2026, 10, 1))


@pytest.mark.parametrize("start, end, field", [
    (dt.date(2026, 3, 1), dt.date(2026, 6, 1), "starts_at"),   # before the programme's first award day
    (dt.date(2026, 10, 1), dt.date(2027, 6, 1), "ends_at"),    # after the project's end (2027-03-31)
])
def test_awards_outside_the_projects_period_are_refused(world, clock, start, end, field):
    project = f.make_project(world.ministry_a, gpus=8)
    with pytest.raises(ValidationFailed) as refused:
        f.award(project, [world.cluster.servers.get(hostname="clw-005")], start=start, end=end)
    assert field in refused.value.fields
    assert not Allocation.objects.filter(project=project).exists()


def test_the_api_refuses_an_award_outside_the_period(world, api_for, clock):
    response = api_for(world.admin).post(
        f"/api/v1/projects/{world.project_a2.code}/award/",
        {"cluster": world.cluster.code, "server_count": 1, "starts_on": "2027-03-01", "ends_on": "2027-06-01",
         "reason": "too long"}, format="json")
    assert response.status_code == 400 and "ends_at" in response.json()["error"]["fields"]


def test_a_release_in_the_past_is_refused_in_the_service_and_the_api(world, api_for, clock):
    before = world.allocation_a.ends_at
    with pytest.raises(ValidationFailed, match="never in the past"):
        allocation_release(actor=world.admin, allocation=world.allocation_a, reason="r", at=day_start(dt.date(2026, 8, 1)))
    response = api_for(world.admin).post(
        f"/api/v1/allocations/{world.allocation_a.public_id}/release/",
        {"reason": "backdated", "at": "2026-08-01T00:00:00+09:00"}, format="json")
    assert response.status_code == 400 and "at" in response.json()["error"]["fields"]
    world.allocation_a.refresh_from_db()
    assert world.allocation_a.ends_at == before and world.allocation_a.released_at is None
    # Now (or later) is allowed.
    allocation_release(actor=world.admin, allocation=world.allocation_a, reason="now")


def test_loans_draw_only_from_the_programmes_pool(world, clock):
    other = f.make_cluster(servers=2, code="gov", pool=f.other_pool())
    window = day_start(dt.date(2026, 9, 20)), day_start(dt.date(2026, 11, 20))
    offered = {o.hostname for o in lendable_servers("B200", *window)}
    assert offered and not {s.hostname for s in other.servers.all()} & offered
    request = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    assert request.pool.code == "nai-2026"
    with pytest.raises(ValidationFailed, match="not in the programme's pool"):
        lending.request_approve(actor=world.admin, request=request,
                                gpu_ids=[g.pk for g in f.server_gpus(other.servers.first())])


def test_a_loan_approved_after_its_first_day_starts_at_the_approval(world, clock):
    request = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=2))  # from 2026-09-20
    approved_at = dt.datetime(2026, 9, 25, 15, 30, tzinfo=KST)
    clock.move_to(approved_at)
    offer = lending.request_approve(actor=world.admin, request=request,
                                    gpu_ids=propose("B200", 2, *request_window(request)).gpu_ids)
    assert offer.state == "offered"
    loan = lending.offer_accept(actor=world.applicant, loan=offer)
    assert loan.starts_at == approved_at and loan.state == "active"
    assert Allocation.objects.get(loan=loan).starts_at == approved_at


def test_reserve_servers_are_lent_after_idle_ones_and_never_outside_the_pool(world, clock):
    reserve_server = world.cluster.servers.get(hostname="clw-008")
    allocation_award(actor=None, holder_kind=HolderKind.RESERVE, gpus=f.server_gpus(reserve_server),
                     starts_at=day_start(dt.date(2026, 9, 1)), ends_at=day_start(dt.date(2027, 4, 1)), reason="reclaimed")
    offers = {o.hostname: o.source for o in lendable_servers("B200", day_start(dt.date(2026, 9, 20)),
                                                              day_start(dt.date(2026, 11, 20)))}
    assert offers["clw-003"] == "idle" and offers["clw-008"] == "reserve" and offers["clw-005"] == "free"
