"""Uploaded files, read with bounded work: the size limit, then the rows of a CSV or XLSX file
counted while they are read, stopping at the limit rather than after the whole file.

The request itself is bounded before any of this by allocation_portal.middleware (Content-Length).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from .errors import ValidationFailed
from .formatting import format_number

logger = logging.getLogger(__name__)

# A row of the report upload has nine columns; anything past this is ignored unread.
MAX_COLUMNS = 50
# An XLSX is a zip: what it unpacks to is bounded too (a small file can unpack to gigabytes).
XLSX_MAX_UNPACKED_FACTOR = 10
# Blank rows are skipped, but not without limit (a sheet can declare a million of them).
BLANK_ROWS_FACTOR = 10


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def too_large_message(limit: int | None = None) -> str:
    return _("Uploads are limited to %(limit)s.") % {"limit": size_label(limit or settings.PORTAL_UPLOAD_MAX_BYTES)}


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
    """A file field (API) with the portal's size limit, or the setting named by `limit_setting` (a
    provider's month of scheduler accounting is allowed more)."""

    def __init__(self, *args, limit_setting: str = "PORTAL_UPLOAD_MAX_BYTES", **kwargs):
        self.limit_setting = limit_setting
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        upload = super().to_internal_value(data)
        limit = getattr(settings, self.limit_setting)
        if upload.size is not None and upload.size > limit:
            raise serializers.ValidationError(too_large_message(limit), code="too_large")
        return upload


def _too_many_rows(max_rows: int) -> ValidationFailed:
    message = _("At most %(n)s rows per upload.") % {"n": max_rows}
    return ValidationFailed(message, code="too_many_rows",
                            fields={"file": [_("The file has more than %(n)s rows; split it.") % {"n": max_rows}]})


def _unreadable(message: str, detail: str) -> ValidationFailed:
    """`detail` is the portal's own sentence in the reader's language, never a library's exception
    text (which is English and names its internals); that goes to the log."""
    return ValidationFailed(message, fields={"file": [detail]})


def _broken_xlsx(exc: BaseException) -> ValidationFailed:
    logger.info("An uploaded XLSX could not be read: %r", exc)
    return _unreadable(_("The XLSX file could not be read."),
                       _("It is damaged, or not an XLSX workbook: save it again from the spreadsheet as .xlsx."))


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
        reader = csv.reader(text)
        try:
            return _limited(reader, max_rows)
        except UnicodeDecodeError:
            continue
        except csv.Error as exc:  # a field over csv's limit, a broken quote
            logger.info("An uploaded CSV could not be read: %r", exc)
            raise _unreadable(
                _("The CSV file could not be read."),
                _("Line %(line)s: a cell is longer than %(limit)s characters, or a quote is not closed.")
                % {"line": reader.line_num, "limit": format_number(csv.field_size_limit())},
            ) from exc
        finally:
            text.detach()  # the upload's own file stays open
    raise ValidationFailed(_("Save the CSV as UTF-8."), fields={"file": [_("Unknown encoding.")]})


def read_xlsx(upload, *, max_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    upload.seek(0)
    try:
        with zipfile.ZipFile(upload.file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > settings.PORTAL_UPLOAD_MAX_BYTES * XLSX_MAX_UNPACKED_FACTOR:
                raise _unreadable(_("The XLSX file could not be read."),
                                  _("It unpacks to more than %(limit)s.")
                                  % {"limit": size_label(settings.PORTAL_UPLOAD_MAX_BYTES * XLSX_MAX_UNPACKED_FACTOR)})
            # Before openpyxl opens the file (it parses a whole sheet that declares no size just to
            # learn that it has none), count the first sheet's rows that hold a value: a regular
            # expression over the decompressed bytes, stopping past the limit.
            first = _first_sheet_path(archive)
            if first and _rows_with_values_exceed(archive, first, max_rows + 1):
                raise _too_many_rows(max_rows)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise _broken_xlsx(exc) from exc
    upload.seek(0)
    try:
        # read_only streams the sheet: rows are parsed as they are asked for.
        book = load_workbook(upload.file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same clear error
        raise _broken_xlsx(exc) from exc
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
            raise _broken_xlsx(exc) from exc
    finally:
        book.close()


MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The archive path of the workbook's first sheet (what openpyxl reads as worksheets[0]), or
    None when the workbook is laid out some other way (then only the count while reading holds)."""
    # openpyxl's own XML parser (defusedxml where installed); the parts are bounded by the unpacked size.
    from openpyxl.xml.functions import fromstring

    try:
        workbook = fromstring(archive.read("xl/workbook.xml"))
        sheet = workbook.find(f"{MAIN_NS}sheets/{MAIN_NS}sheet")
        relation = sheet.get(f"{RELATIONSHIP_NS}id") if sheet is not None else None
        for rel in fromstring(archive.read("xl/_rels/workbook.xml.rels")):
            if rel.get("Id") == relation:
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                return path if path in archive.namelist() else None
    except Exception:  # noqa: BLE001 - no part, or not XML: leave it to openpyxl and the count
        return None
    return None


ROW_OR_VALUE = re.compile(rb"<row\b[^>]*>|<v[ >]|<is>")


def _rows_with_values_exceed(archive: zipfile.ZipFile, path: str, limit: int) -> bool:
    """Whether the sheet part has more than `limit` rows holding a value, read in chunks and
    stopping as soon as it does."""
    count, in_row, rest = 0, False, b""
    with archive.open(path) as part:
        while True:
            chunk = part.read(1 << 16)
            data = rest + chunk
            end = 0
            for match in ROW_OR_VALUE.finditer(data):
                token = match.group()
                if token.startswith(b"<row"):
                    in_row = not token.endswith(b"/>")
                elif in_row:
                    count += 1
                    in_row = False
                    if count > limit:
                        return True
                end = match.end()
            if not chunk:
                return False
            # Carry a tag cut by the chunk boundary over to the next chunk.
            cut = data.rfind(b"<", end)
            rest = data[cut:] if cut != -1 and len(data) - cut < 1024 else b""


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
