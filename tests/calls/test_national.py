"""National proposals: a ministry official proposes a project for their ministry to the call's open
round (page and API, with clear errors); reviewers score it; the committee's selection makes it the
ministry's project with its award through projects' own service, and a proposal not selected records
the stage it ended at."""

import datetime as dt

import pytest

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent, Notification, Role
from calls import services, services_review
from calls.models import Call, CallKind, Criterion, Proposal, Round, Stage
from gpus.availability import day_start
from gpus.models import Allocation
from projects.models import Project
from projects.services import project_award_servers
from tests import factories as f

pytestmark = pytest.mark.django_db

VALUES = {"title": "해양 AI 예측 모델", "title_en": "Ocean AI forecasting model", "domain": "ocean",
          "summary": "해양 관측 자료로 예측 모델을 만듭니다.", "gpu_model": "B200", "gpu_count": 24, "months": 12,
          "starts_on": dt.date(2027, 1, 4)}


@pytest.fixture
def call(world, clock):
    """A national call with a round open on the clock's day (2026-09-10), three criteria, two stages
    and the programme's pool to award from; a cap of 64 × 12 GPU-months."""
    call = Call.objects.create(code="nat-2027", kind=CallKind.NATIONAL, name_ko="2027 국가 프로젝트 공모",
                               name_en="2027 national project call", opens_on=dt.date(2026, 9, 1),
                               pool=f.programme_pool(), cap_gpu_months=64 * 12)
    Round.objects.create(call=call, number=1, opens_on=dt.date(2026, 9, 1), closes_on=dt.date(2026, 9, 30))
    for position, code in enumerate(("strategic", "ripple", "government")):
        Criterion.objects.create(call=call, code=code, position=position, name_ko=code, name_en=code, weight=34 - (position > 0))
    Stage.objects.create(call=call, code="interviews", position=0, name_ko="면담", name_en="Interviews")
    Stage.objects.create(call=call, code="committee", position=1, name_ko="위원회", name_en="Committee")
    return call


def reviewed(world, proposal, scores=(5, 4, 4)):
    for i in range(3):
        reviewer = f.make_user(Role.REVIEWER, username=f"nat-expert{i}")
        assignment = services_review.assignment_create(actor=world.admin, proposal=proposal, reviewer=reviewer)
        services_review.review_submit(actor=reviewer, assignment=assignment, scores={
            c: (s, "근거") for c, s in zip(("strategic", "ripple", "government"), scores, strict=True)})
    return proposal


def test_an_official_proposes_on_the_page_with_clear_errors(world, call, client_for):
    page = client_for(world.official)
    assert 'data-testid="propose"' in page.get("/calls/nat-2027/").content.decode()
    assert page.get("/calls/nat-2027/propose/").status_code == 200
    form = {**VALUES, "starts_on": "2027-01-04"}
    bad = page.post("/calls/nat-2027/propose/", {**form, "gpu_count": "12", "starts_on": "2026-09-01"})
    text = bad.content.decode()
    assert bad.status_code == 400 and "multiple of 8 GPUs" in text and "after today" in text
    over = page.post("/calls/nat-2027/propose/", {**form, "gpu_count": "80"})  # 960 GPU-months, the cap is 768
    assert over.status_code == 400 and "Over the call&#x27;s cap: 960 GPU-months asked, the cap is 768" in over.content.decode()
    assert not Proposal.objects.filter(call=call).exists()
    response = page.post("/calls/nat-2027/propose/", form)
    proposal = Proposal.objects.get(call=call)
    assert response.status_code == 302 and response["Location"] == f"/calls/nat-2027/proposals/{proposal.public_id}/"
    assert (proposal.ministry, proposal.round.number, proposal.gpu_count, proposal.state) == (world.ministry_a, 1, 24, "submitted")
    assert AuditEvent.objects.filter(action="call.propose", object_id=str(proposal.public_id)).exists()
    mine = page.get(f"/calls/nat-2027/proposals/{proposal.public_id}/").content.decode()
    assert "Ocean AI forecasting model" in mine and 'data-testid="reviews"' not in mine  # not who reviews it
    # Another ministry's official, an applicant and a reviewer never see it.
    assert client_for(world.outsider).get(f"/calls/nat-2027/proposals/{proposal.public_id}/").status_code == 404
    assert client_for(world.applicant).get("/calls/nat-2027/propose/").status_code == 403
    assert client_for(world.admin).get("/calls/nat-2027/propose/").status_code == 403
    assert client_for(world.official).get("/calls/short-term-rolling/propose/").status_code == 404


