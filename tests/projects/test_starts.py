"""Recording a project's start: when it may be (not in the future, not before the award, not further
back than the policy allows), what it takes over (never GPUs a loan still held), and how the usage
plan moves with the start."""

import datetime as dt
from decimal import Decimal

import pytest

from allocation_portal import months
from allocation_portal.errors import StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent
from gpus.availability import day_start
from gpus.models import AllocationGpu
from gpus.selectors import held_by_month
from lending.models import Loan
from projects.models import UsagePlan
from projects.services import (
    project_award_servers,
    project_record_start,
    project_set_expected_start,
    usage_plan_default,
)
from tests import factories as f
from tests.conftest import KST

pytestmark = pytest.mark.django_db

SEP = dt.date(2026, 9, 1)


def plan_of(project) -> dict:
    return {p.month: p.planned_gpu_hours for p in UsagePlan.objects.filter(project=project).order_by("month")}


@pytest.mark.parametrize("day, message", [
    (dt.date(2026, 9, 11), "future"),
    (dt.date(2026, 8, 26), "at most 14 days back"),
])
def test_a_start_is_neither_in_the_future_nor_too_far_back(world, clock, day, message):
    with pytest.raises(ValidationFailed, match=message):
        project_record_start(actor=world.official, project=world.project_a2, started_on=day)
    world.project_a2.refresh_from_db()
    assert world.project_a2.actual_start is None


def test_a_start_cannot_be_before_the_award(world, clock):
    late = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2026, 9, 1))
    f.award(late, [world.cluster.servers.get(hostname="clw-005")], start=dt.date(2026, 9, 8))
    with pytest.raises(ValidationFailed, match="before the project's award"):
        project_record_start(actor=world.official, project=late, started_on=dt.date(2026, 9, 7))
    bare = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2026, 9, 1))
    with pytest.raises(StateConflict, match="no servers"):
        project_record_start(actor=world.official, project=bare, started_on=dt.date(2026, 9, 9))


def test_a_back_dated_start_never_counts_hours_a_loan_still_held(world, clock):
    """PA-002's server clw-003: two of its GPUs are lent. The start is recorded back-dated by a
    week; the six free GPUs are the project's from that day, the two lent ones only once their loan
    has ended after its 72-hour notice."""
    server = world.cluster.servers.get(hostname="clw-003")
    lent = f.server_gpus(server)[:2]
    loan = f.make_loan(gpus=lent, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1))
    project_record_start(actor=world.official, project=world.project_a2, started_on=dt.date(2026, 9, 3))
    loan.refresh_from_db()
    notice_end = dt.datetime(2026, 9, 13, 10, tzinfo=KST)
    assert loan.ends_at == notice_end and loan.recalled
    rows = {r.gpu_id: r.in_use_from for r in AllocationGpu.objects.filter(allocation__project=world.project_a2)}
    assert {rows[g.pk] for g in lent} == {notice_end}
    assert set(rows.values()) == {notice_end, day_start(dt.date(2026, 9, 3))}
    # Now (10 Sep, 10:00): six GPUs for seven days and ten hours; the two lent ones not at all.
    held = held_by_month([world.project_a2.pk], SEP, SEP)[(world.project_a2.pk, SEP)]
    assert held == (Decimal(6 * (7 * 24 + 10)), 6)
    # At the end of September the lent GPUs count from the loan's end.
    clock.move_to(dt.datetime(2026, 10, 1, tzinfo=KST))
    hours, gpus = held_by_month([world.project_a2.pk], SEP, SEP)[(world.project_a2.pk, SEP)]
    assert hours == Decimal(6 * 28 * 24 + 2 * (17 * 24 + 14)) and gpus == 8


def test_the_start_and_a_loan_approval_lock_in_the_same_order(world, clock):
    """Recording the start takes the project's server locks first, like an approval: the loan layer
    and the start cannot each pass their check."""
    server = world.cluster.servers.get(hostname="clw-003")
    f.make_loan(gpus=f.server_gpus(server)[:4], start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 1))
    project_record_start(actor=world.official, project=world.project_a2, started_on=dt.date(2026, 9, 10))
    assert Loan.objects.get().recalled
    event = AuditEvent.objects.get(action="project.start", object_id=world.project_a2.code)
    assert event.after["actual_start"] == "2026-09-10"


def test_a_slipping_start_moves_the_plan_with_it(world, clock):
    project = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2026, 10, 1), end_date=dt.date(2027, 3, 31))
    project_award_servers(actor=world.admin, project=project, cluster=world.cluster, server_count=1,
                          starts_at=day_start(dt.date(2026, 9, 10)), ends_at=day_start(dt.date(2027, 4, 1)), reason="award")
    full = {m: Decimal(8 * months.hours_in(m)) for m in months.months_between(dt.date(2026, 10, 1), dt.date(2027, 3, 1))}
    assert plan_of(project)[dt.date(2026, 10, 1)] == (full[dt.date(2026, 10, 1)] * Decimal("0.3")).quantize(Decimal(1))
    project_set_expected_start(actor=world.official, project=project, expected_start=dt.date(2026, 12, 1),
                               reason="Data contract delayed")
    plan = plan_of(project)
    # The ramp-up moved two months: 30% in December, 60% in January, 80% after; nothing before.
    assert min(plan) == dt.date(2026, 12, 1)
    shares = {m: plan[m] / full[m] for m in plan}
    for month, share in [(dt.date(2026, 12, 1), "0.3"), (dt.date(2027, 1, 1), "0.6"), (dt.date(2027, 3, 1), "0.8")]:
        assert abs(shares[month] - Decimal(share)) < Decimal("0.001"), (month, shares[month])
    project.refresh_from_db()
    assert project.plan_start == dt.date(2026, 12, 1)
    assert AuditEvent.objects.filter(action="usage_plan.rebase", object_id=project.code).count() == 1


def test_the_plan_is_rebased_on_the_actual_start_with_the_first_month_prorated(world, clock):
    project = world.project_a2  # planned 2026-12-01: the default plan from then
    UsagePlan.objects.bulk_create(UsagePlan(project=project, month=m, planned_gpu_hours=h)
                                  for m, h in usage_plan_default(project, dt.date(2026, 12, 1)).items())
    project_record_start(actor=world.official, project=project, started_on=dt.date(2026, 9, 6))
    plan = plan_of(project)

    def share(month):
        return plan[month] / Decimal(8 * months.hours_in(month))

    # September from the 6th: 30% of 25 of its 30 days; then 60%; the start moved earlier, so the
    # months to the end repeat the last share (80%).
    assert abs(share(SEP) - Decimal("0.3") * 25 / 30) < Decimal("0.001")
    assert abs(share(dt.date(2026, 10, 1)) - Decimal("0.6")) < Decimal("0.001")
    assert abs(share(dt.date(2027, 3, 1)) - Decimal("0.8")) < Decimal("0.001")


def test_the_official_sees_the_moved_plan(world, client_for, clock):
    response = client_for(world.official).post(f"/projects/{world.project_a2.code}/start/",
                                               {"started_on": "2026-09-08", "reason": "kick-off", "confirmed": "1"})
    assert response.status_code == 302
    page = client_for(world.official).get(f"/projects/{world.project_a2.code}/plan/").content.decode()
    assert 'data-testid="plan-start"' in page and "2026-09-08" in page
