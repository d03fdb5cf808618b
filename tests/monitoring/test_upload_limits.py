"""Uploads are bounded: a size limit on every path, refused before the body is read; a row limit
counted while the file is read; and no cell (a field over csv's limit, NaN, a NUL) is a 500."""

from __future__ import annotations

import io
import itertools
import time
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook

from allocation_portal import uploads
from allocation_portal.errors import ValidationFailed
from monitoring.models import UsageReport

pytestmark = pytest.mark.django_db

HEADER = "과제 코드,대상 월,사용 GPU-시간,최대 동시 사용 GPU,목적 내 사용,인공지능 기본법,개인정보,학습데이터 저작권,비고\n"
ROW = "PA-001,2026-08,9000,16,Y,Y,NA,Y,\n"


def csv_file(*rows, name="reports.csv"):
    return SimpleUploadedFile(name, (HEADER + "".join(rows)).encode("utf-8"))


def multipart(size: int, name="big.csv") -> tuple[bytes, str]:
    """A ready-encoded multipart body with one file of `size` bytes (so that the timing below
    measures the portal, not the test client encoding 20 MB)."""
    boundary = "portal-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode()
    body = head + HEADER.encode() + b"x" * (size - len(HEADER)) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("url", ["/api/v1/reports/upload/", "/reports/upload/", "/projects/PA-001/reports/new/"])
def test_a_20_mb_upload_is_refused_in_well_under_a_second(world, served, clock, url):
    body, content_type = multipart(20 * 1024 * 1024)
    client = served.api(world.official) if url.startswith("/api/") else served.page(world.official)
    client.get("/ping")  # the first request of a process loads the URLconf and middleware
    started = time.perf_counter()
    response = client.generic("POST", url, body, content_type=content_type)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert b"10 MB" in response.content
    assert elapsed < 1.0, f"refused in {elapsed:.3f} s"
    if url.startswith("/api/"):
        assert response.json()["error"]["code"] == "too_large"
    assert not UsageReport.objects.exists()


