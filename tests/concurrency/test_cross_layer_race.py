"""Races across the ledger's two layers, from separate database connections: an award to a started
project against a loan approval for the same servers, and eight awards to one project against its
award. PostgreSQL decides; nothing is ever used twice or held beyond the award."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from allocation_portal.errors import CapacityConflict, ValidationFailed
from allocation_portal.models import Role
from gpus.availability import day_start
from gpus.models import Allocation, HolderKind
from gpus.services import allocation_award, most_held
from lending import services as lending
from lending.models import Loan
from projects.models import Project
from projects.services import project_award_servers
from tests import factories as f
from tests.concurrency.test_award_race import overlapping_pairs, race
from tests.conftest import KST
from tests.gpus.test_cross_layer import overlapping_uses
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 9, 10, 10, tzinfo=KST), tick=True):
        yield


@pytest.mark.parametrize("attempt", range(3))
def test_an_award_to_a_started_project_and_a_loan_approval_for_the_same_server(frozen, attempt):
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=1)
    admin = f.make_user(Role.ADMIN)
    project = f.make_project(ministry, started=True, gpus=8, planned_start=dt.date(2026, 9, 1))
    org = f.make_organisation()
    request = lending.request_submit(actor=f.make_user(Role.APPLICANT, organisation=org),
                                     values=request_values(gpu_count=8))
    gpu_ids = [g.pk for g in f.server_gpus(*cluster.servers.all())]

    def award():
        return allocation_award(actor=admin, holder_kind=HolderKind.PROJECT, project=Project.objects.get(pk=project.pk),
                                gpus=f.server_gpus(*cluster.servers.all()), starts_at=day_start(dt.date(2026, 9, 10)),
                                ends_at=day_start(dt.date(2027, 4, 1)), reason="race")

    def approve():
        return lending.request_approve(actor=admin, request=request, gpu_ids=gpu_ids)

    results, errors = race([award, approve])
    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], CapacityConflict), errors
    assert overlapping_uses() == 0 and overlapping_pairs() == 0
    # Exactly one of the two holds the server.
    assert Allocation.objects.filter(project=project).exists() != Loan.objects.filter(request=request).exists()


def test_eight_concurrent_awards_to_one_project_never_exceed_its_award(frozen):
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=24)
    admin = f.make_user(Role.ADMIN)
    project = f.make_project(ministry, started=True, gpus=24, planned_start=dt.date(2026, 9, 1))
    window = {"starts_at": day_start(dt.date(2026, 9, 10)), "ends_at": day_start(dt.date(2027, 4, 1))}

    def attempt():
        return project_award_servers(actor=admin, project=Project.objects.get(pk=project.pk), cluster=cluster,
                                     server_count=3, reason="race", **window)

    results, errors = race([attempt] * 8)
    assert len(results) == 1 and len(errors) == 7, errors
    assert all(isinstance(e, ValidationFailed) and "server_count" in e.fields for e in errors), errors
    assert most_held(project, **window) == 24
    assert overlapping_pairs() == 0
