"""Review: the ranked queue, the capacity proposal, approval into the ledger, and approvals that
lose the capacity to someone else."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation_portal.errors import CapacityConflict, StateConflict, ValidationFailed
from gpus.models import AllocationGpu
from gpus.selectors import day_start
from gpus.services import allocation_award
from lending import services as lending
from lending.models import Loan
from lending.selectors import lendable_servers, propose, request_queue, request_window
from tests import factories as f
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def test_the_queue_is_ranked_by_score_region_current_loan_then_time(world, clock):
    capital_new = f.make_organisation(name="capital-new", region="capital")
    capital_loan = f.make_organisation(name="capital-with-loan", region="capital")
    regional_loan = f.make_organisation(name="regional-with-loan", region="non_capital")
    regional_new = f.make_organisation(name="regional-new", region="non_capital")
    unscored = f.make_organisation(name="unscored", region="non_capital")
    for org in (capital_loan, regional_loan):
        f.make_loan(org, start=dt.date(2026, 8, 1), end=dt.date(2026, 9, 15))  # current, ends before the new dates
    requests = {}
    for org in (unscored, capital_new, capital_loan, regional_loan, regional_new):  # submission order
        user = f.make_user("applicant", organisation=org)
        requests[org.name] = lending.request_submit(actor=user, values=request_values())
        clock.shift(dt.timedelta(minutes=1))
    for name in ("capital-new", "capital-with-loan", "regional-with-loan", "regional-new"):
        lending.request_score(actor=world.admin, request=requests[name], score=70)
    top = f.make_organisation(name="top-score", region="capital")
    requests["top-score"] = lending.request_submit(actor=f.make_user("applicant", organisation=top), values=request_values())
    lending.request_score(actor=world.admin, request=requests["top-score"], score=90)
    ranked = [r.organisation.name for r in request_queue()]
    assert ranked == ["top-score", "regional-new", "regional-with-loan", "capital-new", "capital-with-loan", "unscored"]


def window(start=dt.date(2026, 9, 20), end=dt.date(2026, 11, 20)):
    return day_start(start), day_start(end)


def test_lendable_servers_exclude_started_projects_and_loans_and_carry_risk(world, clock):
    offers = {o.hostname: o for o in lendable_servers("B200", *window())}
    # clw-001/002 belong to started PA, clw-004 to started PB: not lendable.
    assert set(offers) == {"clw-003", "clw-005", "clw-006", "clw-007", "clw-008"}
    assert offers["clw-003"].recall_risk == [("PA-002", dt.date(2026, 12, 1))]
    assert offers["clw-005"].recall_risk == [] and offers["clw-005"].whole
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-005"))[:3], start=dt.date(2026, 10, 1),
                end=dt.date(2026, 10, 15))
    offers = {o.hostname: o for o in lendable_servers("B200", *window())}
    assert len(offers["clw-005"].gpu_ids) == 5 and not offers["clw-005"].whole
    assert lendable_servers("H200", *window()) == []


def test_the_proposal_lends_idle_servers_first_then_the_reserve_then_free_ones(world, clock):
    # clw-003 is idle (PA-002 has not started); clw-008 goes to the MSIT reserve; clw-005..007 are free.
    reserve = f.server_gpus(world.cluster.servers.get(hostname="clw-008"))
    allocation_award(actor=None, holder_kind="reserve", gpus=reserve, starts_at=day_start(dt.date(2026, 9, 1)),
                     ends_at=day_start(dt.date(2027, 4, 1)), reason="reclaimed")
    proposal = propose("B200", 16, *window())
    assert proposal.complete
    assert [(offer.hostname, offer.source) for offer, _ids in proposal.picks] == [("clw-003", "idle"), ("clw-008", "reserve")]
    assert proposal.recall_risk == [("PA-002", dt.date(2026, 12, 1))]
    assert [o.hostname for o, _ids in propose("B200", 24, *window()).picks] == ["clw-003", "clw-008", "clw-005"]


def test_small_requests_fill_one_server_before_spreading(world, clock):
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-005"))[:4], start=dt.date(2026, 9, 1),
                end=dt.date(2026, 12, 1))
    later = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2027, 1, 4))
    f.award(later, [world.cluster.servers.get(hostname="clw-007")])  # a second idle server
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-007"))[:4], start=dt.date(2026, 9, 1),
                end=dt.date(2026, 12, 1))
    proposal = propose("B200", 3, *window())
    # Idle GPUs first; of those, clw-007 has 4 left: the fullest server that fits, so whole servers stay whole.
    assert [(o.hostname, len(ids)) for o, ids in proposal.picks] == [("clw-007", 3)]
    # With only two servers of 2 idle GPUs each, 4 GPUs are spread over both.
    offers = [o for o in lendable_servers("B200", *window()) if o.hostname == "clw-007"]
    offers = [type(o)(o.server_id, o.hostname, o.cluster, o.gpu_ids[:2]) for o in offers] * 1
    second = [type(offers[0])(offers[0].server_id + 1, "clw-x", offers[0].cluster, [1, 2])]
    spread = propose("B200", 4, *window(), offers=offers + second)
    assert spread.complete and [(o.hostname, len(ids)) for o, ids in spread.picks] == [("clw-007", 2), ("clw-x", 2)]


def test_proposals_report_when_there_is_not_enough(world, clock):
    assert not propose("B200", 48, *window()).complete
    assert not propose("H200", 1, *window()).complete


def test_approval_writes_the_loan_to_the_ledger(world, submit):
    request = submit(gpu_count=8)
    proposal = propose("B200", 8, *request_window(request))
    loan = lending.request_approve(actor=world.admin, request=request, gpu_ids=proposal.gpu_ids, note="Welcome")
    assert loan.state == "offered" and loan.gpu_count == 8
    assert loan.offer_expires_at == timezone.now() + dt.timedelta(hours=48)
    assert loan.starts_at == day_start(dt.date(2026, 9, 20)) and loan.ends_at == day_start(dt.date(2026, 11, 20))
    rows = AllocationGpu.objects.filter(allocation__loan=loan)
    assert rows.count() == 8 and set(rows.values_list("layer", flat=True)) == {"loan"}
    request.refresh_from_db()
    assert request.state == "approved"
    assert world.applicant.notifications.filter(kind="request_decided").exists()
    with pytest.raises(StateConflict):
        lending.request_approve(actor=world.admin, request=request, gpu_ids=proposal.gpu_ids)


def test_approval_checks_the_confirmed_gpus(world, submit):
    request = submit(gpu_count=8)
    started_project_gpus = [g.pk for g in f.server_gpus(world.cluster.servers.get(hostname="clw-001"))]
    with pytest.raises(ValidationFailed):
        lending.request_approve(actor=world.admin, request=request, gpu_ids=started_project_gpus[:4])
    with pytest.raises(CapacityConflict) as excinfo:
        lending.request_approve(actor=world.admin, request=request, gpu_ids=started_project_gpus)
    assert "clw-001" in excinfo.value.message
    assert not Loan.objects.exists()


def test_when_the_capacity_has_gone_the_approval_fails_and_writes_nothing(world, clock):
    first = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    second = lending.request_submit(actor=world.outsider_applicant, values=request_values(gpu_count=8))
    stale = propose("B200", 8, *request_window(second))  # made before the first approval
    lending.request_approve(actor=world.admin, request=first, gpu_ids=propose("B200", 8, *request_window(first)).gpu_ids)
    with pytest.raises(CapacityConflict) as excinfo:
        lending.request_approve(actor=world.admin, request=second, gpu_ids=stale.gpu_ids)
    assert "capacity has gone meanwhile" in excinfo.value.message
    second.refresh_from_db()
    assert second.state == "submitted" and Loan.objects.count() == 1


def test_the_in_memory_index_never_offers_what_the_database_would_refuse(world, clock):
    from gpus.availability import LendingIndex

    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-005"))[:3], start=dt.date(2026, 10, 1),
                end=dt.date(2026, 10, 15))
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-006")), start=dt.date(2026, 9, 25),
                end=dt.date(2026, 12, 1))
    index = LendingIndex("B200", *window(dt.date(2026, 9, 15), dt.date(2027, 1, 1)), pool=f.programme_pool())
    for start, end in [(dt.date(2026, 9, 20), dt.date(2026, 10, 20)), (dt.date(2026, 10, 15), dt.date(2026, 11, 1)),
                       (dt.date(2026, 12, 1), dt.date(2026, 12, 20))]:
        period = window(start, end)
        in_db = {g for o in lendable_servers("B200", *period) for g in o.gpu_ids}
        in_memory = {g for o in index.offers(*period, 1) for g in o.gpu_ids}
        assert in_memory == in_db, (start, end)
    # A claim in this round takes the GPUs for that period.
    taken = f.server_gpus(world.cluster.servers.get(hostname="clw-007"))
    index.claim([g.pk for g in taken], *window(dt.date(2026, 12, 1), dt.date(2026, 12, 10)))
    offered = {g for o in index.offers(*window(dt.date(2026, 12, 5), dt.date(2026, 12, 6)), 8) for g in o.gpu_ids}
    assert not offered & {g.pk for g in taken}
