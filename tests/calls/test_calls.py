"""Calls and rounds: the rolling call's round per cut-off, every short-term request as its proposal,
eligibility, MSIT adding a round (page and API), and the public pages."""

import datetime as dt

import pytest
from django.utils import timezone

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from calls import services
from calls.models import Call, CallKind, Proposal, Round
from lending import services as lending
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def national(world):
    services.rolling_call()  # made by a migration; a transactional test before this one may have emptied the table
    call = Call.objects.create(code="nat-2027", kind=CallKind.NATIONAL, name_ko="2027 국가 프로젝트 공모",
                               name_en="2027 national project call", opens_on=dt.date(2026, 11, 2),
                               eligible_kinds=["industry"], eligible_regions=["non_capital"], cap_gpu_months=1536,
                               shares={"industry": 50, "academia": 30, "research": 20}, limit_per_organisation=1)
    call.eligible_ministries.add(world.ministry_a)
    call.criteria.create(code="strategic", name_ko="국가 전략적 중요성", name_en="National strategic importance",
                         weight=40, rubric=[{"score": 5, "ko": "매우 우수", "en": "Excellent"}])
    call.capacity.create(gpu_model="B200", gpus=1024, months=12)
    return call


def test_round_periods_follow_the_cut_offs():
    call = Call(code="r", kind=CallKind.ROLLING, opens_on=dt.date(2026, 1, 5), round_days=14)
    # 2026-09-10 is 248 days after the opening: the 18th round, 2026-08-31 to its cut-off 2026-09-13.
    assert services.round_period(call, dt.date(2026, 9, 10)) == (18, dt.date(2026, 8, 31), dt.date(2026, 9, 13))
    assert services.round_period(call, dt.date(2026, 9, 13))[0] == 18
    assert services.round_period(call, dt.date(2026, 9, 14)) == (19, dt.date(2026, 9, 14), dt.date(2026, 9, 27))
    assert services.round_period(call, dt.date(2025, 12, 1))[0] == 1
    # 61 days (2026-09-20 to 2026-11-19) are 3 months of 30 days, rounded up.
    assert services.request_months(dt.date(2026, 9, 20), dt.date(2026, 11, 19)) == 3
    assert services.request_months(dt.date(2026, 9, 20), dt.date(2026, 9, 20)) == 1


def test_a_short_term_request_is_a_proposal_of_the_rolling_call(world, clock, submit):
    request = submit()
    proposal = Proposal.objects.select_related("call", "round").get(loan_request=request)
    assert proposal.call.code == services.ROLLING_CALL and proposal.call.kind == CallKind.ROLLING
    assert (proposal.round.number, proposal.round.closes_on) == (18, dt.date(2026, 9, 13))
    assert (proposal.organisation, proposal.gpu_count, proposal.months, proposal.state) == (world.org_a, 2, 3, "submitted")
    # The request keeps its fields and checklist.
    assert [item[2] for item in request.checklist] == ["na", "yes", "yes"]
    # MSIT asks for changes: the proposal is in revision; the resubmission follows the new figures.
    lending.request_ask_changes(actor=world.admin, request=request, note="Fewer GPUs")
    assert Proposal.objects.get(pk=proposal.pk).state == "revision"
    lending.request_update(actor=world.applicant, request=request, values=request_values(gpu_count=1))
    again = Proposal.objects.get(pk=proposal.pk)
    assert (again.gpu_count, again.state, again.round_id) == (1, "submitted", proposal.round_id)
    lending.request_withdraw(actor=world.applicant, request=request)
    assert Proposal.objects.get(pk=proposal.pk).state == "withdrawn"


def test_requests_after_a_cut_off_go_to_the_next_round(world, clock, submit):
    first = submit()
    clock.move_to(dt.datetime(2026, 9, 14, 0, 30, tzinfo=timezone.get_current_timezone()))
    second = submit(actor=world.outsider_applicant)
    rounds = dict(Proposal.objects.values_list("loan_request_id", "round__number"))
    assert rounds == {first.pk: 18, second.pk: 19}
    assert Round.objects.get(call__code=services.ROLLING_CALL, number=19).opens_on == dt.date(2026, 9, 14)


def test_eligibility_says_why_an_applicant_is_outside(world, national):
    # org_a is an academic organisation outside the capital region; org_b industry in the capital.
    assert services.eligibility_reasons(national, organisation=world.org_a) == [
        "The call is not open to this type of organisation (Academia)."]
    assert services.eligibility_reasons(national, organisation=world.org_b) == [
        "The call is not open to applicants in this region (Capital region)."]
    assert services.eligibility_reasons(national, ministry_id=world.ministry_a.pk) == []
    assert services.eligibility_reasons(national, ministry_id=world.ministry_b.pk) == [
        "The call is not open to proposals of this ministry."]
    open_call = Call(code="open", kind=CallKind.NATIONAL, opens_on=dt.date(2026, 1, 1))
    assert services.eligibility_reasons(open_call, organisation=world.org_b) == []


