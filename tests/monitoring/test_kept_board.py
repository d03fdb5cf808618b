"""The kept board (issue 14 §4): after each kind of change, the board page, its API, the programme
overview and the outcomes dashboard show what they show computed afresh (with no cache at all), and
a new day or ten minutes of a month under way are enough for them to be computed again."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import override_settings

from gpus.models import Allocation, HolderKind
from gpus.services import allocation_release
from metering.models import MeasuredUsage, UsageBatch
from monitoring.services import report_accept, report_return, report_save
from projects.services import project_award_servers, usage_plan_update
from tests import factories as f
from tests.monitoring.conftest import AUG, values

pytestmark = pytest.mark.django_db

KST = dt.timezone(dt.timedelta(hours=9))
PAGES = ["/monitoring/board/?month=2026-08", "/monitoring/board/?month=2026-08&sort=used&dir=desc",
         "/monitoring/board/?month=2026-09", "/programme/", "/programme/?date=2026-08-15", "/programme/outcomes/"]
NO_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
            "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kept-board-throttle"}}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def shown(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return TOKEN.sub("", response.content.decode())


def assert_as_fresh(client, api):
    kept = {url: shown(client, url) for url in PAGES}
    kept_api = api.get("/api/v1/board/?month=2026-08").json()
    with override_settings(CACHES=NO_CACHE):
        for url in PAGES:
            assert kept[url] == shown(client, url), url
        assert kept_api == api.get("/api/v1/board/?month=2026-08").json()


@pytest.fixture
def board(world, clock, client_for, api_for):
    clock.move_to(dt.datetime(2026, 9, 3, 10, tzinfo=KST))
    client, api = client_for(world.admin, "en"), api_for(world.admin)
    for url in PAGES:  # kept before the change
        shown(client, url)
    api.get("/api/v1/board/?month=2026-08")
    return client, api


def test_a_report_submitted_returned_and_accepted(world, board):
    client, api = board
    report = report_save(actor=world.official, project=world.project_a, month=AUG, values=values(), submit=True)
    assert_as_fresh(client, api)
    assert "tag-submitted" in shown(client, PAGES[0])
    report = report_return(actor=world.admin, report=report, reason="numbers")
    assert_as_fresh(client, api)
    assert api.get("/api/v1/board/?month=2026-08").json()["counts"]["returned"] == 1
    report = report_save(actor=world.official, project=world.project_a, month=AUG, values=values(), submit=True)
    report_accept(actor=world.admin, report=report)
    assert_as_fresh(client, api)
    assert "tag-accepted" in shown(client, PAGES[0])


def test_a_plan_change(world, board):
    client, api = board
    usage_plan_update(actor=world.admin, project=world.project_a, hours_by_month={AUG: Decimal(1234)}, reason="fix")
    assert_as_fresh(client, api)
    rows = {r["project"]: r for r in api.get("/api/v1/board/?month=2026-08").json()["projects"]}
    assert rows["PA-001"]["month"]["planned_gpu_hours"] == "1234.0"


def test_an_award_a_release_and_a_loan(world, board):
    client, api = board
    cluster = f.make_cluster(servers=2)
    project = f.make_project(world.ministry_b, started=True, gpus=8)
    assert_as_fresh(client, api)
    project_award_servers(actor=world.admin, project=project, cluster=cluster, server_count=1,
                          starts_at=dt.datetime(2026, 8, 1, tzinfo=KST), ends_at=dt.datetime(2027, 1, 1, tzinfo=KST),
                          reason="more")
    assert_as_fresh(client, api)
    allocation = Allocation.objects.filter(project=world.project_a, holder_kind=HolderKind.PROJECT).first()
    allocation_release(actor=world.admin, allocation=allocation, reason="done")
    assert_as_fresh(client, api)
    f.make_loan(gpus=f.server_gpus(cluster.servers.last()), start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1))
    assert_as_fresh(client, api)


def test_measured_usage_received(world, board):
    client, api = board
    server = world.cluster.servers.order_by("hostname").first()
    batch = UsageBatch.objects.create(provider=world.cluster.provider, source="sacct", digest="d",
                                      period_start=dt.datetime(2026, 8, 1, tzinfo=KST),
                                      period_end=dt.datetime(2026, 9, 1, tzinfo=KST))
    MeasuredUsage.objects.create(batch=batch, source="sacct", server=server, day=dt.date(2026, 8, 3),
                                 holder_kind="project", project=world.project_a, gpu_seconds=3600 * 100)
    assert_as_fresh(client, api)
    rows = {r["project"]: r for r in api.get("/api/v1/board/?month=2026-08").json()["projects"]}
    assert rows["PA-001"]["scheduled_gpu_hours"] is not None


def test_a_new_day_past_the_due_date(world, board, clock, client_for):
    clock.move_to(dt.datetime(2026, 9, 5, 23, 30, tzinfo=KST))  # August's reports are due today, the 5th
    client, api = client_for(world.admin, "en"), board[1]
    assert "tag-missing" not in shown(client, PAGES[0])
    assert "missing" not in api.get("/api/v1/board/?month=2026-08").json()["counts"]
    clock.move_to(dt.datetime(2026, 9, 6, 0, 30, tzinfo=KST))  # an hour later, past the due date
    assert "tag-missing" in shown(client, PAGES[0])
    assert api.get("/api/v1/board/?month=2026-08").json()["counts"]["missing"] >= 1
    assert_as_fresh(client, api)


def test_the_month_under_way_is_kept_for_minutes_and_says_when(world, board, clock):
    client, api = board
    first = shown(client, PAGES[2])
    assert 'data-testid="board-as-of"' in first and "2026-09-03 10:00" in first
    assert api.get("/api/v1/board/?month=2026-09").json()["as_of"].startswith("2026-09-03T01:00")
    clock.move_to(dt.datetime(2026, 9, 3, 10, 5, tzinfo=KST))
    assert shown(client, PAGES[2]) == first  # kept: no write since
    clock.move_to(dt.datetime(2026, 9, 3, 10, 11, tzinfo=KST))
    later = shown(client, PAGES[2])
    assert "2026-09-03 10:11" in later and "2026-09-03 10:00" not in later
    # an ended month is what it was: no as of
    assert 'data-testid="board-as-of"' not in shown(client, PAGES[0])
    assert api.get("/api/v1/board/?month=2026-08").json()["as_of"] is None
