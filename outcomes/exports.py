"""The outcomes sheet of the status board's XLSX export: the programme's outcome figures by month,
from its first month to the board's month, in Korean like the rest of the export."""

from __future__ import annotations

from django.utils import translation

from allocation_portal import months, spreadsheets

from . import store, tasks
from .figures import Period, RangeInvalid

G, P, D, N = spreadsheets.GPU_HOURS, spreadsheets.PERCENT, "0.0", spreadsheets.INTEGER
OUTCOME_COLUMNS = [
    ("월", None), ("배분 GPU-시간", G), ("착수 과제 보유", G), ("착수 전 유휴", G), ("과기정통부 예비분", G),
    ("사용 정지", G), ("과제 사용(보고)", G), ("과제 사용(측정)", G), ("대여(유휴분)", G), ("대여(예비분)", G), ("대여(미배정분)", G),
    ("사용·대여 비율", P), ("유휴 회수 비율", P), ("신청→결정 중앙값(일)", D), ("신청→결정 90%(일)", D),
    ("유휴→대여 시작 중앙값(일)", D), ("유휴→대여 시작 90%(일)", D), ("대여 시작", N), ("회수 통지 대여", N),
    ("통지 기간을 다 받은 대여", N), ("통지 기간 중 GPU-시간", G), ("회수 서버", N), ("상위 5개 기관 대여 비중", P),
]


def _f(value):
    return None if value is None else float(value)


def _row(label: str, p: Period) -> list:
    return [
        label, *[_f(p.figure(n)) for n in ("awarded", "held_started", "idle", "reserve", "suspended")],
        _f(p.used_reported), _f(p.value("used_measured")), _f(p.figure("lent_from_idle")), _f(p.figure("lent_from_reserve")),
        _f(p.figure("lent_from_free")),
        _f(p.used_or_lent_share), _f(p.idle_recovered_share), _f(p.decision.median), _f(p.decision.p90),
        _f(p.idle_to_loan.median), _f(p.idle_to_loan.p90), p.loans_started, p.recalls, p.recalls_full_notice,
        _f(p.notice_gpu_hours), p.servers_reclaimed, _f(p.top_share),
    ]


def outcome_sheets(*, board) -> list[spreadsheets.Sheet]:
    try:
        outcomes = store.outcomes(last=min(board.month, months.current()))
        tasks.keep_soon(outcomes)
    except RangeInvalid:  # a board month before the programme's first
        return []
    with translation.override("ko"):
        rows = [_row(months.label(p.month), p) for p in outcomes.months]
        return [spreadsheets.Sheet(
            title="사업 성과", headers=[h for h, _f in OUTCOME_COLUMNS], rows=rows,
            formats=[f for _h, f in OUTCOME_COLUMNS], totals=_row("합계", outcomes.total))]
