"""Applicants: sign-up, requests with every validation rule, withdraw and resubmit."""

import datetime as dt

import pytest

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent, User
from lending import services as lending
from lending.models import LoanRequest, Organisation
from tests import factories as f
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def test_an_applicant_submits_a_request(world, submit):
    request = submit()
    assert request.state == "submitted" and request.organisation == world.org_a
    assert AuditEvent.objects.filter(action="loan_request.submit", object_id=str(request.public_id)).exists()


@pytest.mark.parametrize(
    "override, field, message",
    [
        ({"starts_on": dt.date(2026, 9, 9)}, "starts_on", "in the past"),
        ({"ends_on": dt.date(2026, 9, 19)}, "ends_on", "before the start"),
        ({"ends_on": dt.date(2026, 12, 20)}, "ends_on", "at most 3 months: the last day can be 2026-12-19"),
        ({"gpu_count": 5}, "gpu_count", "1 to 4 GPUs, or whole servers"),
        ({"gpu_count": 12}, "gpu_count", "1 to 4 GPUs, or whole servers"),
        ({"gpu_count": 0}, "gpu_count", "1 to 4 GPUs, or whole servers"),
        ({"gpu_model": "A100"}, "gpu_model", "Choose a GPU model"),
        ({"purpose": " "}, "purpose", "Required"),
        ({"expected_results": ""}, "expected_results", "Required"),
        ({"personal_information": None}, "personal_information", "checklist"),
        ({"ai_basic_act": "maybe"}, "ai_basic_act", "checklist"),
        ({"accepts_recall_terms": False}, "accepts_recall_terms", "72 hours"),
    ],
)
def test_every_invalid_field_gets_a_clear_error(world, submit, override, field, message):
    with pytest.raises(ValidationFailed) as excinfo:
        submit(**override)
    assert message in " ".join(excinfo.value.fields[field])
    assert not LoanRequest.objects.exists()


@pytest.mark.parametrize("count", [1, 4, 8, 16, 64])
def test_sizes_that_are_allowed(world, submit, count):
    assert submit(gpu_count=count).gpu_count == count


def test_a_request_the_programme_could_never_meet_is_refused(world, submit):
    """More GPUs of a model than the programme's pool holds at all, or a model it does not lend: an
    error at the field, not a request that waits in the queue for ever."""
    from gpus.models import Gpu

    held = Gpu.objects.filter(server__pool=world.project_a.pool, server__cluster__gpu_model="B200").count()
    assert submit(gpu_count=held).gpu_count == held
    with pytest.raises(ValidationFailed) as excinfo:
        submit(gpu_count=held + 8, starts_on=dt.date(2027, 1, 4), ends_on=dt.date(2027, 1, 31))
    assert excinfo.value.fields["gpu_count"] == [f"The programme has {held:,} B200 GPUs in all: ask for at most that many."]
    f.make_cluster(servers=1, code="h2", gpu_model="H200", pool=f.other_pool())  # the government's, not the programme's
    with pytest.raises(ValidationFailed) as excinfo:
        submit(gpu_model="H200", starts_on=dt.date(2027, 1, 4), ends_on=dt.date(2027, 1, 31))
    assert excinfo.value.fields["gpu_model"] == ["The programme lends no H200 GPUs."]


def test_overlapping_own_requests_are_refused_but_other_organisations_may(world, submit):
    submit()
    with pytest.raises(ValidationFailed) as excinfo:
        submit(starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 1))
    assert "overlapping dates" in excinfo.value.fields["starts_on"][0]
    submit(starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 12, 1))  # the day after: fine
    submit(actor=world.outsider_applicant)


def test_a_withdrawn_request_no_longer_blocks_its_dates(world, submit):
    request = submit()
    with pytest.raises(NotPermitted):
        lending.request_withdraw(actor=world.outsider_applicant, request=request)
    lending.request_withdraw(actor=world.applicant, request=request)
    with pytest.raises(StateConflict):
        lending.request_withdraw(actor=world.applicant, request=request)
    submit()


