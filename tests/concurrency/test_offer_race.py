"""Offers racing on separate connections: the GPUs an open offer holds are never promised to a
second request, and an acceptance racing the lapse leaves exactly one outcome."""

import datetime as dt

import pytest
import time_machine

from allocation_portal.errors import CapacityConflict, StateConflict
from allocation_portal.models import Role
from gpus.models import AllocationGpu
from lending import services as lending
from lending.models import Loan
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


def _two_requests():
    f.make_cluster(servers=1)
    admin = f.make_user(Role.ADMIN)
    applicants = [f.make_user(Role.APPLICANT, organisation=f.make_organisation()) for _ in range(2)]
    requests = [lending.request_submit(actor=a, values=request_values(gpu_count=8)) for a in applicants]
    return admin, applicants, requests


def _held(loan_id) -> int:
    return AllocationGpu.objects.filter(allocation__loan_id=loan_id, period__isempty=False).count()


def test_a_decline_racing_a_second_approval_never_promises_a_gpu_twice(frozen):
    admin, applicants, requests = _two_requests()
    ids = propose("B200", 8, *request_window(requests[0])).gpu_ids
    offer = lending.request_approve(actor=admin, request=requests[0], gpu_ids=ids)
    # While the offer is open its GPUs are not lendable to the other request.
    with pytest.raises(CapacityConflict):
        lending.request_approve(actor=admin, request=requests[1], gpu_ids=ids)

    results, errors = race([
        lambda: lending.offer_decline(actor=applicants[0], loan=offer),
        lambda: lending.request_approve(actor=admin, request=requests[1], gpu_ids=ids),
    ])
    assert overlapping_pairs() == 0
    assert Loan.objects.get(pk=offer.pk).end_reason == "declined"
    second = Loan.objects.filter(request=requests[1]).first()
    if second is None:  # the approval ran before the decline had committed
        assert len(errors) == 1 and isinstance(errors[0], CapacityConflict)
    else:
        assert not errors and _held(second.pk) == 8


def test_an_acceptance_racing_the_lapse_has_one_outcome(frozen):
    admin, applicants, requests = _two_requests()
    offer = lending.request_approve(actor=admin, request=requests[0],
                                    gpu_ids=propose("B200", 8, *request_window(requests[0])).gpu_ids)
    lapse_at = offer.offer_expires_at + dt.timedelta(minutes=1)

    results, errors = race([
        lambda: lending.offer_accept(actor=applicants[0], loan=offer),
        lambda: lending.offers_lapse(now=lapse_at),
    ])
    loan = Loan.objects.get(pk=offer.pk)
    if loan.state == "ended":
        assert loan.end_reason == "lapsed" and _held(loan.pk) == 0
        assert len(errors) == 1 and isinstance(errors[0], StateConflict)
    else:
        assert loan.state == "scheduled" and _held(loan.pk) == 8 and not errors
        assert 0 in results  # the lapse found nothing left to lapse
    assert overlapping_pairs() == 0
