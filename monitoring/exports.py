"""The month's status for all projects as CSV and XLSX with Korean headers, and the upload template."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.utils import timezone, translation

from allocation_portal import months, spreadsheets

from .selectors import FLAG_LABELS, STATUS_LABELS

BOARD_HEADERS = [
    "대상 월", "과제 코드", "과제명", "부처", "예시 데이터", "배분 GPU", "보고 상태", "제출 일시",
    "배분 GPU-시간", "계획 GPU-시간", "사용 GPU-시간", "이용률(사용/배분)", "계획 대비 실적",
    "누적 배분 GPU-시간", "누적 계획 GPU-시간", "누적 사용 GPU-시간", "누적 계획 대비 실적", "점검 표시",
]

UPLOAD_HEADERS = [
    ("project", "과제 코드"), ("month", "대상 월"), ("gpu_hours_used", "사용 GPU-시간"),
    ("peak_gpus_busy", "최대 동시 사용 GPU"), ("within_purpose", "목적 내 사용"),
    ("ai_basic_act", "인공지능 기본법"), ("personal_information", "개인정보"),
    ("training_data_copyright", "학습데이터 저작권"), ("notes", "비고"),
]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _pct(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def board_rows(board, rows) -> list[list]:
    """Rows in Korean, whatever the language of the request: the export is the table MSIT brings
    to the ministers' meeting."""
    with translation.override("ko"):
        return [_board_row(board, row) for row in rows]


def _board_row(board, row) -> list:
    m, p = row.month, row.project
    report = m.report
    return [
        months.label(board.month), p.code, p.title_ko, p.ministry.name_ko, "예시" if p.is_sample else "",
        p.gpus_awarded, str(STATUS_LABELS.get(m.status, m.status)),
        timezone.localtime(report.submitted_at).strftime("%Y-%m-%d %H:%M") if report and report.submitted_at else "",
        float(m.monthly.allocated), float(m.monthly.planned), float(m.monthly.used),
        _pct(m.monthly.utilisation), _pct(m.monthly.plan_ratio),
        float(m.cumulative.allocated), float(m.cumulative.planned), float(m.cumulative.used),
        _pct(m.cumulative.plan_ratio), ", ".join(str(FLAG_LABELS.get(f, f)) for f in row.flags),
    ]


def _respond(fmt: str, headers: list[str], rows, filename: str, sheet_title: str) -> HttpResponse:
    if fmt == "csv":
        content = spreadsheets.csv_bytes(headers, rows)
    elif fmt == "xlsx":
        content = spreadsheets.xlsx_bytes(headers, rows, sheet_title=sheet_title)
    else:
        raise Http404("Unknown format.")
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.{fmt}"
    return response


def board_export(board, rows, fmt: str) -> HttpResponse:
    return _respond(
        fmt, BOARD_HEADERS, board_rows(board, rows),
        f"GPU_사용현황_{months.label(board.month)}", f"{months.label(board.month)} 사용 현황",
    )


def upload_template(projects, month, fmt: str) -> HttpResponse:
    rows = [[p.code, months.label(month), "", "", "Y", "Y", "NA", "Y", ""] for p in projects]
    return _respond(fmt, [ko for _field, ko in UPLOAD_HEADERS], rows, f"월간_사용실적_{months.label(month)}", "사용 실적")