def test_the_service_refuses_outside_the_rules(world, call):
    with pytest.raises(NotPermitted):
        services.proposal_national_submit(actor=world.applicant, call=call, values=VALUES)
    call.eligible_ministries.add(world.ministry_b)
    with pytest.raises(NotPermitted, match="not open to proposals of this ministry"):
        services.proposal_national_submit(actor=world.official, call=call, values=VALUES)
    call.eligible_ministries.clear()
    with pytest.raises(ValidationFailed) as error:
        services.proposal_national_submit(actor=world.official, call=call, values={**VALUES, "domain": "x", "months": 40})
    assert set(error.value.fields) == {"domain", "months"}
    Round.objects.filter(call=call).update(closes_on=dt.date(2026, 9, 9))
    with pytest.raises(StateConflict, match="no round is open"):
        services.proposal_national_submit(actor=world.official, call=call, values=VALUES)
    with pytest.raises(StateConflict):
        services.proposal_national_submit(actor=world.official, call=services.rolling_call(), values=VALUES)


def test_the_api_takes_a_proposal_from_an_official(world, call, api_for, django_assert_max_num_queries):
    body = {**VALUES, "call": "nat-2027", "starts_on": "2027-01-04"}
    created = api_for(world.official).post("/api/v1/call-proposals/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["ministry"], data["gpu_count"], data["state"], data["reviews"], data["figures"]) == (
        world.ministry_a.code, 24, "submitted", [], None)
    assert api_for(world.admin).post("/api/v1/call-proposals/", body, format="json").status_code == 403
    unknown = api_for(world.official).post("/api/v1/call-proposals/", {**body, "call": "nope"}, format="json")
    assert unknown.status_code == 400 and "call" in unknown.json()["error"]["fields"]
    odd = api_for(world.official).post("/api/v1/call-proposals/", {**body, "gpu_count": 20}, format="json")
    assert odd.status_code == 400 and "gpu_count" in odd.json()["error"]["fields"]
    api_for(world.outsider).post("/api/v1/call-proposals/", body, format="json")
    with django_assert_max_num_queries(4):  # token user, count, page (its call, round, ministry, project, stage joined)
        listing = api_for(world.official).get("/api/v1/call-proposals/")
    assert [p["ministry"] for p in listing.json()["results"]] == [world.ministry_a.code]


