"""Uploaded files, read with bounded work: the size limit, then the rows of a CSV or XLSX file
counted while they are read, stopping at the limit rather than after the whole file.

The request itself is bounded before any of this by allocation_portal.middleware (Content-Length).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from .errors import ValidationFailed

# A row of the report upload has nine columns; anything past this is ignored unread.
MAX_COLUMNS = 50
# An XLSX is a zip: what it unpacks to is bounded too (a small file can unpack to gigabytes).
XLSX_MAX_UNPACKED_FACTOR = 10
# Blank rows are skipped, but not without limit (a sheet can declare a million of them).
BLANK_ROWS_FACTOR = 10


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def too_large_message() -> str:
    return _("Uploads are limited to %(limit)s.") % {"limit": size_label(settings.PORTAL_UPLOAD_MAX_BYTES)}


def check_size(upload) -> None:
    if upload is not None and upload.size is not None and upload.size > settings.PORTAL_UPLOAD_MAX_BYTES:
        raise ValidationFailed(too_large_message(), code="too_large", fields={"file": [too_large_message()]})


class UploadField(forms.FileField):
    """A file field (pages) with the portal's size limit."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and getattr(upload, "size", None) is not None and upload.size > settings.PORTAL_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(too_large_message(), code="too_large")
        return upload


class ApiUploadField(serializers.FileField):
    """A file field (API) with the portal's size limit."""

    def to_internal_value(self, data):
        upload = super().to_internal_value(data)
        if upload.size is not None and upload.size > settings.PORTAL_UPLOAD_MAX_BYTES:
            raise serializers.ValidationError(too_large_message(), code="too_large")
        return upload


def _too_many_rows(max_rows: int) -> ValidationFailed:
    message = _("At most %(n)s rows per upload.") % {"n": max_rows}
    return ValidationFailed(message, code="too_many_rows",
                            fields={"file": [_("The file has more than %(n)s rows; split it.") % {"n": max_rows}]})


def _unreadable(message: str, detail: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [detail[:300]]})


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _limited(rows: Iterable[list], max_rows: int) -> list[list[str]]:
    """The header and at most `max_rows` non-blank rows, as text; refuses the file at the first row
    past the limit, without reading further."""
    kept: list[list[str]] = []
    blanks = 0
    for number, row in enumerate(rows, start=1):
        cells = [_text(value) for value in row[:MAX_COLUMNS]]
        if not any(cells):
            blanks += 1
            if blanks > max_rows * BLANK_ROWS_FACTOR:
                raise _too_many_rows(max_rows)
            continue
        for cell in cells:
            if "\x00" in cell:
                raise _unreadable(_("The file contains a NUL character."),
                                  _("Row %(row)s contains a NUL character.") % {"row": number})
        kept.append(cells)
        if len(kept) > max_rows + 1:  # the header and max_rows data rows
            raise _too_many_rows(max_rows)
    return kept


def read_csv(upload, *, max_rows: int) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp949"):
        upload.seek(0)
        text = io.TextIOWrapper(upload.file, encoding=encoding, newline="")
        try:
            return _limited(csv.reader(text), max_rows)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:  # a field over csv's limit, a broken quote
            raise _unreadable(_("The CSV file could not be read."), str(exc)) from exc
        finally:
            text.detach()  # the upload's own file stays open
    raise ValidationFailed(_("Save the CSV as UTF-8."), fields={"file": [_("Unknown encoding.")]})


def read_xlsx(upload, *, max_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    upload.seek(0)
    try:
        with zipfile.ZipFile(upload.file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(_("The XLSX file could not be read."), str(exc)) from exc
    if unpacked > settings.PORTAL_UPLOAD_MAX_BYTES * XLSX_MAX_UNPACKED_FACTOR:
        raise _unreadable(_("The XLSX file could not be read."),
                          _("It unpacks to more than %(limit)s.")
                          % {"limit": size_label(settings.PORTAL_UPLOAD_MAX_BYTES * XLSX_MAX_UNPACKED_FACTOR)})
    upload.seek(0)
    try:
        # read_only streams the sheet: rows are parsed as they are asked for.
        book = load_workbook(upload.file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same clear error
        raise _unreadable(_("The XLSX file could not be read."), str(exc)) from exc
    try:
        if not book.worksheets:
            raise _unreadable(_("The XLSX file could not be read."), _("It has no sheet."))
        sheet = book.worksheets[0]
        # The sheet's declared size (its <dimension>, read before any row) refuses a big file at
        # once; a file without one, or one that lies, is still stopped by the count while reading.
        declared = sheet.max_row
        if declared and declared > max_rows + 1:
            raise _too_many_rows(max_rows)
        try:
            return _limited(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), max_rows)
        except ValidationFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken sheet part
            raise _unreadable(_("The XLSX file could not be read."), str(exc)) from exc
    finally:
        book.close()


def read_table(upload, filename: str, *, max_rows: int | None = None) -> list[list[str]]:
    """The non-blank rows of a CSV (UTF-8, with or without BOM, or CP949) or XLSX upload as text,
    the header first; at most `max_rows` rows after it (settings.PORTAL_UPLOAD_MAX_ROWS)."""
    check_size(upload)
    max_rows = max_rows or settings.PORTAL_UPLOAD_MAX_ROWS
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return read_xlsx(upload, max_rows=max_rows)
    if name.endswith(".csv"):
        return read_csv(upload, max_rows=max_rows)
    raise ValidationFailed(_("Upload a .csv or .xlsx file."), fields={"file": [_("Unsupported file type.")]})
