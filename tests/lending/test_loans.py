"""Loans: scheduled -> active -> ended by the beat job, early return, one renewal, the end report,
and recall when the owning project starts."""

import datetime as dt

import pytest
from django.core import mail

from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from gpus.models import Allocation
from gpus.selectors import day_start
from lending import services as lending
from lending.models import Loan
from lending.selectors import propose, request_window
from lending.tasks import tick_loans
from projects.services import project_record_start
from tests.conftest import KST
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def approve(world):
    def do(request, gpu_ids=None):
        ids = gpu_ids or propose(request.gpu_model, request.gpu_count, *request_window(request)).gpu_ids
        offer = lending.request_approve(actor=world.admin, request=request, gpu_ids=ids)
        return lending.offer_accept(actor=request.submitted_by, loan=offer)

    return do


def at(clock, day, hour=10):
    clock.move_to(dt.datetime(day.year, day.month, day.day, hour, tzinfo=KST))


def test_the_beat_job_starts_warns_and_ends_loans_once(world, submit, approve, clock):
    loan = approve(submit())
    assert tick_loans.delay().get() == {"started": 0, "ended": 0, "warned": 0}
    at(clock, dt.date(2026, 9, 20), 0)
    assert tick_loans.delay().get()["started"] == 1
    assert tick_loans.delay().get()["started"] == 0  # idempotent
    loan.refresh_from_db()
    assert loan.state == "active"
    at(clock, dt.date(2026, 11, 14))
    assert tick_loans.delay().get()["warned"] == 1  # a week before the end
    assert tick_loans.delay().get()["warned"] == 0
    at(clock, dt.date(2026, 11, 19))
    assert tick_loans.delay().get()["warned"] == 1  # the day before
    at(clock, dt.date(2026, 11, 20), 0)
    assert tick_loans.delay().get()["ended"] == 1
    assert tick_loans.delay().get()["ended"] == 0
    loan.refresh_from_db()
    assert (loan.state, loan.end_reason) == ("ended", "completed")
    kinds = sorted(world.applicant.notifications.values_list("kind", flat=True))
    assert kinds == ["loan_ended", "loan_ending", "loan_ending", "loan_started", "request_decided"]


def test_returning_early_frees_the_gpus(world, submit, approve, clock):
    loan = approve(submit(gpu_count=8))
    at(clock, dt.date(2026, 10, 1))
    with pytest.raises(NotPermitted):
        lending.loan_return(actor=world.outsider_applicant, loan=loan)
    lending.loan_return(actor=world.applicant, loan=loan, reason="Done sooner")
    loan.refresh_from_db()
    assert (loan.state, loan.end_reason) == ("ended", "returned")
    allocation = Allocation.objects.get(loan=loan)
    assert allocation.ends_at == dt.datetime(2026, 10, 1, 10, tzinfo=KST)
    # The same GPUs can be lent to someone else for the rest of the period.
    other = lending.request_submit(actor=world.outsider_applicant, values=request_values(
        gpu_count=8, starts_on=dt.date(2026, 10, 2), ends_on=dt.date(2026, 11, 19)))
    ids = list(allocation.gpu_rows.values_list("gpu_id", flat=True))
    assert lending.request_approve(actor=world.admin, request=other, gpu_ids=ids)
    with pytest.raises(StateConflict):
        lending.loan_return(actor=world.applicant, loan=loan)


def test_one_renewal_of_at_most_three_months(world, submit, approve, clock):
    loan = approve(submit())
    with pytest.raises(ValidationFailed) as excinfo:
        lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2027, 2, 20), reason="more")
    assert "2027-02-19" in excinfo.value.fields["ends_on"][0]
    lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2027, 1, 31), reason="more data")
    with pytest.raises(StateConflict):
        lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2027, 1, 31), reason="again")
    with pytest.raises(NotPermitted):
        lending.loan_decide_renewal(actor=world.applicant, loan=loan, approve=True)
    renewed = lending.loan_decide_renewal(actor=world.admin, loan=loan, approve=True)
    assert renewed.ends_at == day_start(dt.date(2027, 2, 1)) and renewed.renewal_state == "approved"
    assert {a.ends_at for a in Allocation.objects.filter(loan=loan)} == {day_start(dt.date(2027, 2, 1))}


def test_a_renewal_that_no_longer_fits_is_refused(world, submit, approve, clock):
    loan = approve(submit(gpu_count=8, starts_on=dt.date(2026, 9, 20), ends_on=dt.date(2026, 10, 19)))
    ids = list(Allocation.objects.get(loan=loan).gpu_rows.values_list("gpu_id", flat=True))
    later = lending.request_submit(actor=world.outsider_applicant, values=request_values(
        gpu_count=8, starts_on=dt.date(2026, 10, 25), ends_on=dt.date(2026, 11, 30)))
    lending.request_approve(actor=world.admin, request=later, gpu_ids=ids)
    lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2026, 11, 19), reason="more")
    with pytest.raises(CapacityConflict):
        lending.loan_decide_renewal(actor=world.admin, loan=loan, approve=True)
    loan.refresh_from_db()
    assert loan.ends_at == day_start(dt.date(2026, 10, 20)) and loan.renewal_state == "requested"


