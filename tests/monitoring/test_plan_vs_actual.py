"""Plan vs actual: allocated GPU-hours from the ledger, planned from the plan, used from reports;
monthly and cumulative, for a project, a ministry and the programme; the status board."""

import datetime as dt
from decimal import Decimal

import pytest

from monitoring.selectors import month_board, project_usage
from monitoring.services import report_accept, report_save
from projects.models import Project, UsagePlan
from tests import factories as f
from tests.monitoring.conftest import AUG, values

pytestmark = pytest.mark.django_db

JUL = dt.date(2026, 7, 1)
KST = dt.timezone(dt.timedelta(hours=9))


def on(clock, day, hour=10):
    clock.move_to(dt.datetime(day.year, day.month, day.day, hour, tzinfo=KST))


@pytest.fixture
def plans(world):
    for project, hours in ((world.project_a, Decimal(10000)), (world.project_b, Decimal(5000))):
        for month in (dt.date(2026, m, 1) for m in range(4, 13)):
            UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=hours)


def test_project_series_monthly_and_cumulative(world, plans, clock):
    on(clock, dt.date(2026, 8, 3))
    report_accept(actor=world.admin, report=report_save(
        actor=world.official, project=world.project_a, month=JUL, values=values(gpu_hours_used=Decimal(8000)), submit=True))
    on(clock, dt.date(2026, 9, 10))
    report_save(actor=world.official, project=world.project_a, month=AUG, values=values(gpu_hours_used=Decimal(3000)))  # a draft
    rows = {row.month: row for row in project_usage(world.project_a)}
    assert list(rows)[0] == dt.date(2026, 4, 1) and list(rows)[-1] == dt.date(2026, 9, 1)
    jul, aug = rows[JUL], rows[AUG]
    assert jul.monthly.allocated == Decimal(31 * 24 * 16) and jul.monthly.planned == 10000 and jul.monthly.used == 8000
    assert jul.monthly.utilisation == Decimal("0.6720") and jul.monthly.plan_ratio == Decimal("0.8000")
    assert jul.status == "accepted"
    assert aug.monthly.used == 0 and aug.status == "missing"  # a draft is not a report; due 2026-09-05
    assert aug.cumulative.used == 8000 and aug.cumulative.planned == 50000
    assert aug.cumulative.allocated == Decimal((30 + 31 + 30 + 31 + 31) * 24 * 16)


def test_the_month_under_way_counts_hours_up_to_now(world, plans, clock):
    sep = project_usage(world.project_a)[-1]
    assert sep.month == dt.date(2026, 9, 1) and sep.monthly.allocated == Decimal((9 * 24 + 10) * 16)


def test_statuses_and_flags_on_the_board(world, plans, clock):
    # A: July submitted on time, far under plan; B: July submitted late, declaring off-purpose use.
    on(clock, dt.date(2026, 8, 4))
    report_save(actor=world.official, project=world.project_a, month=JUL, values=values(gpu_hours_used=Decimal(500)), submit=True)
    clock.move_to(dt.datetime(2026, 8, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    report_save(actor=world.outsider, project=world.project_b, month=JUL, submit=True,
                values=values(peak_gpus_busy=8, gpu_hours_used=Decimal(4000), within_purpose=False, notes="other"))
    clock.move_to(dt.datetime(2026, 9, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    board = month_board(Project.objects.all(), JUL)
    rows = {r.project.code: r for r in board.rows}
    assert rows["PA-001"].month.status == "submitted"
    assert "under_plan" in rows["PA-001"].flags
    assert rows["PB-001"].month.status == "late" and set(rows["PB-001"].flags) >= {"late", "off_purpose"}
    assert rows["PA-002"].month.status == "not_started" and rows["PA-002"].flags == []
    aug = {r.project.code: r for r in month_board(Project.objects.all(), AUG).rows}
    assert aug["PA-001"].month.status == "missing" and "missing" in aug["PA-001"].flags  # due 2026-09-05
    assert board.totals.used == 4500
    assert board.counts == {"submitted": 1, "late": 1, "not_started": 1}


def test_a_report_not_yet_due_is_not_missing(world, plans, clock):
    rows = {r.project.code: r for r in month_board(Project.objects.all(), dt.date(2026, 9, 1)).rows}
    assert rows["PA-001"].month.status == "not_due"


@pytest.mark.parametrize("extra", [0, 12])
def test_the_board_runs_constant_queries(world, plans, clock, client_for, django_assert_num_queries, extra):
    for _ in range(extra):
        p = f.make_project(world.ministry_b, started=True, gpus=8)
        f.award(p, [f.make_cluster(servers=1).servers.get()])
        report_save(actor=None, project=p, month=JUL, values=values(peak_gpus_busy=8, gpu_hours_used=Decimal(10)), submit=True)
    client = client_for(world.admin)
    # session, user, then projects, plans, used, the month's reports, ledger, the policy; the notification
    # badge; the capacity chart's pool, its GPUs and one pass over the ledger for all its months
    with django_assert_num_queries(13):
        assert client.get("/monitoring/board/?month=2026-07").status_code == 200
    # no page frame, so no notification badge; the outcomes sheet (the outcomes app's figures, none
    # kept yet in a new database) adds twelve
    with django_assert_num_queries(21):
        assert client.get("/monitoring/board/export.xlsx?month=2026-07").status_code == 200


def test_ministry_page_shows_its_projects_for_a_month(world, plans, clock, client_for):
    on(clock, dt.date(2026, 8, 4))
    report_save(actor=world.official, project=world.project_a, month=JUL, values=values(), submit=True)
    page = client_for(world.official).get(f"/ministries/{world.ministry_a.code}/?month=2026-07").content.decode()
    assert 'data-project="PA-001"' in page and 'data-project="PB-001"' not in page
    assert "Submitted" in page


def test_the_project_page_draws_the_chart_and_table(world, plans, clock, client_for):
    report_save(actor=world.official, project=world.project_a, month=JUL, values=values(), submit=True)
    page = client_for(world.official).get(f"/projects/{world.project_a.code}/").content.decode()
    assert 'data-testid="usage-chart"' in page and "<polyline" in page and 'class="bar-used"' in page
    assert 'data-testid="usage-table"' in page and "2026-07" in page


def test_board_api(world, plans, clock, api_for):
    on(clock, dt.date(2026, 8, 4))
    report_save(actor=world.official, project=world.project_a, month=JUL, values=values(), submit=True)
    body = api_for(world.auditor).get("/api/v1/board/?month=2026-07").json()
    row = next(r for r in body["projects"] if r["project"] == "PA-001")
    assert row["status"] == "submitted" and row["month"]["used_gpu_hours"] == "9000.0"
    assert row["month"]["plan_ratio"] == "0.9000"
    assert api_for(world.official).get("/api/v1/board/").status_code == 403
    assert api_for(world.admin).get("/api/v1/board/?month=07-2026").status_code == 400
    usage = api_for(world.official).get(f"/api/v1/projects/{world.project_a.code}/usage/").json()
    assert usage[3]["month"] == "2026-07" and usage[3]["status"] == "submitted"