def test_changes_requested_then_resubmitted(world, submit):
    request = submit()
    with pytest.raises(ValidationFailed):
        lending.request_ask_changes(actor=world.admin, request=request, note="")
    lending.request_ask_changes(actor=world.admin, request=request, note="Fewer GPUs, please.")
    assert world.applicant.notifications.filter(kind="request_changes").exists()
    updated = lending.request_update(actor=world.applicant, request=request, values=request_values(gpu_count=1))
    assert updated.state == "submitted" and updated.gpu_count == 1


def test_only_applicants_apply(world, clock):
    for user in (world.admin, world.official, world.auditor):
        with pytest.raises(NotPermitted):
            lending.request_submit(actor=user, values=request_values())


def test_reject_needs_a_reason_and_tells_the_applicant(world, submit):
    request = submit()
    with pytest.raises(NotPermitted):
        lending.request_reject(actor=world.official, request=request, reason="no")
    lending.request_reject(actor=world.admin, request=request, reason="Out of scope.")
    request.refresh_from_db()
    assert request.state == "rejected" and request.review_note == "Out of scope."
    assert world.applicant.notifications.filter(kind="request_decided").exists()
    with pytest.raises(StateConflict):
        lending.request_score(actor=world.admin, request=request, score=50)


def test_signup_registers_an_organisation_and_its_first_person(client, db):
    response = client.post("/lending/signup/", {
        "name": "부산AI연구원", "kind": "research", "region": "non_capital", "registration_number": "123-45-67890",
        "display_name": "김연구", "username": "kim", "email": "kim@busan-ai.kr",
        "password": "long-enough-pass", "password_again": "long-enough-pass", "privacy_consent": "on",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/lending/dashboard/"
    user = User.objects.get(username="kim")
    assert user.role == "applicant" and user.organisation.registration_number == "123-45-67890"
    client.logout()
    again = client.post("/lending/signup/", {
        "name": "x", "kind": "research", "region": "capital", "registration_number": "123-45-67890",
        "display_name": "y", "username": "lee", "email": "lee@x.kr", "password": "123", "password_again": "123",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400
    assert "registered already" in again.content.decode()
    assert not User.objects.filter(username="lee").exists()


def test_signup_errors(db):
    lending.organisation_signup(name="A", kind="industry", region="capital", registration_number="1248100998",
                                username="a", email="a@a.kr", password="long-enough-pass", privacy_consent=True)
    assert Organisation.objects.get().registration_number == "124-81-00998"
    with pytest.raises(ValidationFailed) as excinfo:
        lending.organisation_signup(name="", kind="company", region="seoul", registration_number="R-1",
                                    username="A", email="", password="short")
    fields = excinfo.value.fields
    assert {"name", "kind", "region", "registration_number", "username", "email", "password",
            "privacy_consent"} <= set(fields)
    with pytest.raises(ValidationFailed) as excinfo:
        lending.organisation_signup(name="B", kind="industry", region="capital", registration_number="124-81-00998",
                                    username="b", email="b@b.kr", password="long-enough-pass", privacy_consent=True)
    assert "registered already" in excinfo.value.fields["registration_number"][0]
    assert Organisation.objects.count() == 1


def test_an_organisations_first_member_invites_colleagues_and_the_old_page_leads_there(world, client_for):
    client = client_for(world.applicant)
    assert client.get("/lending/organisation/")["Location"] == "/people/"
    response = client.post("/people/invite/", {"display_name": "박동료", "email": "park@a.kr"})
    assert response.status_code == 302
    invited = User.objects.get(email="park@a.kr")
    assert invited.organisation == world.org_a and invited.role == "applicant" and not invited.is_active
    taken = client.post("/people/invite/", {"display_name": "x", "email": "PARK@a.kr"})
    assert taken.status_code == 400 and "already has the e-mail address" in taken.content.decode()
    # A colleague who does not manage the organisation's members sees them, and invites nobody.
    colleague = f.make_user("applicant", organisation=world.org_a)
    assert client_for(colleague).get("/people/").status_code == 200
    assert client_for(colleague).post("/people/invite/", {"email": "kim@a.kr"}).status_code == 403


def test_the_first_member_of_a_signed_up_organisation_manages_its_members():
    user = lending.organisation_signup(name="C대학교", kind="academia", region="capital", registration_number="1234567890",
                                       username="c1", email="c1@c.kr", password="long-enough-pass-2026",
                                       privacy_consent=True)
    assert user.manages_members and user.manages_organisation_members
