"""CSV and XLSX files the portal writes, in one place, so that no cell can be a formula.

A spreadsheet treats a cell that starts with =, +, - or @ (and, in some, a tab or a carriage
return before one) as a formula: a project title "=HYPERLINK(...)" typed by anyone who can name a
project would run in the MSIT admin's Excel. Text cells that start so are written as text: in CSV
with a leading apostrophe (the convention spreadsheets read as "this is text"), in XLSX as a
string cell marked quote-prefixed. Numbers stay numbers."""

from __future__ import annotations

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    return "'" + value if is_formula_like(value) else value


def csv_bytes(headers: list, rows) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Korean text correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(value) for value in headers])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(headers: list, rows, *, sheet_title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for number, row in enumerate([headers, *rows], start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            cell.value = value
            if is_formula_like(value):
                # openpyxl takes a string starting with "=" for a formula: make it a string again,
                # and tell Excel to keep it text when someone edits the cell.
                cell.data_type = "s"
                cell.quotePrefix = True
            if number == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
