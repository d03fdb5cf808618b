"""Measured use beside the ledger and the report, where people decide: the API and the project page."""

from __future__ import annotations

import pytest

from allocation_portal.models import Role
from tests import factories as f

from .test_sacct import receive

pytestmark = pytest.mark.django_db


def test_allocated_scheduled_and_reported_side_by_side(ledger, api_for, client_for):
    receive(ledger)
    project = ledger["started"]
    admin = f.make_user(Role.ADMIN)
    october = api_for(admin).get(f"/api/v1/projects/{project.code}/metered-usage/", {"month": "2026-10"})
    assert october.status_code == 200, october.content
    (row,) = october.json()
    assert row["month"] == "2026-10" and row["allocated_gpu_hours"] == str(32 * 744) + ".0"
    assert row["scheduled_gpu_hours"] == "5458.0" and row["scheduled_complete"] is True
    assert row["measured_gpu_hours"] == "5458.0" and row["measured_source"] == "sacct"
    assert row["busy_gpu_hours"] is None and row["reported_gpu_hours"] is None
    every = api_for(admin).get(f"/api/v1/projects/{project.code}/metered-usage/").json()
    september = next(r for r in every if r["month"] == "2026-09")
    assert september["scheduled_gpu_hours"] is None and september["measured_source"] == ""
    # scoped as the project is: another ministry's official does not find it; applicants may not ask
    outsider = f.make_user(Role.OFFICIAL, ministry=f.make_ministry())
    assert api_for(outsider).get(f"/api/v1/projects/{project.code}/metered-usage/").status_code == 404
    applicant = f.make_user(Role.APPLICANT, organisation=f.make_organisation())
    assert api_for(applicant).get(f"/api/v1/projects/{project.code}/metered-usage/").status_code == 403
    bad = api_for(admin).get(f"/api/v1/projects/{project.code}/metered-usage/", {"month": "0000-01"})
    assert bad.status_code == 400
    page = client_for(admin, "ko").get(f"/projects/{project.code}/").content.decode()
    assert 'data-testid="measured-table"' in page and "5,458" in page and "Slurm 회계" in page


def test_a_month_that_no_provider_sent_is_incomplete_not_zero(ledger, api_for):
    project = f.make_project(f.make_ministry(), started=True, gpus=8)
    admin = f.make_user(Role.ADMIN)
    rows = api_for(admin).get(f"/api/v1/projects/{project.code}/metered-usage/").json()
    assert rows and all(r["measured_gpu_hours"] is None and r["measured_source"] == "" for r in rows)