def test_msit_adds_rounds_whose_cut_offs_move_forward(world, national):
    first = services.call_add_round(actor=world.admin, call=national, closes_on=dt.date(2026, 11, 30))
    assert (first.number, first.opens_on) == (1, dt.date(2026, 11, 2))
    second = services.call_add_round(actor=world.admin, call=national, closes_on="2026-12-31")
    assert (second.number, second.opens_on) == (2, dt.date(2026, 12, 1))
    with pytest.raises(ValidationFailed) as error:
        services.call_add_round(actor=world.admin, call=national, closes_on="2026-12-20", opens_on="2026-12-15")
    assert "opens_on" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.call_add_round(actor=world.admin, call=national, closes_on="2027-01-01", opens_on="2027-01-05")
    assert "closes_on" in error.value.fields
    with pytest.raises(ValidationFailed):
        services.call_add_round(actor=world.admin, call=national, closes_on="9999-01-01")
    with pytest.raises(NotPermitted):
        services.call_add_round(actor=world.official, call=national, closes_on="2027-02-01")
    assert national.rounds.count() == 2
    with pytest.raises(StateConflict):
        services.call_add_round(actor=world.admin, call=services.rolling_call(), closes_on="2027-02-01")


def test_the_pages_show_the_call(world, national, client_for, django_assert_num_queries):
    services.call_add_round(actor=world.admin, call=national, closes_on=dt.date(2026, 11, 30))
    anonymous = client_for(None)
    with django_assert_num_queries(1):
        page = anonymous.get("/calls/")
    assert page.status_code == 200 and "2027 national project call" in page.content.decode()
    # The call, its rounds, criteria, stages, capacity and ministries: one query each (no session, anonymous).
    with django_assert_num_queries(6):
        page = anonymous.get("/calls/nat-2027/")
    text = page.content.decode()
    assert "National strategic importance" in text and "Excellent" in text and "1,536 GPU-months" in text
    assert "Industry 50%" in text and 'data-testid="round-form"' not in text
    assert anonymous.get("/calls/no-such-call/").status_code == 404
    korean = client_for(None, lang="ko").get("/calls/nat-2027/").content.decode()
    assert "국가 전략적 중요성" in korean and "2027 국가 프로젝트 공모" in korean


def test_msit_adds_a_round_on_the_page(world, national, client_for):
    admin = client_for(world.admin)
    assert 'data-testid="round-form"' in admin.get("/calls/nat-2027/").content.decode()
    response = admin.post("/calls/nat-2027/rounds/", {"closes_on": "2026-11-30"})
    assert response.status_code == 302 and national.rounds.get().closes_on == dt.date(2026, 11, 30)
    bad = admin.post("/calls/nat-2027/rounds/", {"closes_on": "2026-11-20", "opens_on": "2026-11-10"})
    assert bad.status_code == 400 and "previous round" in bad.content.decode()
    assert admin.post("/calls/nat-2027/rounds/", {"closes_on": "not a date"}).status_code == 400
    assert client_for(world.auditor).post("/calls/nat-2027/rounds/", {"closes_on": "2026-12-31"}).status_code == 403
    assert national.rounds.count() == 1


def test_the_api_reads_calls_and_adds_rounds(world, national, api_for):
    listing = api_for(None).get("/api/v1/calls/")
    assert listing.status_code == 200
    codes = [c["code"] for c in listing.json()["results"]]
    assert "nat-2027" in codes and services.ROLLING_CALL in codes
    one = api_for(None).get("/api/v1/calls/nat-2027/").json()
    assert one["criteria"][0]["weight"] == 40 and one["capacity"] == [{"gpu_model": "B200", "gpus": 1024, "months": 12}]
    assert one["eligible_ministries"] == [world.ministry_a.code]
    created = api_for(world.admin).post("/api/v1/calls/nat-2027/rounds/", {"closes_on": "2026-11-30"}, format="json")
    assert created.status_code == 201 and created.json() == {"number": 1, "opens_on": "2026-11-02",
                                                             "closes_on": "2026-11-30"}
    bad = api_for(world.admin).post("/api/v1/calls/nat-2027/rounds/", {"closes_on": "2026-11-20"}, format="json")
    assert bad.status_code == 400 and "closes_on" in bad.json()["error"]["fields"]
    assert api_for(world.auditor).post("/api/v1/calls/nat-2027/rounds/", {"closes_on": "2026-12-31"},
                                       format="json").status_code == 403
    assert api_for(None).get("/api/v1/calls/none/").status_code == 404
