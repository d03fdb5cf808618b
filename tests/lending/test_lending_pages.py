"""The public page and calendar, the applicant's pages and the API actions."""

import datetime as dt

import pytest

from lending import services as lending
from lending.models import Loan, LoanRequest
from lending.selectors import idle_calendar
from tests import factories as f
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def test_the_public_page_needs_no_login(world, client, clock):
    page = client.get("/lending/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="idle-calendar"' in page and 'data-testid="terms"' in page
    assert "72 hours" in page and "at most 3 months" in page
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == "/lending/"
    korean = client.get("/lending/").content.decode()
    assert "유휴" in korean


def test_the_calendar_counts_idle_gpus_per_week(world, clock):
    calendar = idle_calendar(today=dt.date(2026, 9, 10))
    assert calendar.weeks[0] == dt.date(2026, 9, 7) and len(calendar.weeks) == 13
    row = calendar.rows[0]
    # 8 servers: PA (2) and PB (1) started; PA-002's server is idle until its planned start 2026-12-01.
    assert row.in_service == 64
    assert row.weeks[0] == 40
    week_of_dec_1 = calendar.weeks.index(dt.date(2026, 11, 30))
    assert row.weeks[week_of_dec_1] == 32
    f.make_loan(gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-005"))[:2], start=dt.date(2026, 9, 8),
                end=dt.date(2026, 9, 9))
    assert idle_calendar(today=dt.date(2026, 9, 10)).rows[0].weeks[0] == 38


def test_the_calendar_api_is_public(client, world, clock):
    body = client.get("/api/v1/lending/calendar/").json()
    assert body["terms"]["recall_notice_hours"] == 72 and len(body["weeks"]) == 13


def test_an_applicant_applies_through_the_page_with_errors_shown(world, client_for, clock):
    client = client_for(world.applicant)
    bad = client.post("/lending/requests/new/", {**{k: str(v) for k, v in request_values(gpu_count=6).items()},
                                                "accepts_recall_terms": ""})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "1 to 4 GPUs" in page and "Accept the terms" in page
    good = client.post("/lending/requests/new/", {**{k: str(v) for k, v in request_values().items()},
                                                 "accepts_recall_terms": "on"})
    assert good.status_code == 302
    dashboard = client.get("/lending/dashboard/").content.decode()
    assert "B200 ×2" in dashboard


def test_the_admin_reviews_and_approves_through_the_pages(world, client_for, clock):
    request = lending.request_submit(actor=world.applicant, values=request_values(gpu_count=8))
    admin = client_for(world.admin)
    assert str(request.public_id) in admin.get("/lending/queue/").content.decode()
    detail = admin.get(f"/lending/requests/{request.public_id}/").content.decode()
    # The idle server of PA-002 (not started) is offered first.
    assert 'data-testid="proposal"' in detail and "clw-003" in detail
    assert admin.post(f"/lending/requests/{request.public_id}/review/score/", {"score": "120"}).status_code == 400
    assert admin.post(f"/lending/requests/{request.public_id}/review/score/", {"score": "75"}).status_code == 302
    ids = [g.pk for g in f.server_gpus(world.cluster.servers.get(hostname="clw-003"))]
    step = admin.post(f"/lending/requests/{request.public_id}/review/approve/", {"gpu": ids})
    assert step.status_code == 200 and 'data-testid="confirm-step"' in step.content.decode() and not Loan.objects.exists()
    assert "clw-003" in step.content.decode()
    response = admin.post(f"/lending/requests/{request.public_id}/review/approve/", {"gpu": ids, "confirmed": "1"})
    loan = Loan.objects.get()
    assert response["Location"] == f"/lending/loans/{loan.public_id}/"
    page = client_for(world.applicant).get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert "clw-003" in page


def test_the_api_walks_a_request_to_a_loan_and_back(world, api_for, clock):
    applicant, admin = api_for(world.applicant), api_for(world.admin)
    created = applicant.post("/api/v1/loan-requests/", {**request_values(), "starts_on": "2026-09-20",
                                                        "ends_on": "2026-11-19"}, format="json")
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    invalid = applicant.post("/api/v1/loan-requests/", {**request_values(gpu_count=7), "starts_on": "2026-09-01",
                                                        "ends_on": "2026-09-30"}, format="json")
    assert invalid.status_code == 400 and {"gpu_count", "starts_on"} <= set(invalid.json()["error"]["fields"])
    assert admin.post(f"/api/v1/loan-requests/{request_id}/score/", {"score": 80}, format="json").status_code == 200
    ranked = admin.get("/api/v1/loan-requests/?ranked=1").json()["results"]
    assert ranked[0]["id"] == request_id
    proposal = admin.get(f"/api/v1/loan-requests/{request_id}/proposal/").json()
    assert proposal["complete"] and len(proposal["gpus"]) == 2
    assert admin.post(f"/api/v1/loan-requests/{request_id}/approve/", {"gpus": ["nope"]}, format="json").status_code == 400
    approved = admin.post(f"/api/v1/loan-requests/{request_id}/approve/", {"gpus": proposal["gpus"]}, format="json")
    assert approved.status_code == 201 and sorted(approved.json()["gpus"]) == sorted(proposal["gpus"])
    loan_id = approved.json()["id"]
    assert approved.json()["state"] == "offered" and approved.json()["offer_expires_at"]
    assert applicant.post(f"/api/v1/loans/{loan_id}/renew/", {"ends_on": "2027-01-10", "reason": "x"},
                          format="json").status_code == 409
    assert admin.post(f"/api/v1/loans/{loan_id}/accept/", format="json").status_code == 403
    accepted = applicant.post(f"/api/v1/loans/{loan_id}/accept/", format="json")
    assert accepted.status_code == 200 and accepted.json()["state"] == "scheduled" and accepted.json()["accepted_at"]
    again = applicant.post(f"/api/v1/loans/{loan_id}/accept/", format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "state_conflict"
    renew = applicant.post(f"/api/v1/loans/{loan_id}/renew/", {"ends_on": "2027-01-10", "reason": "x"}, format="json")
    assert renew.json()["renewal_state"] == "requested"
    decided = admin.post(f"/api/v1/loans/{loan_id}/decide-renewal/", {"approve": False}, format="json")
    assert decided.json()["renewal_state"] == "rejected"
    returned = applicant.post(f"/api/v1/loans/{loan_id}/return/", {}, format="json")
    assert returned.json()["state"] == "ended" and returned.json()["end_reason"] == "returned"
    again = applicant.post(f"/api/v1/loans/{loan_id}/return/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "state_conflict"


def test_applicants_see_only_their_organisation(world, api_for, clock):
    lending.request_submit(actor=world.applicant, values=request_values())
    assert api_for(world.applicant).get("/api/v1/loan-requests/").json()["count"] == 1
    assert api_for(world.outsider_applicant).get("/api/v1/loan-requests/").json()["count"] == 0
    request = LoanRequest.objects.get()
    assert api_for(world.outsider_applicant).get(f"/api/v1/loan-requests/{request.public_id}/").status_code == 404


@pytest.mark.parametrize("extra", [0, 10])
def test_lending_lists_run_constant_queries(world, api_for, client_for, clock, django_assert_num_queries, extra):
    for _ in range(extra + 1):
        org = f.make_organisation()
        f.make_loan(org, gpus=f.server_gpus(f.make_cluster(servers=1).servers.get())[:2])
        lending.request_submit(actor=f.make_user("applicant", organisation=org), values=request_values())
    api = api_for(world.admin)
    with django_assert_num_queries(3):
        api.get("/api/v1/loan-requests/?ranked=1")
    with django_assert_num_queries(4):  # token, count, loans, their GPUs
        api.get("/api/v1/loans/")
    client = client_for(world.admin)
    with django_assert_num_queries(5):  # session, user, count, page, notification badge
        client.get("/lending/queue/")
