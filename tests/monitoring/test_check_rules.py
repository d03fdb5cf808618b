"""The monthly check can be trusted: grace counted in days from the actual start, only closed months
whose reports are due (or forced, with a reason), evidence kept up to date by late reports, no
second proposal for a shortfall already acted on, the floor in decisions, and runs that a dead
worker left unfinished finished later."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation_portal import months
from allocation_portal.errors import StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent
from allocation_portal.policy import current as policy_current
from gpus.selectors import held_by_month, servers_held_by_project
from monitoring import reclamation
from monitoring.models import CaseState, CheckRun, ReclamationCase
from monitoring.services import report_save
from projects.models import UsagePlan
from tests.conftest import KST
from tests.monitoring.conftest import AUG, values

pytestmark = pytest.mark.django_db

SEP, OCT = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


def test_grace_is_sixty_days_from_the_actual_start_not_calendar_months(world, started, clock):
    late_may = started("C-MAY31", used_share=Decimal("0"), start=dt.date(2026, 5, 31))
    policy = policy_current()
    # Calendar months from the start month would check July; 60 days from 31 May end on 29 July.
    assert not reclamation.checked_in(late_may, dt.date(2026, 7, 1), policy)
    assert reclamation.checked_in(late_may, AUG, policy)
    early_may = started("C-MAY01", used_share=Decimal("0"), start=dt.date(2026, 5, 1))
    assert reclamation.checked_in(early_may, dt.date(2026, 7, 1), policy)
    assert not reclamation.checked_in(early_may, dt.date(2026, 6, 1), policy)


def test_a_month_that_has_not_ended_is_never_checked(world, client_for, api_for, clock):
    with pytest.raises(StateConflict, match="has not ended"):
        reclamation.monthly_check_run(month=SEP, actor=world.admin)
    with pytest.raises(StateConflict):
        reclamation.monthly_check_run(month=SEP, actor=world.admin, force=True, reason="we are curious")
    page = client_for(world.admin).post("/monitoring/checks/", {"month": "2026-09"})
    assert page.status_code == 400 and "has not ended" in page.content.decode()
    api = api_for(world.admin).post("/api/v1/checks/", {"month": "2026-09"}, format="json")
    assert api.status_code == 409 and api.json()["error"]["fields"]["month"]
    assert not CheckRun.objects.exists()


def test_before_the_reports_are_due_only_a_forced_check_with_a_reason_runs(world, started, clock, api_for):
    started("C-TIER1", used_share=Decimal("0.2"))
    clock.move_to(dt.datetime(2026, 9, 3, 9, tzinfo=KST))  # August's reports are due on 5 September
    with pytest.raises(StateConflict, match="due on 2026-09-05"):
        reclamation.monthly_check_run(month=AUG, actor=world.admin)
    with pytest.raises(ValidationFailed):
        reclamation.monthly_check_run(month=AUG, actor=world.admin, force=True, reason="")
    assert api_for(world.admin).post("/api/v1/checks/", {"month": "2026-08"}, format="json").status_code == 409
    run = reclamation.monthly_check_run(month=AUG, actor=world.admin, force=True, reason="Ministers' meeting on the 4th")
    assert run.forced and run.force_reason == "Ministers' meeting on the 4th" and run.finished_at
    event = AuditEvent.objects.get(action="check.force")
    assert event.actor == world.admin and event.reason == "Ministers' meeting on the 4th"
    # The scheduled run (no actor) on the 6th needs no force.
    clock.move_to(dt.datetime(2026, 9, 6, 9, tzinfo=KST))
    assert reclamation.check_allowed(AUG) is None


def test_a_late_report_updates_the_case_and_a_project_that_meets_the_plan_is_closed_as_resolved(
        world, started, clock, client_for):
    project = started("C-SILENT", used_share=None)  # nothing reported: counted as zero
    reclamation.monthly_check_run(month=AUG)
    case = ReclamationCase.objects.get(project=project)
    assert case.evidence["ratio"] == "0.0000"
    with pytest.raises(StateConflict, match="still uses 0%"):
        reclamation.case_resolve(actor=world.admin, case=case, reason="reported")
    official = world.official
    for month in months.months_between(dt.date(2026, 4, 1), AUG):
        plan = UsagePlan.objects.get(project=project, month=month).planned_gpu_hours
        report_save(actor=official, project=project, month=month, submit=True,
                    values=values(gpu_hours_used=plan, peak_gpus_busy=80))
    case.refresh_from_db()
    assert Decimal(case.evidence["ratio"]) == Decimal("1.0000") and case.evidence["meets_plan"]
    assert len(case.evidence["updates"]) == 5 and case.evidence["updates"][-1]["month"] == "2026-08"
    assert AuditEvent.objects.filter(action="case.evidence_update", object_id=str(case.public_id)).count() == 5
    page = client_for(world.admin).get(f"/monitoring/cases/{case.public_id}/").content.decode()
    assert 'data-testid="case-updates"' in page and 'data-testid="resolve-form"' in page
    response = client_for(world.admin).post(f"/monitoring/cases/{case.public_id}/resolve/", {"reason": "Reported late"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.decided_servers == 0
    assert len(servers_held_by_project(project)) == 10


def test_no_ratchet_a_project_using_all_its_remaining_gpus_is_not_proposed_again(world, started, clock):
    project = started("C-TIER1", used_share=Decimal("0.2"))
    for month in (SEP, OCT, dt.date(2026, 11, 1), dt.date(2026, 12, 1)):
        UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=Decimal(80 * 24 * 30) / 2)
    reclamation.monthly_check_run(month=AUG)
    case = ReclamationCase.objects.get(project=project)
    assert case.proposed_servers == 4
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="late data")
    reclamation.case_decide(actor=world.admin, case=case, decision="approved", reason="20% of plan")
    assert len(servers_held_by_project(project)) == 6
    project.refresh_from_db()
    assert project.gpus_awarded == 48
    # From now on the project uses every GPU it still holds.
    for month, on in ((SEP, dt.datetime(2026, 10, 3, 9, tzinfo=KST)), (OCT, dt.datetime(2026, 11, 3, 9, tzinfo=KST))):
        clock.move_to(on)
        held = held_by_month([project.pk], month, month)[(project.pk, month)][0]
        report_save(actor=None, project=project, month=month, submit=True,
                    values=values(gpu_hours_used=held, peak_gpus_busy=48), at=timezone.now())
        clock.move_to(on + dt.timedelta(days=3))
        reclamation.monthly_check_run(month=month)
    assert list(ReclamationCase.objects.filter(project=project).values_list("month", flat=True)) == [AUG]


def test_an_under_use_decision_leaves_the_floor_and_off_purpose_can_take_everything(world, started, clock):
    project = started("C-TIER1", used_share=Decimal("0.2"))
    reclamation.monthly_check_run(month=AUG)
    case = ReclamationCase.objects.get(project=project)
    reclamation.case_respond(actor=world.official, case=case, kind="explanation", text="x")
    with pytest.raises(ValidationFailed, match="it keeps 1"):
        reclamation.case_decide(actor=world.admin, case=case, decision="approved", servers=10, reason="all")
    reclamation.case_decide(actor=world.admin, case=case, decision="approved", servers=9, reason="all but one")
    project.refresh_from_db()
    assert project.gpus_awarded == 8 and len(servers_held_by_project(project)) == 1

    off = reclamation.off_purpose_open(actor=world.admin, project=project, month=AUG, note="mining")
    reclamation.case_decide(actor=world.admin, case=off, decision="approved", servers=1, reason="off-purpose")
    project.refresh_from_db()
    # The award and the servers agree: none of either.
    assert project.gpus_awarded == 0 and servers_held_by_project(project) == []


def test_a_run_left_unfinished_by_a_dead_worker_is_finished_by_the_next_attempt(world, started, clock, settings):
    started("C-TIER1", used_share=Decimal("0.2"))
    # A worker claimed August and died before its first beat.
    stale = CheckRun.objects.create(month=AUG, started_at=timezone.now(), heartbeat_at=timezone.now(), runs=1)
    # While its beat is fresh, another attempt leaves it alone (no double work).
    assert reclamation.monthly_check_run(month=AUG).finished_at is None
    assert not ReclamationCase.objects.exists()
    clock.shift(dt.timedelta(seconds=settings.CHECK_RUN_STALE_SECONDS + 1))
    assert reclamation.stale_checks_resume() == ["2026-08"]
    stale.refresh_from_db()
    assert stale.finished_at is not None and stale.runs == 2
    assert ReclamationCase.objects.filter(month=AUG).count() == 1
    assert reclamation.stale_checks_resume() == []