def test_the_selection_makes_the_project_with_its_award(world, call, client_for):
    proposal = reviewed(world, services.proposal_national_submit(actor=world.official, call=call, values=VALUES))
    refused = client_for(world.admin).post(f"/calls/nat-2027/proposals/{proposal.public_id}/decide/",
                                           {"selected": "yes", "reason": "전략적 중요성", "award_gpus": "20"})
    assert refused.status_code == 400 and "whole servers of 8 GPUs" in refused.content.decode()
    assert not Project.objects.filter(code__startswith="NAT-2027").exists()
    response = client_for(world.admin).post(f"/calls/nat-2027/proposals/{proposal.public_id}/decide/",
                                            {"selected": "yes", "rank": "1", "reason": "전략적 중요성", "award_gpus": "16"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    project = proposal.project
    assert (project.code, project.ministry, project.gpus_awarded, project.pool.code) == (
        "NAT-2027-01", world.ministry_a, 16, "nai-2026")
    assert (project.planned_start, project.end_date, project.title_en, project.domain) == (
        dt.date(2027, 1, 4), dt.date(2028, 1, 3), "Ocean AI forecasting model", "ocean")
    assert (proposal.state, proposal.award_gpus, proposal.stage_reached.code) == ("selected", 16, "committee")
    assert AuditEvent.objects.filter(action="project.create", object_id="NAT-2027-01").exists()
    assert Notification.objects.filter(user=world.official, dedup_key=f"review.decide:{proposal.public_id}").exists()
    # Its servers are then awarded on the project's page, within the award.
    cluster = f.make_cluster(servers=3)
    allocation = project_award_servers(actor=world.admin, project=project, cluster=cluster, server_count=2,
                                       starts_at=day_start(dt.date(2027, 1, 4)), ends_at=day_start(dt.date(2028, 1, 4)),
                                       reason="award")
    assert Allocation.objects.get(pk=allocation.pk).gpu_count == 16
    text = client_for(world.official).get(f"/projects/{project.code}/").content.decode()
    assert 'data-testid="project-selection"' in text and "B200 ×16" in text


def test_a_proposal_not_selected_records_the_stage_it_ended_at(world, call, api_for):
    proposal = reviewed(world, services.proposal_national_submit(actor=world.official, call=call, values=VALUES))
    api = api_for(world.admin)
    url = f"/api/v1/call-proposals/{proposal.public_id}/decide/"
    assert api.post(url, {"selected": False, "reason": "x", "stage": "nope"}, format="json").status_code == 400
    decided = api.post(url, {"selected": False, "reason": "면담에서 제외", "stage": "interviews"}, format="json")
    assert decided.status_code == 200 and decided.json()["stage_reached"] == "interviews"
    assert decided.json()["project"] is None and not Project.objects.filter(code__startswith="NAT-2027").exists()


def test_msit_records_the_stages_passed_before_the_decision(world, call, client_for, api_for):
    """Stage by stage (page and API): forward only, within the call, while the proposal is open; the
    page says where it is; the decision cannot name a stage it passed; each step is audited."""
    call.stages.filter(code="committee").update(position=2)
    Stage.objects.create(call=call, code="hearing", position=1, name_ko="청문", name_en="Hearing")
    proposal = reviewed(world, services.proposal_national_submit(actor=world.official, call=call, values=VALUES))
    page = client_for(world.admin)
    url = f"/calls/nat-2027/proposals/{proposal.public_id}/"
    shown = page.get(url).content.decode()
    assert "Interviews: <strong>under way" in shown  # at the first stage until it passes it
    advance_form = shown.split('data-testid="advance-form"')[1].split("</form>")[0]
    assert '<option value="hearing"' in advance_form and '<option value="interviews"' not in advance_form  # there now
    assert page.post(url + "advance/", {"stage": "interviews"}).status_code == 400  # not a stage ahead of it
    moved = page.post(url + "advance/", {"stage": "hearing", "note": "면담 통과"})
    assert moved.status_code == 302
    shown = page.get(url).content.decode()
    stages = shown.split('data-testid="proposal-stages"')[1].split("</ol>")[0]
    assert "Interviews: <strong>passed" in stages and "Hearing: <strong>under way" in stages
    assert AuditEvent.objects.filter(action="review.advance", object_id=str(proposal.public_id)).count() == 1
    api = api_for(world.admin)
    advance = f"/api/v1/call-proposals/{proposal.public_id}/advance/"
    back = api.post(advance, {"stage": "interviews"}, format="json")
    assert back.status_code == 409 and back.json()["error"]["code"] == "state_conflict"
    assert api.post(advance, {"stage": "elsewhere"}, format="json").status_code == 400
    other = Call.objects.create(code="nat-other", kind=CallKind.NATIONAL, name_ko="다른 공모", name_en="Other",
                                opens_on=dt.date(2026, 9, 1))
    foreign = Stage.objects.create(call=other, code="late", position=9, name_ko="x", name_en="x")
    with pytest.raises(ValidationFailed):
        services_review.proposal_advance(actor=world.admin, proposal=proposal, stage=foreign)
    with pytest.raises(NotPermitted):
        services_review.proposal_advance(actor=world.official, proposal=proposal, stage=call.stages.get(code="committee"))
    assert api.post(advance, {"stage": "committee"}, format="json").json()["stage_reached"] == "committee"
    decide = f"/api/v1/call-proposals/{proposal.public_id}/decide/"
    passed = api.post(decide, {"selected": False, "reason": "x", "stage": "hearing"}, format="json")
    assert passed.status_code == 400 and "passed that stage already" in passed.content.decode()
    decided = api.post(decide, {"selected": False, "reason": "위원회에서 제외"}, format="json")
    assert decided.status_code == 200 and decided.json()["stage_reached"] == "committee"
    late = api.post(advance, {"stage": "committee"}, format="json")
    assert late.status_code == 409 and 'data-testid="advance-form"' not in page.get(url).content.decode()


def test_a_selection_without_a_pool_writes_nothing(world, call):
    proposal = reviewed(world, services.proposal_national_submit(actor=world.official, call=call, values=VALUES))
    Call.objects.filter(pk=call.pk).update(pool=None)
    proposal = Proposal.objects.select_related("call").get(pk=proposal.pk)
    with pytest.raises(StateConflict, match="no pool"):
        services_review.proposal_decide(actor=world.admin, proposal=proposal, selected=True, rank=1, reason="r")
    proposal.refresh_from_db()
    assert proposal.state == "in_review" and proposal.project is None