def test_recall_when_the_owning_project_starts_end_to_end(
    world, submit, approve, clock, client_for, django_capture_on_commit_callbacks
):
    # A loan on PA-002's idle server (clw-003), approved with the recall risk shown in the proposal.
    request = submit(gpu_count=8, starts_on=dt.date(2026, 9, 11), ends_on=dt.date(2026, 12, 10))
    idle_server = [g.pk for g in world.cluster.servers.get(hostname="clw-003").gpus.all()]
    loan = approve(request, gpu_ids=idle_server)
    at(clock, dt.date(2026, 9, 11), 0)
    tick_loans.delay().get()
    at(clock, dt.date(2026, 10, 5), 9)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        project_record_start(actor=world.official, project=world.project_a2, started_on=dt.date(2026, 10, 5))
    loan.refresh_from_db()
    notice_end = dt.datetime(2026, 10, 8, 9, tzinfo=KST)
    assert loan.recall_notice_at == dt.datetime(2026, 10, 5, 9, tzinfo=KST) and loan.ends_at == notice_end
    assert Allocation.objects.get(loan=loan).ends_at == notice_end
    assert world.applicant.notifications.filter(kind="loan_recalled").exists()
    assert any(world.applicant.email in m.to and "2026-10-08 09:00" in m.body + m.subject for m in mail.outbox)
    page = client_for(world.applicant).get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="recall-notice"' in page
    official_page = client_for(world.official).get(f"/projects/{world.project_a2.code}/").content.decode()
    assert 'data-testid="borrowing-loans"' in official_page
    at(clock, dt.date(2026, 10, 8), 10)
    tick_loans.delay().get()
    loan.refresh_from_db()
    assert (loan.state, loan.end_reason) == ("ended", "recalled")


def test_an_admin_recalls_an_active_loan_with_72_hours_notice(world, submit, approve, clock):
    loan = approve(submit())
    at(clock, dt.date(2026, 10, 1))
    with pytest.raises(NotPermitted):
        lending.loan_recall(actor=world.applicant, loan=loan, reason="x")
    with pytest.raises(ValidationFailed):
        lending.loan_recall(actor=world.admin, loan=loan, reason="")
    recalled = lending.loan_recall(actor=world.admin, loan=loan, reason="Urgent national need")
    assert recalled.ends_at == dt.datetime(2026, 10, 4, 10, tzinfo=KST) and recalled.state != "ended"


def test_a_loan_recalled_before_it_begins_never_begins(world, submit, approve, clock):
    loan = approve(submit(starts_on=dt.date(2026, 10, 1)))
    recalled = lending.loan_recall(actor=world.admin, loan=loan, reason="Project starting")
    assert (recalled.state, recalled.end_reason) == ("ended", "recalled")
    assert all(a.ends_at == a.starts_at for a in Allocation.objects.filter(loan=loan))


def test_the_end_of_loan_report(world, submit, approve, clock):
    loan = approve(submit())
    with pytest.raises(StateConflict):
        lending.loan_file_end_report(actor=world.applicant, loan=loan, text="too soon")
    at(clock, dt.date(2026, 11, 20), 1)
    tick_loans.delay().get()
    loan.refresh_from_db()
    with pytest.raises(ValidationFailed):
        lending.loan_file_end_report(actor=world.applicant, loan=loan, text=" ")
    lending.loan_file_end_report(actor=world.applicant, loan=loan, text="Model released.", gpu_hours=2500)
    loan.refresh_from_db()
    assert loan.end_report == "Model released." and loan.end_report_at is not None
    assert Loan.objects.get(pk=loan.pk).end_report_gpu_hours == 2500


def test_after_an_early_return_nothing_more_is_offered(world, submit, approve, client_for, api_for, clock):
    loan = approve(submit())
    at(clock, dt.date(2026, 9, 25))
    tick_loans.delay().get()
    lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2026, 12, 10), reason="more")
    loan = lending.loan_return(actor=world.applicant, loan=Loan.objects.get(pk=loan.pk))
    assert loan.renewal_state == "withdrawn"  # the renewal asked for before the return is moot
    holder = client_for(world.applicant).get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="loan-closed"' in holder
    for control in ('data-testid="return"', 'data-testid="renew-form"', "/renewal-approve/", "/recall/"):
        assert control not in holder
    assert 'data-testid="report-form"' in holder  # the GPUs were used: the end-of-loan report is still owed
    admin = client_for(world.admin).get(f"/lending/loans/{loan.public_id}/").content.decode()
    for control in ("/renewal-approve/", "/renewal-reject/", "/recall/"):
        assert control not in admin
    api = api_for(world.applicant)
    assert api.post(f"/api/v1/loans/{loan.public_id}/renew/", {"ends_on": "2026-12-10", "reason": "x"},
                    format="json").status_code == 409
    assert api_for(world.admin).post(f"/api/v1/loans/{loan.public_id}/decide-renewal/", {"approve": True},
                                     format="json").status_code == 409


def test_a_loan_returned_before_it_began_asks_for_no_report(world, submit, approve, client_for):
    loan = lending.loan_return(actor=world.applicant, loan=approve(submit()))
    assert not loan.began and not loan.report_due
    page = client_for(world.applicant).get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="report-form"' not in page and 'data-testid="return"' not in page
    with pytest.raises(StateConflict):
        lending.loan_file_end_report(actor=world.applicant, loan=loan, text="nothing")
