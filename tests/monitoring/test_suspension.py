"""Suspension for off-purpose use is real: the servers leave the project's usable holding for a
suspension entry in the ledger, show as suspended, count for nobody's use, are lent to nobody, and
go back to the project or to the MSIT reserve by the decision."""

import datetime as dt
from decimal import Decimal

import pytest

from gpus.availability import capacity_at, lendable_servers
from gpus.models import Allocation, HolderKind
from gpus.selectors import held_by_month, servers_held_by_project
from monitoring import reclamation
from monitoring.models import ReclamationCase
from projects.models import ProjectStatus
from tests.conftest import KST

pytestmark = pytest.mark.django_db

SEP = dt.date(2026, 9, 1)


@pytest.fixture
def suspended(world, clock):
    case = reclamation.off_purpose_open(actor=world.admin, project=world.project_a, month=dt.date(2026, 8, 1),
                                        note="GPUs used for an outside client's model")
    reclamation.case_suspend(actor=world.admin, case=case, reason="until the decision")
    return case


def test_suspended_servers_leave_the_usable_holding(world, suspended, clock):
    project = world.project_a
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUSPENDED
    assert servers_held_by_project(project) == []
    assert {s.hostname for s in servers_held_by_project(project, holder_kinds=(HolderKind.SUSPENDED,))} == {
        "clw-001", "clw-002"}
    # Owner GPU-hours stop at the suspension (10 Sep, 10:00).
    clock.move_to(dt.datetime(2026, 9, 20, tzinfo=KST))
    hours, _gpus = held_by_month([project.pk], SEP, SEP)[(project.pk, SEP)]
    assert hours == Decimal(16 * (9 * 24 + 10))
    now = capacity_at(dt.datetime(2026, 9, 20, tzinfo=KST))
    assert now.totals.suspended == 16 and now.totals.held_started == 8  # PB-001 still uses its server
    offered = {o.hostname for o in lendable_servers("B200", dt.datetime(2026, 9, 21, tzinfo=KST),
                                                     dt.datetime(2026, 10, 1, tzinfo=KST))}
    assert not {"clw-001", "clw-002"} & offered


def test_the_pages_say_the_gpus_are_suspended(world, suspended, client_for):
    official = client_for(world.official)
    project_page = official.get(f"/projects/{world.project_a.code}/").content.decode()
    assert 'data-testid="suspended-servers"' in project_page and "clw-001" in project_page
    report_page = official.get(f"/projects/{world.project_a.code}/reports/new/?month=2026-09").content.decode()
    assert 'data-testid="report-suspended"' in report_page
    overview = client_for(world.admin).get("/programme/").content.decode()
    assert "suspended: 16" in overview


def test_a_rejection_gives_the_servers_back_in_use(world, suspended, clock):
    clock.move_to(dt.datetime(2026, 9, 12, 9, tzinfo=KST))
    case = reclamation.case_decide(actor=world.admin, case=suspended, decision="rejected", reason="explained")
    assert set(case.outcome["returned_servers"]) == {"clw-001", "clw-002"}
    project = world.project_a
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE and len(servers_held_by_project(project)) == 2
    assert capacity_at().totals.suspended == 0
    assert not Allocation.objects.filter(project=project, holder_kind=HolderKind.SUSPENDED,
                                         ends_at__gt=dt.datetime(2026, 9, 12, 9, tzinfo=KST)).exists()


def test_an_approval_moves_the_reclaimed_servers_to_the_reserve_and_returns_the_rest(world, suspended, clock):
    case = reclamation.case_decide(actor=world.admin, case=suspended, decision="approved", servers=1, reason="one server")
    assert len(case.outcome["servers"]) == 1 and len(case.outcome["returned_servers"]) == 1
    project = world.project_a
    project.refresh_from_db()
    assert project.gpus_awarded == 16 and len(servers_held_by_project(project)) == 1
    report = capacity_at()
    assert report.totals.reserve == 8 and report.totals.suspended == 0


def test_a_project_that_has_not_started_cannot_be_suspended(world, api_for, clock):
    case = reclamation.off_purpose_open(actor=world.admin, project=world.project_a2, month=dt.date(2026, 8, 1),
                                        note="reported by a whistle-blower")
    response = api_for(world.admin).post(f"/api/v1/cases/{case.public_id}/suspend/", {"reason": "now"}, format="json")
    assert response.status_code == 409 and "has not started" in response.json()["error"]["message"]
    assert ReclamationCase.objects.get(pk=case.pk).suspended_at is None
    world.project_a2.refresh_from_db()
    assert world.project_a2.status == ProjectStatus.PLANNED
