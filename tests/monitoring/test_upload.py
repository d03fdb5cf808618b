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
    assert rows[0][0] == "과제 코드" and rows[1][0] == "PA-001" and rows[1][1] == "2026-04"
    assert all(r[0] != "PB-001" for r in rows)  # only the official's own projects
    assert client_for(world.official).get("/reports/upload/template.pdf").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_lists_only_the_months_still_to_report_and_leaves_the_declarations_empty(world, client_for, clock,
                                                                                              fmt):
    import csv
    import datetime as dt

    from monitoring.services import report_accept, report_return, report_save
    from tests.monitoring.conftest import values

    project = world.project_a  # started 2026-04; today is 2026-09-10
    report_save(actor=world.official, project=project, month=dt.date(2026, 5, 1), values=values())  # a draft
    returned = report_save(actor=world.official, project=project, month=dt.date(2026, 6, 1), values=values(), submit=True)
    report_return(actor=world.admin, report=returned, reason="Check")
    accepted = report_save(actor=world.official, project=project, month=dt.date(2026, 7, 1), values=values(), submit=True)
    report_accept(actor=world.admin, report=accepted)
    report_save(actor=world.official, project=project, month=dt.date(2026, 8, 1), values=values(), submit=True)
    response = client_for(world.official).get(f"/reports/upload/template.{fmt}")
    if fmt == "xlsx":
        rows = [["" if v is None else str(v) for v in row]
                for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    else:
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[:2] == ["과제 코드", "대상 월"]
    # Nothing yet (April), a draft (May) and a returned report (June); not the month under way.
    assert [row[:2] for row in data] == [["PA-001", "2026-04"], ["PA-001", "2026-05"], ["PA-001", "2026-06"]]
    # Nothing answered for the official: the figures, the purpose and the legal checklist are theirs to fill in.
    assert all(cell == "" for row in data for cell in row[2:])


def test_auditors_and_applicants_cannot_upload(world, api_for, clock):
    for user in (world.auditor, world.applicant):
        response = api_for(user).post("/api/v1/reports/upload/", {"file": csv_file()}, format="multipart")
        assert response.status_code == 403


def row_errors(page: str) -> list[str]:
    """The refused rows' messages as the page shows them (the column's label, when the message is
    about one column, and the message)."""
    import html
    import re

    table = page[page.index('data-testid="upload-errors"'):]
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", table, flags=re.S)]


def test_every_row_error_names_its_column_as_the_header_does_or_the_row(world, client_for, clock):
    from monitoring.services import report_save
    from tests.monitoring.conftest import AUG, values

    report_save(actor=world.official, project=world.project_a, month=AUG, values=values(), submit=True)
    rows = ("PA-001,2026-08,9000,16,Y,Y,NA,Y,",   # row 2: waiting for MSIT's review
            "PA-001,2026-07,,,,,,,")               # row 3: every required cell empty
    korean = row_errors(client_for(world.official, lang="ko").post("/reports/upload/", {"file": csv_file(*rows)})
                        .content.decode())
    assert "이 보고서는 과기정통부 검토 중이어서 지금은 수정할 수 없습니다." in korean  # the row's own message, no field name
    assert not any(message.startswith("state") for message in korean)
    for header in ("사용 GPU-시간", "최대 동시 사용 GPU", "목적 내 사용", "인공지능 기본법", "개인정보", "학습데이터 저작권"):
        assert f"{header}: 필수 항목입니다." in korean, korean
    assert not any("숫자가 아닙니다" in message for message in korean)
    english = row_errors(client_for(world.official).post("/reports/upload/", {"file": csv_file(*rows)}).content.decode())
    assert "GPU-hours used: Required." in english and "Peak GPUs busy: Required." in english
    assert "This report is waiting for MSIT's review and cannot be changed now." in english


def test_a_cell_that_is_not_an_answer_says_what_answers_are(world, api_for, clock):
    response = api_for(world.official).post(
        "/api/v1/reports/upload/", {"file": csv_file("PA-001,2026-08,9000,16,maybe,perhaps,NA,Y,")}, format="multipart",
    )
    fields = response.json()["error"]["fields"]
    assert fields["row 2.within_purpose"] == ["Write Y or N."]
    assert fields["row 2.ai_basic_act"] == ["Write Y, N or NA."]


def test_the_english_column_names_are_headers_too(world, api_for, clock):
    header = ("Project code,Month reported,GPU-hours used,Peak GPUs busy,Used within purpose,AI Basic Act,"
              "Personal information,Training data copyright,Notes\n")
    response = api_for(world.official).post(
        "/api/v1/reports/upload/", {"file": csv_file("PA-001,2026-08,9000,16,Y,Y,NA,Y,", header=header)}, format="multipart",
    )
    assert response.status_code == 201, response.json()


def test_missing_columns_are_named_as_headers(world, client_for, clock):
    page = client_for(world.official, lang="ko").post(
        "/reports/upload/", {"file": csv_file(header="과제 코드,대상 월\n")}).content.decode()
    assert "사용 GPU-시간" in page and "학습데이터 저작권" in page
    assert "gpu_hours_used" not in page.split('data-testid="upload-form"')[1]


@pytest.mark.parametrize("content", [b"\x8b\x1f random bytes \x00\xff" * 40, b"PK\x03\x04 truncated"])
def test_a_broken_xlsx_is_said_in_the_readers_language_without_the_exception(world, client_for, clock, content):
    page = client_for(world.official, lang="ko").post(
        "/reports/upload/", {"file": SimpleUploadedFile("r.xlsx", content)}).content.decode()
    form = page.split('data-testid="upload-form"')[1]
    assert "XLSX 파일을 읽을 수 없습니다." in form and "파일이 손상되었거나 XLSX 통합 문서가 아닙니다" in form
    assert "zip" not in form.lower() and "File is not" not in form
