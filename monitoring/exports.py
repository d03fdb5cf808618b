"""The month's status for all projects as CSV and XLSX with Korean headers, and the upload template."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.utils import timezone, translation

from allocation_portal import hooks, months, spreadsheets

from .selectors import FLAG_LABELS, STATUS_LABELS, Figures

# The board's columns: (Korean header, kind). Kinds say how a value is written: as a number with
# its format in XLSX, as text in CSV.
TEXT, INTEGER, GPU_HOURS, PERCENT, DATETIME = "text", "integer", "gpu_hours", "percent", "datetime"
BOARD_COLUMNS = [
    ("대상 월", TEXT), ("과제 코드", TEXT), ("과제명", TEXT), ("부처", TEXT), ("예시 데이터", TEXT),
    ("배분 GPU", INTEGER), ("보고 상태", TEXT), ("제출 일시", DATETIME),
    ("배분 GPU-시간", GPU_HOURS), ("계획 GPU-시간", GPU_HOURS), ("사용 GPU-시간", GPU_HOURS),
    ("이용률(사용/배분)", PERCENT), ("계획 대비 실적", PERCENT),
    ("누적 배분 GPU-시간", GPU_HOURS), ("누적 계획 GPU-시간", GPU_HOURS), ("누적 사용 GPU-시간", GPU_HOURS),
    ("누적 계획 대비 실적", PERCENT), ("측정 GPU-시간", GPU_HOURS), ("측정 출처", TEXT), ("점검 표시", TEXT),
]
MEASURED_SOURCES = {"sacct": "Slurm 회계 기록", "telemetry": "GPU 원격 측정"}
BOARD_HEADERS = [header for header, _kind in BOARD_COLUMNS]
XLSX_FORMATS = {
    INTEGER: spreadsheets.INTEGER, GPU_HOURS: spreadsheets.GPU_HOURS, PERCENT: spreadsheets.PERCENT,
    DATETIME: spreadsheets.DATETIME,
}

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


def _share(value) -> float | None:
    return None if value is None else float(value)


def board_rows(board, rows) -> list[list]:
    """Rows in Korean, whatever the language of the request: the export is the table MSIT brings
    to the ministers' meeting. Numbers are numbers, shares are fractions (0.25), times are KST."""
    with translation.override("ko"):
        return [_board_row(board, row) for row in rows]


def _board_row(board, row) -> list:
    m, p = row.month, row.project
    report = m.report
    submitted = (
        timezone.localtime(report.submitted_at).replace(tzinfo=None, second=0, microsecond=0)
        if report and report.submitted_at else None
    )
    return [
        months.label(board.month), p.code, p.title_ko, p.ministry.name_ko, "예시" if p.is_sample else "",
        p.gpus_awarded, str(STATUS_LABELS.get(m.status, m.status)), submitted,
        float(m.monthly.allocated), float(m.monthly.planned), float(m.monthly.used),
        _share(m.monthly.utilisation), _share(m.monthly.plan_ratio),
        float(m.cumulative.allocated), float(m.cumulative.planned), float(m.cumulative.used),
        _share(m.cumulative.plan_ratio),
        None if m.measured_figure[0] is None else float(m.measured_figure[0]),
        MEASURED_SOURCES.get(m.measured_figure[1], "자료 불완전" if m.measured else ""),
        ", ".join(str(FLAG_LABELS.get(f, f)) for f in row.flags),
    ]


def board_totals(rows) -> list:
    """The totals row of the exported rows: sums, and the shares of those sums."""
    monthly, cumulative = Figures(), Figures()
    for row in rows:
        monthly.add(row.month.monthly)
        cumulative.add(row.month.cumulative)
    return [
        "합계", f"{len(rows)}개 과제", "", "", "", sum(r.project.gpus_awarded for r in rows), "", None,
        float(monthly.allocated), float(monthly.planned), float(monthly.used),
        _share(monthly.utilisation), _share(monthly.plan_ratio),
        float(cumulative.allocated), float(cumulative.planned), float(cumulative.used),
        _share(cumulative.plan_ratio),
        sum(float(r.month.measured_figure[0]) for r in rows if r.month.measured_figure[0] is not None), "", "",
    ]


def _csv_value(value, kind):
    if value is None:
        return ""
    if kind == PERCENT:
        return _pct(value)
    if kind == DATETIME:
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def _respond(fmt: str, headers: list[str], rows, filename: str, sheet_title: str, *, kinds: list[str] | None = None,
             totals: list | None = None, more=None) -> HttpResponse:
    kinds = kinds or [TEXT] * len(headers)
    if fmt == "csv":
        content = spreadsheets.csv_bytes(headers, [[_csv_value(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows])
    elif fmt == "xlsx":
        content = spreadsheets.xlsx_bytes(headers, rows, sheet_title=sheet_title, totals=totals,
                                          formats=[XLSX_FORMATS.get(kind) for kind in kinds],
                                          more=more() if more else None)
    else:
        raise Http404("Unknown format.")
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}.{fmt}"
    return response


def board_export(board, rows, fmt: str) -> HttpResponse:
    return _respond(
        fmt, BOARD_HEADERS, board_rows(board, rows),
        f"GPU_사용현황_{months.label(board.month)}", f"{months.label(board.month)} 사용 현황",
        kinds=[kind for _header, kind in BOARD_COLUMNS], totals=board_totals(rows),
        more=lambda: [sheet for sheets in hooks.run(hooks.BOARD_EXPORT_SHEETS, board=board) for sheet in sheets],
    )


def upload_template(project_months, fmt: str) -> HttpResponse:
    """One row per project-month the official can still report; every answer is left for them to
    give (the purpose and the legal checklist are declarations, not defaults to accept)."""
    rows = [[p.code, months.label(month)] + [""] * (len(UPLOAD_HEADERS) - 2) for p, month in project_months]
    today = timezone.localdate().isoformat()
    return _respond(fmt, [ko for _field, ko in UPLOAD_HEADERS], rows, f"월간_사용실적_{today}", "사용 실적")
