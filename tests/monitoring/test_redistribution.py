"""Redistribution: proposals in order, approval one by one or in bulk, stale proposals, delayed starts."""

import datetime as dt

import pytest

from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from gpus.models import Allocation, HolderKind
from gpus.selectors import day_start
from gpus.services import allocation_award
from lending import services as lending
from lending.models import Loan
from monitoring import reclamation, redistribution
from monitoring.models import ProposalState, RedistributionProposal
from projects.models import ProjectGpuRequest
from projects.services import gpu_request_create
from tests import factories as f
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def reserve(world):
    """Two servers in the MSIT reserve (as after a reclamation): clw-007 and clw-008."""
    for host in ("clw-007", "clw-008"):
        allocation_award(actor=None, holder_kind=HolderKind.RESERVE,
                         gpus=f.server_gpus(world.cluster.servers.get(hostname=host)),
                         starts_at=day_start(dt.date(2026, 9, 1)), ends_at=day_start(dt.date(2027, 4, 1)), reason="reclaimed")


def test_projects_asking_for_more_come_first_then_requests_in_ranking_order(world, reserve, clock):
    more = gpu_request_create(actor=world.official, project=world.project_a, servers=2, reason="Scaling up")
    low = lending.request_submit(actor=world.outsider_applicant, values=request_values(gpu_count=8))
    high = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=2))
    lending.request_score(actor=world.admin, request=low, score=40)
    lending.request_score(actor=world.admin, request=high, score=90)
    made = redistribution.redistribution_propose(actor=world.admin)
    assert [(p.rank, p.kind) for p in made] == [(1, "project_increase"), (2, "loan_request"), (3, "loan_request")]
    assert made[0].gpu_request == more and made[0].servers == ["clw-007", "clw-008"]
    assert made[0].sources == {"reserve": 16}
    assert made[1].loan_request == high and made[2].loan_request == low
    # No GPU is proposed twice in one round.
    all_ids = [g for p in made for g in p.gpu_ids]
    assert len(all_ids) == len(set(all_ids))


def test_a_new_round_supersedes_the_open_proposals(world, reserve, clock):
    lending.request_submit(actor=world.applicant, values=request_values())
    first = redistribution.redistribution_propose(actor=world.admin)
    second = redistribution.redistribution_propose()
    assert RedistributionProposal.objects.get(pk=first[0].pk).state == ProposalState.SUPERSEDED
    assert RedistributionProposal.objects.filter(state=ProposalState.PROPOSED).count() == len(second) == 1


def test_approving_a_project_increase_moves_reserve_servers_to_the_project(world, reserve, clock):
    gpu_request_create(actor=world.official, project=world.project_a, servers=2, reason="Scaling up")
    proposal = redistribution.redistribution_propose(actor=world.admin)[0]
    approved = redistribution.proposal_approve(actor=world.admin, proposal=proposal)
    assert approved.state == ProposalState.APPROVED
    world.project_a.refresh_from_db()
    assert world.project_a.gpus_awarded == 40
    held = Allocation.objects.filter(project=world.project_a, released_at__isnull=True)
    assert sum(held.values_list("gpu_count", flat=True)) == 32
    assert ProjectGpuRequest.objects.get().state == "approved"


def test_bulk_approval_writes_loans_and_marks_what_went_stale(world, reserve, clock):
    first = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    second = lending.request_submit(actor=world.outsider_applicant, values=request_values(gpu_count=8))
    lending.request_score(actor=world.admin, request=first, score=90)
    lending.request_score(actor=world.admin, request=second, score=80)
    proposals = redistribution.redistribution_propose(actor=world.admin)
    # Meanwhile the second request's GPUs are lent directly to someone else.
    third = lending.request_submit(actor=f.make_user("applicant", organisation=f.make_organisation()),
                                   values=request_values(gpu_count=8))
    # The direct approval says it takes the pending proposal's servers, and marks that proposal stale.
    preview = redistribution.loan_approval_preview(loan_request=third, gpu_ids=proposals[1].gpu_ids)
    assert len(preview) == 1 and f"#{proposals[1].rank}" in preview[0] and world.org_b.name in preview[0]
    lending.request_approve(actor=world.admin, request=third, gpu_ids=proposals[1].gpu_ids)
    assert RedistributionProposal.objects.get(pk=proposals[1].pk).state == ProposalState.STALE
    assert list(redistribution.open_proposals()) == [proposals[0]]
    results = redistribution.proposals_approve_all(actor=world.admin, proposals=proposals)
    assert [p.state for p, _error in results] == ["approved", "stale"]
    assert results[1][1]
    assert Loan.objects.filter(request=first).exists() and not Loan.objects.filter(request=second).exists()
    stale = RedistributionProposal.objects.get(pk=proposals[1].pk)
    assert stale.state == ProposalState.STALE and stale.note
    with pytest.raises(StateConflict):
        redistribution.proposal_approve(actor=world.admin, proposal=stale)


