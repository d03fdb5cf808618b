"""The month's status for all projects as CSV and XLSX with Korean headers."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from monitoring.services import report_save
from tests.monitoring.conftest import KST, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def july_report(world, clock):
    clock.move_to(dt.datetime(2026, 8, 3, 10, tzinfo=KST))
    report_save(actor=world.official, project=world.project_a, month=dt.date(2026, 7, 1),
                values=values(gpu_hours_used=Decimal(9000)), submit=True)
    clock.move_to(dt.datetime(2026, 9, 10, 10, tzinfo=KST))


def test_csv_export(world, july_report, client_for):
    response = client_for(world.admin).get("/monitoring/board/export.csv?month=2026-07")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["대상 월", "과제 코드", "과제명", "부처"]
    by_code = {r[1]: r for r in rows[1:]}
    assert set(by_code) == {"PA-001", "PA-002", "PB-001"}
    assert by_code["PA-001"][6] == "제출" and by_code["PA-001"][10] == "9000.0"
    assert by_code["PB-001"][6] == "미제출(기한 경과)"


def test_xlsx_export(world, july_report, client_for):
    response = client_for(world.auditor).get("/monitoring/board/export.xlsx?month=2026-07&status=missing")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "대상 월" and rows[0][-1] == "점검 표시"
    assert [r[1] for r in rows[1:]] == ["PB-001"]
    assert "미제출" in rows[1][-1]


def test_unknown_formats_are_not_found(world, client_for):
    assert client_for(world.admin).get("/monitoring/board/export.pdf").status_code == 404
