"""CSV and XLSX files the portal writes, in one place, so that no cell can be a formula.

A spreadsheet treats a cell that starts with =, +, - or @ (and, in some, a tab or a carriage
return before one) as a formula: a project title "=HYPERLINK(...)" typed by anyone who can name a
project would run in the MSIT admin's Excel. Text cells that start so are written as text: in CSV
with a leading apostrophe (the convention spreadsheets read as "this is text"), in XLSX as a
string cell marked quote-prefixed. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass

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


# Number formats of the XLSX columns: numbers stay numbers, written one way (as on the pages).
INTEGER = "#,##0"
GPU_HOURS = "#,##0.0"
PERCENT = "0.0%"
DATETIME = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60  # characters; longer text wraps


def _display_width(value) -> int:
    """Roughly how many character cells Excel needs: Hangul and other wide characters take two."""
    if value is None:
        return 0
    if isinstance(value, float | int):
        return len(f"{value:,.1f}")
    if hasattr(value, "strftime"):
        return 16
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(value))


def _write(cell, value) -> None:
    cell.value = value
    if is_formula_like(value):
        # openpyxl takes a string starting with "=" for a formula: make it a string again,
        # and tell Excel to keep it text when someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True


@dataclass
class Sheet:
    """One sheet of a workbook: a header row, the data rows, one Excel number format (or None) per
    column, and an optional totals row."""

    title: str
    headers: list
    rows: list
    formats: list[str | None] | None = None
    totals: list | None = None


def xlsx_bytes(headers: list, rows, *, sheet_title: str, formats: list[str | None] | None = None,
               totals: list | None = None, more: list[Sheet] | None = None) -> bytes:
    """A workbook of one sheet (and the sheets in `more` after it)."""
    return xlsx_book([Sheet(sheet_title, headers, list(rows), formats, totals), *(more or [])])


def xlsx_book(sheets: list[Sheet]) -> bytes:
    """Each sheet: a bold header row that stays in view, an autofilter over the data, columns wide
    enough for their content, the formats on the data and the totals row under it (outside the
    filter, so sorting leaves it last)."""
    from openpyxl import Workbook

    book = Workbook()
    for index, sheet in enumerate(sheets):
        _write_sheet(book.active if index == 0 else book.create_sheet(), sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_sheet(sheet, spec: Sheet) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    headers, rows, totals = spec.headers, spec.rows, spec.totals
    sheet.title = spec.title
    formats = spec.formats or [None] * len(headers)
    widths = [_display_width(h) for h in headers]
    header_fill = PatternFill("solid", fgColor="DFE7F1")
    wrap = Alignment(wrap_text=True, vertical="top")
    for column, value in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column)
        _write(cell, value)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            _write(cell, value)
            if formats[column - 1] and not isinstance(value, str):
                cell.number_format = formats[column - 1]
            width = _display_width(value)
            if width > MAX_WIDTH - 3:
                cell.alignment = wrap  # a long title wraps in its cell rather than run under the next
            widths[column - 1] = max(widths[column - 1], width)
    last_data_row = len(rows) + 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last_data_row}"
    if totals is not None:
        rule = Side(style="thin")
        for column, value in enumerate(totals, start=1):
            cell = sheet.cell(row=last_data_row + 1, column=column)
            _write(cell, value)
            cell.font = Font(bold=True)
            cell.border = Border(top=rule)
            if formats[column - 1] and not isinstance(value, str):
                cell.number_format = formats[column - 1]
            widths[column - 1] = max(widths[column - 1], _display_width(value))
    for column, width in enumerate(widths, start=1):
        # Room for the filter button; long titles wrap in the cell rather than widen the sheet.
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 3, 8), MAX_WIDTH)
    sheet.freeze_panes = "A2"