@override_settings(PORTAL_UPLOAD_MAX_BYTES=2048, PORTAL_REQUEST_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_limit_inside_a_small_request_is_a_field_error(world, served, clock):
    big = csv_file(*[ROW] * 100)
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": big}, format="multipart")
    assert response.status_code == 400
    assert "0.00195312 MB" in str(response.json()["error"]["fields"]["file"])
    page = served.page(world.official).post("/reports/upload/", {"file": csv_file(*[ROW] * 100)})
    assert page.status_code == 400 and "Uploads are limited to" in page.content.decode()


@override_settings(PORTAL_UPLOAD_MAX_ROWS=10)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_over_the_row_limit_is_refused_with_the_limit(world, served, clock, kind):
    if kind == "csv":
        upload = csv_file(*[ROW] * 11)
    else:
        book = Workbook()
        book.active.append(HEADER.strip().split(","))
        for _ in range(11):
            book.active.append(ROW.strip().split(","))
        buffer = io.BytesIO()
        book.save(buffer)
        upload = SimpleUploadedFile("reports.xlsx", buffer.getvalue())
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_rows" and "At most 10 rows" in error["message"]
    assert not UsageReport.objects.exists()


def test_the_csv_row_count_stops_reading_at_the_limit():
    """A 7 MB CSV of 250,000 rows: refused after reading a few kilobytes of it."""
    content = (HEADER + ROW * 250_000).encode()
    upload = SimpleUploadedFile("big.csv", content)
    with pytest.raises(ValidationFailed) as refused:
        uploads.read_csv(upload, max_rows=100)
    assert refused.value.code == "too_many_rows"
    assert upload.file.tell() < len(content) / 100


def test_the_row_count_stops_an_endless_sheet():
    endless = itertools.repeat(["PA-001", "2026-08", 1, 1, "Y", "Y", "NA", "Y", ""])
    with pytest.raises(ValidationFailed):
        uploads._limited(endless, 100)
    blanks = itertools.repeat([None, None])
    with pytest.raises(ValidationFailed):
        uploads._limited(blanks, 100)


def test_an_xlsx_that_declares_too_many_rows_is_refused_before_its_rows_are_read(settings):
    book = Workbook()
    book.active.append(["a"])
    book.active.cell(row=600_000, column=1, value="last")
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("big.xlsx", buffer.getvalue())
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as refused:
        uploads.read_xlsx(upload, max_rows=settings.PORTAL_UPLOAD_MAX_ROWS)
    assert refused.value.code == "too_many_rows"
    assert time.perf_counter() - started < 1.0


def minimal_xlsx(rows: int, *, dimension: bool = False) -> bytes:
    """An XLSX written the way streaming writers do (no <dimension>): rows of inline strings."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    row = '<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>PA-001</t></is></c><c r="B{n}"><v>1</v></c></row>'
    sheet = (f'<?xml version="1.0"?><worksheet {ns}>' + (f'<dimension ref="A1:B{rows}"/>' if dimension else "")
             + "<sheetData>" + "".join(row.format(n=n) for n in range(1, rows + 1)) + "</sheetData></worksheet>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"))
        archive.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} {rel_ns}><sheets>'
                                            '<sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"))
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def test_a_600k_row_xlsx_without_a_declared_size_is_refused_in_well_under_a_second(settings):
    content = minimal_xlsx(600_000)
    assert len(content) < settings.PORTAL_UPLOAD_MAX_BYTES  # small enough to get past the size limit
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as refused:
        uploads.read_xlsx(SimpleUploadedFile("big.xlsx", content), max_rows=settings.PORTAL_UPLOAD_MAX_ROWS)
    assert refused.value.code == "too_many_rows"
    assert time.perf_counter() - started < 1.0


def test_a_small_streamed_xlsx_still_reads():
    rows = uploads.read_xlsx(SimpleUploadedFile("small.xlsx", minimal_xlsx(3)), max_rows=10)
    assert [row[:2] for row in rows] == [["PA-001", "1"]] * 3 and not any(any(row[2:]) for row in rows)


@override_settings(PORTAL_UPLOAD_MAX_BYTES=100_000)
def test_an_xlsx_that_unpacks_to_much_more_than_the_limit_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 5_000_000)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(ValidationFailed) as refused:
        uploads.read_xlsx(SimpleUploadedFile("bomb.xlsx", buffer.getvalue()), max_rows=10)
    assert "unpacks to more than" in str(refused.value.fields)


def test_a_csv_field_over_the_csv_modules_limit_is_a_clear_error(world, served, clock):
    upload = csv_file("PA-001,2026-08,1,1,Y,Y,NA,Y," + "x" * 200_000 + "\n")
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    # Said in the portal's words, with the line, not as the csv module's exception.
    assert response.json()["error"]["fields"]["file"] == [
        "Line 2: a cell is longer than 131,072 characters, or a quote is not closed."]


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999999999"])
def test_non_finite_gpu_hours_and_peaks_in_an_upload_are_row_errors(world, served, clock, value):
    for row, field in ((f"PA-001,2026-08,{value},1,Y,Y,NA,Y,\n", "gpu_hours_used"),
                       (f"PA-001,2026-08,1,{value},Y,Y,NA,Y,\n", "peak_gpus_busy")):
        response = served.api(world.official).post("/api/v1/reports/upload/", {"file": csv_file(row)}, format="multipart")
        assert response.status_code == 400, response.content
        assert f"row 2.{field}" in response.json()["error"]["fields"]
    assert not UsageReport.objects.exists()


def test_a_fractional_peak_in_an_upload_is_a_row_error(world, served, clock):
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": csv_file("PA-001,2026-08,1,1.5,Y,Y,NA,Y,\n")},
                                               format="multipart")
    assert response.status_code == 400 and "row 2.peak_gpus_busy" in response.json()["error"]["fields"]


def test_minus_zero_gpu_hours_are_zero(world, served, clock):
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": csv_file("PA-001,2026-08,-0,0,Y,Y,NA,Y,\n")},
                                               format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()[0]["gpu_hours_used"] == "0.0"
    assert str(UsageReport.objects.get().gpu_hours_used) == "0.0"


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-0"])
def test_the_form_and_the_api_read_gpu_hours_the_same_way(world, served, clock, value):
    body = {"project": "PA-001", "month": "2026-07", "gpu_hours_used": value, "peak_gpus_busy": 1, "within_purpose": True,
            "ai_basic_act": "yes", "personal_information": "na", "training_data_copyright": "yes"}
    response = served.api(world.official).post("/api/v1/reports/", body, format="json")
    if value == "-0":
        assert response.status_code == 201 and response.json()["gpu_hours_used"] == "0.0"
    else:
        assert response.status_code == 400 and "gpu_hours_used" in response.json()["error"]["fields"]


def test_a_nul_in_an_uploaded_cell_is_refused(world, served, clock):
    for row in ("PA-001,2026-08,1,1,Y,Y,NA,Y,a\x00b\n", "PA-0\x0001,2026-08,1,1,Y,Y,NA,Y,\n"):
        response = served.api(world.official).post("/api/v1/reports/upload/", {"file": csv_file(row)}, format="multipart")
        assert response.status_code == 400
        assert "NUL" in response.json()["error"]["message"]
    assert not UsageReport.objects.exists()


@pytest.mark.parametrize("month", ["0000-08", "9999-12", "1999-12"])
def test_an_out_of_range_month_in_an_upload_row_is_a_row_error(world, served, clock, month):
    response = served.api(world.official).post("/api/v1/reports/upload/",
                                               {"file": csv_file(f"PA-001,{month},1,1,Y,Y,NA,Y,\n")}, format="multipart")
    assert response.status_code == 400
    assert "2000-01" in response.json()["error"]["fields"]["row 2.month"][0]


def test_a_cp949_csv_still_reads(world, served, clock):
    upload = SimpleUploadedFile("r.csv", (HEADER + "PA-001,2026-08,9000,16,예,예,해당없음,예,메모\n").encode("cp949"))
    response = served.api(world.official).post("/api/v1/reports/upload/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert UsageReport.objects.get().notes == "메모"
    assert UsageReport.objects.get().gpu_hours_used == Decimal("9000")
