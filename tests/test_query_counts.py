"""Every list page and list endpoint runs a fixed number of queries, however many rows it lists.

Each list is fetched with a few rows and with more rows; the count is pinned and the same for both.
(The other lists are pinned beside their features: projects, ministries, the board, capacity,
the lending queue, loans and requests, reports of the API.)"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation_portal.models import Notification
from lending import services as lending
from monitoring import reclamation, redistribution
from monitoring.services import report_save
from tests import factories as f
from tests.lending.conftest import request_values
from tests.monitoring.conftest import values

pytestmark = pytest.mark.django_db

# url -> (API?, queries). Pages: session, user, their own queries, the notification badge.
LISTS = {
    "/api/v1/cases/": (True, 3),
    "/api/v1/checks/": (True, 3),
    "/api/v1/redistribution/proposals/": (True, 3),
    "/api/v1/notifications/": (True, 3),
    "/reports/": (False, 5),
    "/monitoring/cases/": (False, 6),
    "/notifications/": (False, 5),
    "/lending/loans/": (False, 5),
    "/monitoring/redistribution/": (False, 12),
}


def grow(world, n: int, start: int = 0):
    """n more of everything the lists show: reports, cases and check runs, notices, loans, proposals."""
    for i in range(start, start + n):
        project = f.make_project(world.ministry_a, started=True, gpus=8)
        f.award(project, [f.make_cluster(servers=1).servers.get()])
        report_save(actor=None, project=project, month=dt.date(2026, 8, 1), submit=True,
                    values=values(peak_gpus_busy=8, gpu_hours_used=Decimal(10)))
        reclamation.off_purpose_open(actor=world.admin, project=project, month=dt.date(2026, 8, 1), note=f"case {i}")
        Notification.objects.create(user=world.admin, kind="general", title=f"t{i}", body="b", dedup_key=f"grow{i}")
        org = f.make_organisation()
        f.make_loan(org, gpus=f.server_gpus(f.make_cluster(servers=1).servers.get())[:2])
        lending.request_submit(actor=f.make_user("applicant", organisation=org), values=request_values(gpu_count=1))
        reclamation.monthly_check_run(month=dt.date(2026, 4 + i % 4, 1))
    redistribution.redistribution_propose(actor=world.admin)


def counts(world, client_for, api_for) -> dict[str, int]:
    found = {}
    for url, (is_api, _pinned) in LISTS.items():
        client = api_for(world.admin) if is_api else client_for(world.admin)
        client.get(url)  # warm the session and the token
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        found[url] = len(queries)
    return found


def test_lists_run_constant_queries(world, client_for, api_for, clock):
    grow(world, 1)
    few = counts(world, client_for, api_for)
    grow(world, 6, start=1)
    more = counts(world, client_for, api_for)
    pinned = {url: queries for url, (_api, queries) in LISTS.items()}
    assert few == pinned and more == pinned
