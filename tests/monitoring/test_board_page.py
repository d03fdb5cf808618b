"""The status board page: sorted by any column either way, filtered by ministry, report status and
flag, full project titles, and its charts (by ministry, by project, the programme's capacity by
month), each with its numbers as a table."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from allocation_portal import months
from gpus.availability import programme_capacity_series
from monitoring.selectors import capacity_months
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.monitoring.conftest import values

pytestmark = pytest.mark.django_db

JUL = dt.date(2026, 7, 1)
LONG_TITLE = "한국형 AI 기상·기후 파운데이션 모델 개발 및 실증 고도화 사업의 아주 긴 과제명 그대로"


@pytest.fixture
def board_world(world, clock):
    world.project_b.title_ko = LONG_TITLE
    world.project_b.title_en = LONG_TITLE
    world.project_b.save()
    for project, hours, first in ((world.project_a, Decimal(10000), 7), (world.project_b, Decimal(5000), 4)):
        for month in (dt.date(2026, m, 1) for m in range(first, 10)):
            UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=hours)
    # A plans from July: 9,000 of 10,000 (90%); B from April: 1,000 of 20,000 to July (5%, under plan).
    report_save(actor=None, project=world.project_a, month=JUL, values=values(gpu_hours_used=Decimal(9000)), submit=True,
                at=dt.datetime(2026, 8, 3, 9, tzinfo=dt.UTC))
    report_save(actor=None, project=world.project_b, month=JUL, submit=True,
                values=values(gpu_hours_used=Decimal(1000), peak_gpus_busy=8), at=dt.datetime(2026, 8, 3, 9, tzinfo=dt.UTC))
    return world


def codes(page: str) -> list[str]:
    return re.findall(r'<tr data-project="([^"]+)"', page)


@pytest.mark.parametrize("key", ["project", "ministry", "status", "allocated", "planned", "used", "utilisation",
                                 "plan_ratio", "cumulative", "flags"])
def test_it_sorts_by_every_column_both_ways(board_world, client_for, key):
    client = client_for(board_world.admin)
    up = client.get(f"/monitoring/board/?month=2026-07&sort={key}&dir=asc")
    down = client.get(f"/monitoring/board/?month=2026-07&sort={key}&dir=desc")
    assert up.status_code == down.status_code == 200
    assert sorted(codes(up.content.decode())) == ["PA-001", "PA-002", "PB-001"]
    assert f'aria-sort="ascending"><a class="sort" href="?month=2026-07&amp;sort={key}&amp;dir=desc"' in up.content.decode()
    assert 'aria-sort="descending"' in down.content.decode()


def test_a_numeric_sort_orders_by_value_with_the_empty_last(board_world, client_for):
    client = client_for(board_world.admin)
    page = client.get("/monitoring/board/?month=2026-07&sort=used&dir=desc").content.decode()
    assert codes(page) == ["PA-001", "PB-001", "PA-002"]
    page = client.get("/monitoring/board/?month=2026-07&sort=cumulative&dir=asc").content.decode()
    # B at 5% of its plan, A at 90%; PA-002 has no plan: last either way.
    assert codes(page) == ["PB-001", "PA-001", "PA-002"]
    page = client.get("/monitoring/board/?month=2026-07&sort=cumulative&dir=desc").content.decode()
    assert codes(page) == ["PA-001", "PB-001", "PA-002"]


def test_it_filters_by_ministry_status_and_flag(board_world, client_for):
    client = client_for(board_world.admin)
    page = client.get(f"/monitoring/board/?month=2026-07&ministry={board_world.ministry_a.code}").content.decode()
    assert codes(page) == ["PA-001", "PA-002"]
    assert codes(client.get("/monitoring/board/?month=2026-07&flag=under_plan").content.decode()) == ["PB-001"]
    assert codes(client.get("/monitoring/board/?month=2026-07&status=not_started").content.decode()) == ["PA-002"]
    both = client.get(f"/monitoring/board/?month=2026-07&flag=under_plan&ministry={board_world.ministry_a.code}")
    assert codes(both.content.decode()) == []
    # The month links and the exports keep the filters.
    page = client.get("/monitoring/board/?month=2026-07&flag=under_plan").content.decode()
    assert "?month=2026-08&amp;flag=under_plan" in page and "export.xlsx?month=2026-07&amp;flag=under_plan" in page


def test_unknown_sorts_and_filters_are_ignored(board_world, client_for):
    response = client_for(board_world.admin).get("/monitoring/board/?month=2026-07&sort=bogus&dir=up&flag=x&ministry=nope")
    assert response.status_code == 200


def test_it_shows_full_titles(board_world, client_for):
    page = client_for(board_world.admin, lang="ko").get("/monitoring/board/?month=2026-07").content.decode()
    assert LONG_TITLE in page


def test_it_draws_the_comparison_and_capacity_charts_with_their_tables(board_world, client_for):
    page = client_for(board_world.admin).get("/monitoring/board/?month=2026-07").content.decode()
    for chart in ("ministry-chart", "project-chart", "capacity-chart"):
        start = page.index(f'data-testid="{chart}"')
        figure = page[start:page.index("</figure>", start)]
        assert "<svg" in figure and "<desc" in figure and "<table" in figure, chart
    project_chart = page[page.index('data-testid="project-chart"'):]
    # Lowest use of plan first: B (5%) before A (90%).
    assert project_chart.index("PB-001") < project_chart.index("PA-001")
    assert "5.0%" in project_chart and "90.0%" in project_chart


def test_the_capacity_series_counts_the_programme_pool_each_month(world, clock):
    moments = capacity_months(dt.date(2026, 7, 1), first=dt.date(2026, 4, 1), ahead=1)
    assert [months.label(m.date()) for m in moments][0] == "2026-04" and len(moments) == 5
    series = dict(programme_capacity_series(moments))
    july = series[months.start_of(JUL)]
    # World: a cluster of 8 servers (64 GPUs); A (started) holds 2 servers, A2 (not started) 1, B (started) 1.
    assert july.total == 64 and july.held_started == 24 and july.idle == 8 and july.free == 32
    assert july.awarded + july.free + july.reserve + july.suspended == july.total


def test_the_capacity_series_costs_the_same_for_more_months(world, clock, django_assert_num_queries):
    with django_assert_num_queries(3):
        programme_capacity_series(capacity_months(dt.date(2026, 7, 1), first=dt.date(2025, 1, 1)))
    extra = f.make_cluster(servers=2)
    f.award(f.make_project(world.ministry_b, started=True, gpus=16), extra.servers.all())
    with django_assert_num_queries(3):
        programme_capacity_series(capacity_months(dt.date(2026, 7, 1), first=dt.date(2026, 6, 1)))
