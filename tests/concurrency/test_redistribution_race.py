"""A redistribution approval racing another approval for the same servers, on separate connections:
exactly one wins, the loser writes nothing and says why."""

import datetime as dt

import pytest
import time_machine

from allocation_portal.errors import CapacityConflict, StateConflict
from allocation_portal.models import Role
from gpus.models import HolderKind
from gpus.selectors import day_start
from gpus.services import allocation_award
from lending import services as lending
from lending.models import Loan
from monitoring import redistribution
from monitoring.models import RedistributionProposal
from projects.services import gpu_request_create
from tests import factories as f
from tests.concurrency.test_award_race import overlapping_pairs, race
from tests.conftest import KST
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene():
    with time_machine.travel(dt.datetime(2026, 9, 10, 10, tzinfo=KST), tick=True):
        ministry = f.make_ministry()
        cluster = f.make_cluster(servers=1)
        allocation_award(actor=None, holder_kind=HolderKind.RESERVE, gpus=f.server_gpus(*cluster.servers.all()),
                         starts_at=day_start(dt.date(2026, 9, 1)), ends_at=day_start(dt.date(2027, 4, 1)), reason="reclaimed")
        project = f.make_project(ministry, started=True, gpus=8)
        yield {
            "admin": f.make_user(Role.ADMIN), "official": f.make_user(Role.OFFICIAL, ministry=ministry), "project": project,
            "orgs": [f.make_organisation() for _ in range(2)],
        }


def test_a_redistribution_to_a_request_races_a_direct_approval(scene):
    admin = scene["admin"]
    requests = [lending.request_submit(actor=f.make_user(Role.APPLICANT, organisation=org), values=request_values(gpu_count=8))
                for org in scene["orgs"]]
    lending.request_score(actor=admin, request=requests[0], score=90)
    proposal = redistribution.redistribution_propose(actor=admin)[0]
    assert proposal.loan_request == requests[0]

    results, errors = race([
        lambda: redistribution.proposal_approve(actor=admin, proposal=proposal),
        lambda: lending.request_approve(actor=admin, request=requests[1], gpu_ids=proposal.gpu_ids),
    ])
    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], CapacityConflict)
    assert Loan.objects.count() == 1 and overlapping_pairs() == 0
    proposal.refresh_from_db()
    assert proposal.state in ("approved", "stale")
    assert (proposal.state == "approved") == Loan.objects.filter(request=requests[0]).exists()


def test_a_reserve_server_for_a_project_races_a_loan_on_it(scene):
    admin = scene["admin"]
    gpu_request_create(actor=scene["official"], project=scene["project"], servers=1, reason="more")
    request = lending.request_submit(actor=f.make_user(Role.APPLICANT, organisation=scene["orgs"][0]),
                                     values=request_values(gpu_count=8))
    proposal = RedistributionProposal.objects.get(pk=redistribution.redistribution_propose(actor=admin)[0].pk)
    assert proposal.kind == "project_increase"

    results, errors = race([
        lambda: redistribution.proposal_approve(actor=admin, proposal=proposal),
        lambda: lending.request_approve(actor=admin, request=request, gpu_ids=proposal.gpu_ids),
    ])
    assert len(results) == 1 and len(errors) == 1, errors
    scene["project"].refresh_from_db()
    project_won = scene["project"].gpus_awarded == 16
    assert project_won != Loan.objects.exists()
    if project_won:  # the loan's approval finds its GPUs taken
        assert isinstance(errors[0], CapacityConflict)
    else:  # the proposal finds its GPUs taken, or already marked stale by the loan's approval
        assert isinstance(errors[0], CapacityConflict) or (
            isinstance(errors[0], StateConflict) and RedistributionProposal.objects.get(pk=proposal.pk).state == "stale")
