"""Cases: the ministry's response, MSIT's decision and what it moves in the ledger; off-purpose
cases from a report or from an admin, and suspension."""

import datetime as dt
from decimal import Decimal

import pytest

from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent
from gpus.availability import lendable_servers
from gpus.models import Allocation, HolderKind
from gpus.selectors import capacity_at, servers_held_by_project
from monitoring import reclamation
from monitoring.models import ReclamationCase
from monitoring.services import report_save
from tests.monitoring.conftest import AUG, KST, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world, started, clock):
    project = started("C-TIER1", used_share=Decimal("0.2"))
    reclamation.monthly_check_run(month=AUG)
    return ReclamationCase.objects.get(project=project)


def test_the_ministry_responds_within_the_window(world, case, clock):
    with pytest.raises(NotPermitted):
        reclamation.case_respond(actor=world.outsider, case=case, kind="explanation", text="x")
    with pytest.raises(ValidationFailed):
        reclamation.case_respond(actor=world.official, case=case, kind="explanation", text=" ")
    responded = reclamation.case_respond(actor=world.official, case=case, kind="exemption",
                                         text="Data arrived late; use is rising from September.")
    assert responded.state == "responded"
    assert world.admin.notifications.filter(kind="case_responded").exists()
    with pytest.raises(StateConflict):
        reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="again")


def test_the_window_closes(world, case, clock):
    clock.move_to(dt.datetime(2026, 9, 18, 9, tzinfo=KST))
    with pytest.raises(StateConflict, match="closed"):
        reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="late")


def test_msit_decides_only_after_the_response_or_the_window(world, case, clock):
    with pytest.raises(StateConflict, match="may respond until"):
        reclamation.case_decide(actor=world.admin, case=case, decision="approved", reason="r")
    clock.move_to(dt.datetime(2026, 9, 18, 9, tzinfo=KST))
    with pytest.raises(NotPermitted):
        reclamation.case_decide(actor=world.official, case=case, decision="approved", reason="r")
    assert reclamation.case_decide(actor=world.admin, case=case, decision="rejected", reason="Rising use").state == "rejected"


def test_approval_moves_servers_to_the_reserve_and_leaves_loans_alone(world, case, clock):
    project = case.project
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="We will catch up.")
    decided = reclamation.case_decide(actor=world.admin, case=case, decision="approved", servers=3, reason="Use is 20% of plan")
    assert decided.state == "approved" and decided.decided_servers == 3
    assert len(decided.outcome["servers"]) == 3
    assert len(servers_held_by_project(project)) == 7
    project.refresh_from_db()
    assert project.gpus_awarded == 56
    reserve = Allocation.objects.filter(holder_kind=HolderKind.RESERVE)
    assert sum(reserve.values_list("gpu_count", flat=True)) == 24
    assert capacity_at(dt.datetime(2026, 9, 20, tzinfo=KST)).totals.reserve == 24
    # Reclaimed servers are the MSIT reserve's: lendable (no recall risk) from the decision on.
    reclaimed = set(decided.outcome["servers"])
    offers = {o.hostname: o for o in lendable_servers("B200", dt.datetime(2026, 9, 20, tzinfo=KST),
                                                       dt.datetime(2026, 10, 20, tzinfo=KST))}
    assert reclaimed <= set(offers) and all(offers[h].source == "reserve" for h in reclaimed)
    assert AuditEvent.objects.filter(action="allocation.reclaim").exists()
    assert AuditEvent.objects.filter(action="case.approved", object_id=str(case.public_id)).exists()
    with pytest.raises(StateConflict):
        reclamation.case_decide(actor=world.admin, case=case, decision="approved", reason="again")


def test_an_approval_cannot_take_more_than_the_project_holds(world, case, clock):
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="x")
    with pytest.raises(ValidationFailed):
        reclamation.case_decide(actor=world.admin, case=case, decision="approved", servers=11, reason="r")
    assert not Allocation.objects.filter(holder_kind=HolderKind.RESERVE).exists()


def test_an_exemption_reclaims_nothing(world, case, clock):
    reclamation.case_respond(actor=world.official, case=case, kind="exemption", text="x")
    reclamation.case_decide(actor=world.admin, case=case, decision="exempted", reason="Justified delay")
    assert len(servers_held_by_project(case.project)) == 10


def test_a_report_declaring_off_purpose_use_opens_its_own_case(world, clock):
    report = report_save(actor=world.official, project=world.project_a, month=AUG, submit=True,
                         values=values(within_purpose=False, notes="Used for another ministry's model."))
    off = ReclamationCase.objects.get(project=world.project_a, kind="off_purpose")
    assert off.source_report == report and off.proposed_servers == 2
    assert world.admin.notifications.filter(kind="case_opened").exists()
    # Submitting it again (a correction) opens no second case.
    report_save(actor=world.admin, project=world.project_a, month=AUG, submit=True,
                values=values(within_purpose=False, notes="Corrected."))
    assert ReclamationCase.objects.filter(kind="off_purpose").count() == 1


def test_an_admin_opens_an_off_purpose_case_suspends_and_decides_at_once(world, clock):
    with pytest.raises(NotPermitted):
        reclamation.off_purpose_open(actor=world.official, project=world.project_a, month=AUG, note="x")
    case = reclamation.off_purpose_open(actor=world.admin, project=world.project_a, month=AUG,
                                        note="Inspection found crypto mining jobs.", proposed=1)
    suspended = reclamation.case_suspend(actor=world.admin, case=case, reason="Until the decision")
    world.project_a.refresh_from_db()
    assert suspended.suspended_at and world.project_a.status == "suspended"
    # Off-purpose cases are faster: no need to wait for the response window.
    decided = reclamation.case_decide(actor=world.admin, case=case, decision="approved", reason="Confirmed")
    world.project_a.refresh_from_db()
    assert decided.decided_servers == 1 and world.project_a.status == "active"
    with pytest.raises(StateConflict):
        reclamation.off_purpose_open(actor=world.admin, project=world.project_a, month=AUG, note="again")


def test_case_pages_and_api(world, case, client_for, api_for, clock):
    page = client_for(world.official).get(f"/monitoring/cases/{case.public_id}/").content.decode()
    assert 'data-testid="usage-chart"' in page and "Send the response" in page
    assert client_for(world.outsider).get(f"/monitoring/cases/{case.public_id}/").status_code == 404
    bad = client_for(world.official).post(f"/monitoring/cases/{case.public_id}/respond/", {"response_kind": "explanation"})
    assert bad.status_code == 400
    api = api_for(world.official)
    assert api.post(f"/api/v1/cases/{case.public_id}/respond/",
                    {"response_kind": "explanation", "response_text": "Catching up"}, format="json").status_code == 200
    decided = api_for(world.admin).post(f"/api/v1/cases/{case.public_id}/decide/",
                                        {"decision": "approved", "servers": 2, "reason": "ok"}, format="json")
    assert decided.status_code == 200 and decided.json()["decided_servers"] == 2
    listed = api_for(world.auditor).get("/api/v1/cases/?month=2026-08&state=approved").json()
    assert listed["count"] == 1 and listed["results"][0]["project"] == "C-TIER1"
    assert api_for(world.outsider).get("/api/v1/cases/").json()["count"] == 0
