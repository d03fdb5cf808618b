"""An approval is an offer: the applicant sees the servers, dates and recall risk, and accepts or
declines; an offer not accepted in the policy's hours lapses and its GPUs go back."""

import datetime as dt

import pytest

from allocation_portal.errors import NotPermitted, StateConflict
from allocation_portal.models import AuditEvent
from gpus.availability import unlendable
from gpus.models import AllocationGpu
from lending import services as lending
from lending.models import Loan
from lending.selectors import propose, request_window
from lending.tasks import lapse_offers
from tests.conftest import KST
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(world, submit):
    def do(**overrides):
        request = submit(**overrides)
        ids = propose(request.gpu_model, request.gpu_count, *request_window(request)).gpu_ids
        return lending.request_approve(actor=world.admin, request=request, gpu_ids=ids)

    return do


def _held(loan) -> set[int]:
    return set(AllocationGpu.objects.filter(allocation__loan=loan, period__isempty=False).values_list("gpu_id", flat=True))


def test_it_holds_the_offered_gpus_until_the_applicant_answers(world, offer):
    loan = offer(gpu_count=8)
    assert loan.state == "offered" and len(_held(loan)) == 8
    # Nobody else can be offered these GPUs meanwhile.
    assert unlendable(list(_held(loan)), "B200", loan.starts_at, loan.ends_at) == _held(loan)
    other = lending.request_submit(actor=world.outsider_applicant, values=request_values(gpu_count=8))
    assert not set(propose("B200", 8, *request_window(other)).gpu_ids) & _held(loan)


def test_it_accepts_the_offer_into_a_scheduled_loan(world, offer):
    loan = lending.offer_accept(actor=world.applicant, loan=offer())
    assert loan.state == "scheduled" and loan.accepted_at is not None
    assert AuditEvent.objects.filter(action="loan.offer_accept", object_id=str(loan.public_id)).exists()
    with pytest.raises(StateConflict):
        lending.offer_accept(actor=world.applicant, loan=loan)


def test_only_the_borrowing_organisation_answers(world, offer):
    loan = offer()
    for actor in (world.admin, world.outsider_applicant, world.auditor):
        with pytest.raises(NotPermitted):
            lending.offer_accept(actor=actor, loan=loan)
        with pytest.raises(NotPermitted):
            lending.offer_decline(actor=actor, loan=loan)


def test_it_declines_the_offer_and_the_gpus_go_back(world, offer):
    loan = offer(gpu_count=8)
    gpus = _held(loan)
    declined = lending.offer_decline(actor=world.applicant, loan=loan, reason="Plans changed")
    assert declined.state == "ended" and declined.end_reason == "declined"
    assert not _held(loan)
    assert unlendable(list(gpus), "B200", loan.starts_at, loan.ends_at) == set()
    declined.request.refresh_from_db()
    assert declined.request.state == "declined"
    with pytest.raises(StateConflict):
        lending.offer_accept(actor=world.applicant, loan=loan)


def test_an_offer_not_accepted_in_time_lapses_once(world, offer, clock):
    loan = offer()
    assert loan.offer_expires_at == dt.datetime(2026, 9, 12, 10, tzinfo=KST)  # 48 policy hours
    assert lapse_offers.delay().get() == 0
    clock.move_to(dt.datetime(2026, 9, 12, 10, 1, tzinfo=KST))
    with pytest.raises(StateConflict, match="lapsed"):
        lending.offer_accept(actor=world.applicant, loan=loan)
    assert lapse_offers.delay().get() == 1
    assert lapse_offers.delay().get() == 0
    loan.refresh_from_db()
    assert loan.state == "ended" and loan.end_reason == "lapsed" and not _held(loan)
    assert loan.request.state == "lapsed"
    assert world.applicant.notifications.filter(dedup_key=f"offer-lapsed:{loan.public_id}").count() == 1
    # The organisation can apply again for the same dates.
    assert lending.request_submit(actor=world.applicant, values=request_values())


