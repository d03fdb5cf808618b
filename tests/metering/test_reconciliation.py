"""Measured use beside the ledger and the report, where people decide: the API and the project page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from allocation_portal.models import Role
from metering import sacct
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


def test_the_board_shows_measured_use_and_flags_a_report_that_differs(ledger, api_for, client_for):
    from decimal import Decimal

    from monitoring.services import report_save
    from tests.monitoring.conftest import values

    receive(ledger)
    project = ledger["started"]
    report_save(actor=None, project=project, month=dt.date(2026, 10, 1), submit=True,
                values=values(gpu_hours_used=Decimal("20000"), peak_gpus_busy=32),
                at=dt.datetime(2026, 11, 3, 9, tzinfo=sacct.KST))
    admin = f.make_user(Role.ADMIN)
    board = api_for(admin).get("/api/v1/board/", {"month": "2026-10"}).json()
    row = next(r for r in board["projects"] if r["project"] == project.code)
    assert row["measured_gpu_hours"] == "5458.0" and row["measured_source"] == "sacct"
    assert row["scheduled_gpu_hours"] == "5458.0" and row["busy_gpu_hours"] is None
    assert "differs_from_measured" in row["flags"]
    page = client_for(admin, "ko").get("/monitoring/board/", {"month": "2026-10"}).content.decode()
    assert "측정 사용량과의 차이" in page and "5,458.0" in page


def test_the_report_form_is_filled_in_from_the_measured_use(ledger, client_for):
    receive(ledger)
    project = ledger["started"]
    official = f.make_user(Role.OFFICIAL, ministry=project.ministry)
    page = client_for(official, "ko").get(f"/projects/{project.code}/reports/new/", {"month": "2026-10"}).content.decode()
    assert 'value="5458.0"' in page and 'data-testid="prefilled"' in page
    september = client_for(official).get(f"/projects/{project.code}/reports/new/", {"month": "2026-09"}).content.decode()
    assert 'data-testid="prefilled"' not in september


def test_a_loans_page_shows_the_borrowers_measured_use(ledger, client_for):
    receive(ledger)
    loan = ledger["loan"]
    member = loan.organisation.members.first()
    page = client_for(member, "en").get(f"/lending/loans/{loan.public_id}/").content.decode()
    assert 'data-testid="loan-measured"' in page and "Scheduled GPU-h (Slurm)" in page
    # the end-of-loan report starts from the measured GPU-hours (half of nb200-009's use: 4 of its 8 GPUs)
    from metering.selectors import measured_for_loan

    scheduled = measured_for_loan(loan).scheduled
    assert scheduled == Decimal("37.7") and f'name="gpu_hours" value="{scheduled}"' in page


def test_the_board_export_carries_measured_use_with_its_source(ledger, client_for):
    import io

    from openpyxl import load_workbook

    receive(ledger)
    response = client_for(f.make_user(Role.ADMIN)).get("/monitoring/board/export.xlsx", {"month": "2026-10"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1] == ledger["started"].code)
    assert row[headers.index("측정 GPU-시간")] == 5458.0 and row[headers.index("측정 출처")] == "Slurm 회계 기록"


def test_the_board_shows_scheduled_and_busy_side_by_side(ledger, client_for):
    from metering.services import telemetry_store_day
    from metering.telemetry import PRIMARY, Series

    receive(ledger)
    day = dt.datetime(2026, 10, 2, tzinfo=sacct.KST)
    ends = [day.timestamp() + 3600 * (h + 1) for h in range(24)]
    series = [Series(host="nb200-001", gpu=g, metric=PRIMARY, ends=ends, values=[0.5] * 24) for g in range(8)]
    telemetry_store_day(actor=None, provider=ledger["provider"], day_start=day, series=series, step_s=3600)
    elsewhere = f.make_project(ledger["started"].ministry, started=True, code="P-ELSE", gpus=8)
    f.award(elsewhere, [f.make_cluster(servers=1).servers.get()])  # a provider that sent nothing
    admin = f.make_user(Role.ADMIN)
    page = client_for(admin, "en").get("/monitoring/board/", {"month": "2026-10"}).content.decode()
    cell = page[page.index('data-project="P-ON"'):]
    cell = cell[cell.index('data-testid="measured-cell"'):cell.index("</td>", cell.index('data-testid="measured-cell"'))]
    assert "5,458.0" in cell and "Slurm accounting" in cell and "96.0" in cell and "GPU telemetry" in cell
    waiting = page[page.index('data-project="P-ELSE"'):]
    waiting = waiting[waiting.index('data-testid="measured-cell"'):waiting.index("</td>", waiting.index('data-testid="measured-cell"'))]
    assert "–" in waiting and "Slurm" not in waiting and "telemetry" not in waiting
