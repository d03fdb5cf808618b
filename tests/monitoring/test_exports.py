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
    assert [r[1] for r in rows[1:-1]] == ["PB-001"] and rows[-1][0] == "합계"
    assert "미제출" in rows[1][-1]


def test_unknown_formats_are_not_found(world, client_for):
    assert client_for(world.admin).get("/monitoring/board/export.pdf").status_code == 404


def test_xlsx_export_writes_numbers_with_formats_totals_filter_widths_and_a_frozen_header(world, july_report, client_for):
    response = client_for(world.admin).get("/monitoring/board/export.xlsx?month=2026-07")
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    col = {h: i for i, h in enumerate(headers)}
    rows = list(sheet.iter_rows(min_row=2))
    data, totals = rows[:-1], rows[-1]
    pa = next(r for r in data if r[col["과제 코드"]].value == "PA-001")
    used = pa[col["사용 GPU-시간"]]
    assert used.value == 9000 and isinstance(used.value, float | int) and used.number_format == "#,##0.0"
    assert pa[col["배분 GPU"]].value == 24 and pa[col["배분 GPU"]].number_format == "#,##0"
    share = pa[col["이용률(사용/배분)"]]
    allocated = pa[col["배분 GPU-시간"]].value
    assert share.value == pytest.approx(round(9000 / allocated, 4)) and share.number_format == "0.0%"
    submitted = pa[col["제출 일시"]]
    assert submitted.value == dt.datetime(2026, 8, 3, 10, 0) and submitted.number_format == "yyyy-mm-dd hh:mm"
    # The totals row: sums of the rows above and the share of those sums, outside the filter.
    assert totals[0].value == "합계"
    assert totals[col["사용 GPU-시간"]].value == sum(r[col["사용 GPU-시간"]].value for r in data)
    assert totals[col["배분 GPU"]].value == 24 + 8 + 8
    assert sheet.auto_filter.ref == f"A1:T{len(data) + 1}"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 14 and sheet.column_dimensions["A"].width >= 8
    assert all(c.font.bold for c in sheet[1])


def test_xlsx_long_titles_wrap_in_a_capped_column():
    from allocation_portal.spreadsheets import xlsx_bytes

    title = "한국형 AI 기상·기후 파운데이션 모델 개발 및 실증 고도화를 위한 아주 긴 과제명 " * 2
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["과제명", "n"], [[title, 1.5], ["짧은 이름", 2.0]], sheet_title="t"))).active
    assert sheet.column_dimensions["A"].width == 60
    assert sheet["A2"].alignment.wrap_text and not sheet["A3"].alignment.wrap_text