def test_the_lapse_time_is_a_policy_number(world, offer):
    from allocation_portal import policy

    values = {name: getattr(policy.current(), name) for name in policy.FIELDS}
    policy.policy_update(actor=world.admin, values={**values, "offer_lapse_hours": 6}, reason="Faster answers")
    loan = offer()
    assert loan.offer_expires_at == dt.datetime(2026, 9, 10, 16, tzinfo=KST)


def test_an_offer_is_neither_returned_nor_renewed(world, offer):
    loan = offer()
    with pytest.raises(StateConflict):
        lending.loan_return(actor=world.applicant, loan=loan)
    with pytest.raises(StateConflict):
        lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2027, 1, 10), reason="x")


def test_the_offer_page_shows_servers_dates_and_recall_risk(world, offer, client_for):
    loan = offer(gpu_count=8)  # the idle server of PA-002, which has not started
    page = client_for(world.applicant).get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="offer"' in page and 'data-testid="offer-accept"' in page
    assert "clw-003" in page and "PA-002" in page
    assert "2026-09-20 00:00" in page and "2026-11-19 24:00" in page and "2026-09-12 10:00" in page
    # No return, renewal or access details before the offer is accepted.
    assert 'data-testid="return"' not in page and 'data-testid="renew-form"' not in page
    assert 'data-testid="loan-access"' not in page


def test_the_applicant_accepts_and_declines_through_the_page(world, offer, client_for):
    applicant = client_for(world.applicant)
    loan = offer()
    assert applicant.post(f"/lending/loans/{loan.public_id}/accept/")["Location"] == f"/lending/loans/{loan.public_id}/"
    loan.refresh_from_db()
    assert loan.state == "scheduled"
    page = applicant.get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="loan-access"' in page and 'data-testid="return"' in page
    other = offer(starts_on=dt.date(2027, 1, 4), ends_on=dt.date(2027, 2, 3))
    applicant.post(f"/lending/loans/{other.public_id}/decline/", {"reason": ""})
    other.refresh_from_db()
    assert other.end_reason == "declined"
    assert client_for(world.outsider_applicant).post(f"/lending/loans/{other.public_id}/accept/").status_code == 404


def test_the_loan_page_says_how_to_reach_the_gpus(world, offer, client_for):
    provider = world.cluster.provider
    provider.access_steps_ko, provider.access_steps_en = "VPN 접속 후 ssh 게이트웨이로", "Connect the VPN, then ssh"
    provider.support_contact = "gpu-support@example.kr"
    provider.save()
    loan = lending.offer_accept(actor=world.applicant, loan=offer())
    korean = client_for(world.applicant, lang="ko").get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert "VPN 접속 후 ssh 게이트웨이로" in korean and "gpu-support@example.kr" in korean
    assert world.cluster.name in korean and 'data-testid="access-hosts"' in korean
    english = client_for(world.applicant, lang="en").get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert "Connect the VPN, then ssh" in english and "VPN 접속" not in english


def test_an_offer_on_a_project_that_starts_is_recalled(world, offer):
    from projects.services import project_record_start

    loan = offer(gpu_count=8)
    project_record_start(actor=world.admin, project=world.project_a2, started_on=dt.date(2026, 9, 10))
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.recall_notice_at is not None


def test_the_api_shows_the_offer_and_takes_its_answer(world, offer, api_for):
    loan = offer(gpu_count=8)
    applicant = api_for(world.applicant)
    body = applicant.get(f"/api/v1/loans/{loan.public_id}/").json()
    assert body["state"] == "offered" and body["offer_expires_at"]
    server = body["servers"][0]
    assert server["hostname"] == "clw-003" and server["slots"] == list(range(8))
    assert server["recall_risk"] == [{"project": "PA-002", "expected_start": "2026-12-01"}]
    declined = applicant.post(f"/api/v1/loans/{loan.public_id}/decline/", {"reason": "no longer needed"}, format="json")
    assert declined.status_code == 200 and declined.json()["end_reason"] == "declined"
    assert api_for(world.outsider_applicant).post(f"/api/v1/loans/{loan.public_id}/accept/").status_code == 404
