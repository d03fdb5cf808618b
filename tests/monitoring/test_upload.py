"""Bulk upload of monthly reports (CSV and XLSX): all-or-nothing, with a per-row error list."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from monitoring.models import UsageReport
from tests import factories as f

pytestmark = pytest.mark.django_db

HEADER = "과제 코드,대상 월,사용 GPU-시간,최대 동시 사용 GPU,목적 내 사용,인공지능 기본법,개인정보,학습데이터 저작권,비고\n"


@pytest.fixture
def second_project(world):
    p = f.make_project(world.ministry_a, started=True, code="PA-003", gpus=8)
    f.award(p, [f.make_cluster(servers=1).servers.get()])
    return p


def csv_file(*rows, header=HEADER):
    return SimpleUploadedFile("reports.csv", ("\ufeff" + header + "".join(r + "\n" for r in rows)).encode("utf-8"))


def test_a_clean_csv_saves_every_row(world, second_project, api_for, clock):
    response = api_for(world.official).post(
        "/api/v1/reports/upload/",
        {"file": csv_file("PA-001,2026-07,9000,16,Y,Y,NA,Y,", "PA-003,2026-08,4000,8,예,예,해당없음,예,메모")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert UsageReport.objects.filter(state="submitted").count() == 2
    assert UsageReport.objects.get(project=second_project).notes == "메모"


def test_one_bad_row_refuses_the_whole_file_and_lists_each_rows_errors(world, second_project, api_for, clock):
    response = api_for(world.official).post(
        "/api/v1/reports/upload/",
        {"file": csv_file(
            "PA-001,2026-07,9000,16,Y,Y,NA,Y,",          # row 2: fine
            "PA-003,2026-08,99999,8,Y,Y,NA,Y,",          # row 3: more hours than held
            "PB-001,2026-08,10,1,Y,Y,NA,Y,",             # row 4: another ministry's project
            "PA-001,2026-13,1,1,maybe,Y,NA,Y,",          # row 5: bad month and declaration
            "PA-001,2026-07,1,1,Y,Y,NA,Y,",              # row 6: duplicate of row 2
        )},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "upload_rejected" and "Nothing was saved" in error["message"]
    fields = error["fields"]
    assert set(fields) == {
        "row 3.gpu_hours_used", "row 4.project", "row 5.month", "row 5.within_purpose", "row 6.month",
    }
    assert "row 2" in fields["row 6.month"][0]
    assert not UsageReport.objects.exists()


def test_xlsx_uploads_through_the_page(world, second_project, client_for, clock):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["PA-001", "2026-08", 9000, 16, "Y", "Y", "NA", "Y", None])
    sheet.append(["PA-003", "2026-08", 1000.5, 8, "N", "Y", "NA", "Y", "외부 과제 학습에 일부 사용"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("reports.xlsx", buffer.getvalue())
    response = client_for(world.official).post("/reports/upload/", {"file": upload, "submit": "on"})
    assert response.status_code == 200, response.content.decode()[-2000:]
    off = UsageReport.objects.get(project=second_project)
    assert off.within_purpose is False and off.gpu_hours_used == Decimal("1000.5")


def test_the_page_shows_the_row_errors(world, client_for, clock):
    response = client_for(world.official).post("/reports/upload/", {"file": csv_file("PA-001,2026-08,abc,16,Y,Y,NA,Y,")})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="upload-errors"' in page and "Not a number" in page


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("r.txt", b"x"), "Upload a .csv or .xlsx file"),
        (csv_file(header="project,month\n"), "Columns missing"),
        (SimpleUploadedFile("r.csv", b""), "empty"),
        (SimpleUploadedFile("r.xlsx", b"not a workbook"), "could not be read"),
    ],
)
def test_unreadable_files_get_a_clear_error(world, api_for, clock, upload, message):
    response = api_for(world.official).post("/api/v1/reports/upload/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"] + str(response.json()["error"]["fields"])


def test_the_template_round_trips(world, client_for, clock):
    response = client_for(world.official).get("/reports/upload/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "과제 코드" and rows[1][0] == "PA-001" and rows[1][1] == "2026-08"
    assert all(r[0] != "PB-001" for r in rows)  # only the official's own projects
    assert client_for(world.official).get("/reports/upload/template.pdf").status_code == 404


def test_auditors_and_applicants_cannot_upload(world, api_for, clock):
    for user in (world.auditor, world.applicant):
        response = api_for(user).post("/api/v1/reports/upload/", {"file": csv_file()}, format="multipart")
        assert response.status_code == 403
