"""Two approvals racing for the same idle GPUs from separate connections: one wins, the other gets
a clear error and writes nothing."""

import datetime as dt

import pytest
import time_machine

from allocation_portal.errors import CapacityConflict
from allocation_portal.models import Role
from lending import services as lending
from lending.models import Loan, LoanRequest
from lending.selectors import propose, request_window
from tests import factories as f
from tests.concurrency.test_award_race import overlapping_pairs, race
from tests.conftest import KST
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 9, 10, 10, tzinfo=KST), tick=True):
        yield


def test_two_approvals_for_the_same_idle_gpus(frozen):
    f.make_cluster(servers=1)
    admin = f.make_user(Role.ADMIN)
    requests = []
    for _ in range(2):
        org = f.make_organisation()
        requests.append(lending.request_submit(actor=f.make_user(Role.APPLICANT, organisation=org),
                                               values=request_values(gpu_count=8)))
    proposal = propose("B200", 8, *request_window(requests[0]))
    assert proposal.complete

    results, errors = race([
        lambda r=r: lending.request_approve(actor=admin, request=r, gpu_ids=proposal.gpu_ids) for r in requests
    ])
    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], CapacityConflict) and errors[0].code == "capacity_conflict"
    assert Loan.objects.count() == 1
    assert sorted(LoanRequest.objects.values_list("state", flat=True)) == ["approved", "submitted"]
    assert overlapping_pairs() == 0


def test_an_approval_racing_the_projects_start_is_never_left_unrecalled(frozen):
    """The project starting while its idle server is being lent: either the approval sees the start
    and refuses, or the start sees the loan and recalls it."""
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=1)
    project = f.make_project(ministry, gpus=8, planned_start=dt.date(2026, 9, 1))
    f.award(project, cluster.servers.all())
    admin = f.make_user(Role.ADMIN)
    official = f.make_user(Role.OFFICIAL, ministry=ministry)
    org = f.make_organisation()
    request = lending.request_submit(actor=f.make_user(Role.APPLICANT, organisation=org), values=request_values(gpu_count=8))
    ids = propose("B200", 8, *request_window(request)).gpu_ids
    from projects.services import project_record_start

    results, errors = race([
        lambda: lending.request_approve(actor=admin, request=request, gpu_ids=ids),
        lambda: project_record_start(actor=official, project=project, started_on=dt.date(2026, 9, 10)),
    ])
    loan = Loan.objects.first()
    if loan is None:
        assert len(errors) == 1 and isinstance(errors[0], CapacityConflict)
    else:
        assert not errors
        assert loan.recall_notice_at is not None
