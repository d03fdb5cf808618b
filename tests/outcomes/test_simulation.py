"""The what-if simulator's core loop, in-process on the test database, for a small world: three
projects on eight servers, a few organisations asking for GPUs, three months."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from allocation_portal import policy as programme_policy
from allocation_portal.models import Role
from lending.models import LoanRequest
from monitoring.models import UsageReport
from outcomes import simulation
from projects.models import Project
from tests import factories as f

KST = ZoneInfo("Asia/Seoul")
APR = dt.date(2026, 4, 1)
# Projects start on their planned day and all use far less than planned; organisations ask often.
BEHAVIOUR = {"requests_per_month": 10, "organisations": 4, "start_delay_days": [0, 0], "never_start_share": 0,
             "under_use_share": 1, "under_use_of_plan": [0.1, 0.2], "missing_report_share": 0,
             "late_report_share": 0, "decision_days": [0, 2], "request_gpus": {"1": 1, "4": 1, "8": 1},
             "case_approve_share": 1}
STRICT = {"grace_days": 0, "tier1_below": "0.5", "tier2_below": "0.9", "response_days": 3}


@pytest.fixture
def sim_world(db):
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=KST), tick=False):
        ministry = f.make_ministry("simm")
        cluster = f.make_cluster(servers=8, code="sc")
        servers = list(cluster.servers.order_by("hostname"))
        for index, (planned, count) in enumerate([(APR, 3), (dt.date(2026, 4, 15), 2), (dt.date(2026, 5, 1), 3)]):
            project = f.make_project(ministry, code=f"S-{index}", gpus=8 * count, planned_start=planned,
                                     end_date=dt.date(2027, 3, 31))
            f.award(project, servers[:count], start=APR)
            servers = servers[count:]
    return cluster


def run(seed=7, months=3, **extra):
    return simulation.simulate(first=APR, month_count=months, seed=seed, behaviour=BEHAVIOUR, **extra)


def run_and_undo(**extra):
    """A run whose writes are undone, so the next one starts from the same world."""
    with transaction.atomic():
        result = run(**extra)
        transaction.set_rollback(True)
    return result


def test_it_replays_the_months_with_the_portals_services(sim_world):
    seen = []
    result = run(progress=seen.append)
    figures, stats = result.figures, result.stats
    assert [m["month"] for m in figures["months"]] == ["2026-04", "2026-05", "2026-06"]
    assert seen[-1] == 100 and seen == sorted(seen)
    # Every project started on its planned day, recorded by its official through the start service.
    assert stats["start"] == 3
    assert sorted(Project.objects.values_list("actual_start", flat=True)) == [APR, dt.date(2026, 4, 15), dt.date(2026, 5, 1)]
    # April's and May's reports were submitted (June's are due in July) and MSIT accepted them.
    assert UsageReport.objects.filter(state="accepted").count() == stats["report"] == stats["report_accept"] == 5
    assert LoanRequest.objects.count() == stats["request_submit"] > 0
    assert figures["cumulative"]["loans_started"] == stats.get("offer_accept", 0) > 0
    # The simulated admin's policy is the one the figures were judged by.
    assert programme_policy.current().reason == "Simulation policy (what-if)."


def test_the_same_seed_gives_the_same_figures_and_a_stricter_policy_reclaims_more(sim_world):
    first = run_and_undo(seed=11)
    again = run_and_undo(seed=11)
    strict = run_and_undo(seed=11, policy=STRICT)
    assert first.figures == again.figures and first.stats == again.stats
    # Under the defaults no month is checked yet (60 days' grace); without grace and with higher
    # tiers the under-using projects lose servers to the reserve, whose hours then count.
    assert first.figures["cumulative"]["reclaimed"] == {"cases": 0, "servers": 0}
    assert strict.figures["cumulative"]["reclaimed"]["servers"] > 0
    assert strict.figures["cumulative"]["gpu_hours"]["reserve"] > first.figures["cumulative"]["gpu_hours"]["reserve"]


def test_its_figures_are_what_the_outcomes_api_shows_for_the_same_world(sim_world, api_for):
    result = run(seed=5)
    end = dt.datetime(2026, 7, 1, tzinfo=KST)  # the months as they closed
    with time_machine.travel(end, tick=False):
        admin = f.make_user(Role.ADMIN, username="sim-reader")
        body = api_for(admin).get("/api/v1/programme/outcomes/?from=2026-04&to=2026-06").json()
    assert body["months"] == result.figures["months"]
    assert body["cumulative"] == result.figures["cumulative"]


@pytest.mark.parametrize(("data", "field"), [
    ({"requests_per_month": 501}, "requests_per_month"),
    ({"use_of_plan": [0.9, 0.2]}, "use_of_plan"),
    ({"start_delay_days": [0, 1.5]}, "start_delay_days"),
    ({"under_use_share": True}, "under_use_share"),
    ({"request_gpus": {"5": 1}}, "request_gpus"),
    ({"request_gpus": {"1": 0}}, "request_gpus"),
    ({"speed": 3}, "speed"),
])
def test_a_bad_behaviour_names_its_field(data, field):
    with pytest.raises(simulation.SimulationInvalid) as error:
        simulation.behaviour_from(data)
    assert error.value.field == field


@pytest.mark.parametrize(("data", "field"), [
    ({"tier1_below": "0.7", "tier2_below": "0.6"}, "tier1_below"),
    ({"grace_days": 400}, "grace_days"),
    ({"tier1_share": "lots"}, "tier1_share"),
    ({"rounding": "sideways"}, "rounding"),
    ({"notice": 3}, "notice"),
])
def test_a_bad_policy_is_refused_by_the_policy_pages_own_checks(db, data, field):
    with pytest.raises(simulation.SimulationInvalid) as error:
        simulation.policy_from(data)
    assert error.value.field == field


def test_a_policy_file_changes_only_its_fields(db):
    values = simulation.policy_from({"recall_notice_hours": 24, "tier2_below": 0.7})
    current = programme_policy.current()
    assert values["recall_notice_hours"] == 24 and str(values["tier2_below"]) == "0.7"
    assert values["grace_days"] == current.grace_days and values["tier1_below"] == current.tier1_below