def test_a_proposal_whose_request_was_decided_meanwhile_goes_stale(world, reserve, clock):
    request = lending.request_submit(actor=world.applicant, values=request_values())
    proposal = redistribution.redistribution_propose(actor=world.admin)[0]
    lending.request_withdraw(actor=world.applicant, request=request)
    with pytest.raises(StateConflict):
        redistribution.proposal_approve(actor=world.admin, proposal=proposal)
    assert RedistributionProposal.objects.get(pk=proposal.pk).state == ProposalState.STALE


def test_a_project_increase_never_lands_on_lent_servers(world, reserve, clock):
    gpu_request_create(actor=world.official, project=world.project_a, servers=1, reason="More")
    proposal = redistribution.redistribution_propose(actor=world.admin)[0]
    hostname = proposal.servers[0]
    f.make_loan(world.org_b, gpus=f.server_gpus(world.cluster.servers.get(hostname=hostname))[:1],
                start=dt.date(2026, 9, 15), end=dt.date(2026, 10, 1))
    with pytest.raises(CapacityConflict):
        redistribution.proposal_approve(actor=world.admin, proposal=proposal)
    world.project_a.refresh_from_db()
    assert world.project_a.gpus_awarded == 24


def test_only_admins_act_and_requests_for_more_are_validated(world, clock):
    with pytest.raises(NotPermitted):
        redistribution.redistribution_propose(actor=world.official)
    with pytest.raises(ValidationFailed):
        gpu_request_create(actor=world.official, project=world.project_a2, servers=1, reason="x")
    with pytest.raises(NotPermitted):
        gpu_request_create(actor=world.outsider, project=world.project_a, servers=1, reason="x")
    gpu_request_create(actor=world.official, project=world.project_a, servers=1, reason="x")
    with pytest.raises(StateConflict):
        gpu_request_create(actor=world.official, project=world.project_a, servers=1, reason="again")


def test_delayed_starts_are_flagged_once(world, clock):
    delayed = f.make_project(world.ministry_a, code="LATE-01", planned_start=dt.date(2026, 7, 1))
    assert reclamation.delayed_projects_flag() == 1
    assert reclamation.delayed_projects_flag() == 0
    assert world.official.notifications.filter(kind="project_delayed", title__contains=delayed.code).exists()
    assert world.admin.notifications.filter(kind="project_delayed").exists()
    assert not world.outsider.notifications.filter(kind="project_delayed").exists()


def test_the_board_and_api(world, reserve, client_for, api_for, clock):
    lending.request_submit(actor=world.applicant, values=request_values())
    admin = client_for(world.admin)
    assert admin.post("/monitoring/redistribution/propose/").status_code == 302
    page = admin.get("/monitoring/redistribution/").content.decode()
    assert 'data-proposal="' in page and "GPUs in the MSIT reserve" in page
    api = api_for(world.admin)
    proposals = api.get("/api/v1/redistribution/proposals/?state=proposed").json()["results"]
    assert len(proposals) == 1
    approved = api.post(f"/api/v1/redistribution/proposals/{proposals[0]['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert api_for(world.auditor).post("/api/v1/redistribution/proposals/propose/").status_code == 403


def test_projects_get_only_the_programmes_reserve_never_the_governments_other_gpus(world, clock):
    """The government's other GPUs (another pool) are free, but the programme never hands them to a
    project: with nothing in its reserve, a project asking for more waits, and the programme's
    awards never exceed what was announced."""
    f.make_cluster(servers=6, code="gov", pool=f.other_pool())
    free_in_pool = {"clw-005", "clw-006", "clw-007", "clw-008"}
    for host in free_in_pool:  # the programme's pool has no spare server either
        other = f.make_project(world.ministry_b, gpus=8, planned_start=dt.date(2027, 1, 4))
        f.award(other, [world.cluster.servers.get(hostname=host)])
    gpu_request_create(actor=world.official, project=world.project_a, servers=2, reason="Scaling up")
    made = redistribution.redistribution_propose(actor=world.admin)
    assert not [p for p in made if p.kind == "project_increase"]
    assert not any(h.startswith("gov-") for p in made for h in p.servers)


def test_a_direct_approval_takes_the_proposal_of_its_request_off_the_board(world, reserve, client_for, clock):
    request = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    proposal = redistribution.redistribution_propose(actor=world.admin)[0]
    lending.request_approve(actor=world.admin, request=request, gpu_ids=proposal.gpu_ids)
    assert list(redistribution.open_proposals()) == []
    board = client_for(world.admin).get("/monitoring/redistribution/").content.decode()
    assert f'data-proposal="{proposal.public_id}"' not in board


def test_the_approval_confirm_step_names_the_pending_proposal(world, reserve, client_for, clock):
    first = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    proposal = redistribution.redistribution_propose(actor=world.admin)[0]
    assert proposal.loan_request_id == first.pk
    other = lending.request_submit(actor=world.outsider_applicant, values=request_values(gpu_count=8))
    step = client_for(world.admin).post(f"/lending/requests/{other.public_id}/review/approve/",
                                        {"gpu": proposal.gpu_ids}).content.decode()
    assert 'data-testid="confirm-step"' in step and f"#{proposal.rank}" in step and world.org_a.name in step
