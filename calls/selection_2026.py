"""The 2026 national AI projects' selection as a record: the call, its three criteria, its stages
(pre-screening by the expert review committee, per-project expert interviews, the coordination
committee), 121 proposals from 28 ministries, and the 52 selected, each linked to its project with
its award.

Published (MSIT announcement of 7 April 2026; ../shared/DOMAIN.md): 121 proposals from 28
ministries, 52 projects from 25 ministries selected on 30–31 March 2026 by the 6th Science & Technology
Ministers' Meeting, the three criteria, the three stages, 2,832 B200, the seven named projects. Not
published, so invented here and flagged as sample data: the call's opening and cut-off, the dates of
the first two stages, how many proposals passed each of them, the three ministries that proposed and
had nothing selected, and the 69 proposals not selected. The totals stay exact."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_noop

from allocation_portal.loading import sync_row
from gpus.models import GpuModel, Pool
from projects import programme_2026 as data
from projects.loader import PROGRAMME_POOL, programme_2026_load
from projects.models import Ministry, Project

from .models import Call, CallKind, Capacity, Criterion, Proposal, ProposalState, Round, Stage

SEOUL = ZoneInfo("Asia/Seoul")
CALL_CODE = "national-2026"
CALL = {
    "kind": CallKind.NATIONAL,
    "name_ko": "2026년 국가 인공지능 사업(프로젝트)",
    "name_en": "2026 national AI projects",
    # Sample: the call's opening and its cut-off were not published.
    "opens_on": dt.date(2026, 1, 12),
    "decided_on": dt.date(2026, 3, 31),
    "announced_on": data.ANNOUNCED_ON,
    "summary_ko": (
        "2026년 3월 30–31일 제6회 과학기술관계장관회의에서 28개 부처가 제안한 121건 가운데 25개 부처의 52개 과제를 "
        "선정했고, 과학기술정보통신부가 4월 7일 발표했습니다. 선정 과제에는 B200 2,832장(8장 서버 354대)이 과제별 "
        "착수 시점에 따라 배분됩니다. 공모 기간, 사전 검토와 면담의 일정, 단계별 통과 건수, 선정되지 않은 제안과 "
        "이름이 공개되지 않은 과제는 예시 데이터입니다."
    ),
    "summary_en": (
        "On 30–31 March 2026 the 6th Science & Technology Ministers' Meeting selected 52 projects of 25 ministries "
        "from 121 proposals by 28 ministries; MSIT announced them on 7 April 2026. The selected projects receive "
        "2,832 B200 (354 servers of 8) as each starts. The call's dates, the dates of the pre-screening and the "
        "interviews, how many proposals passed each stage, the proposals not selected and the projects not named "
        "are sample data."
    ),
    "is_sample": False,
}
ROUND = {"number": 1, "opens_on": dt.date(2026, 1, 12), "closes_on": dt.date(2026, 2, 13)}  # sample dates
CRITERION_CODES = ("strategic", "ripple", "government")
# The announcement names the criteria, not their weights: equal weights (34/33/33) stand in for them.
CRITERION_WEIGHTS = (34, 33, 33)
STAGES = [
    {"code": "prescreening", "name_ko": "전문가 평가·검토위원회 사전 검토",
     "name_en": "Pre-screening by the expert evaluation and review committee",
     "body_ko": "전문가 평가·검토위원회", "body_en": "Expert evaluation and review committee",
     "starts_on": None, "ends_on": None},
    {"code": "interviews", "name_ko": "과제별 전문가 면담", "name_en": "Per-project expert interviews",
     "body_ko": "분야별 전문가", "body_en": "Experts of each field", "starts_on": None, "ends_on": None},
    {"code": "committee", "name_ko": "조정위원회 심의 및 선정", "name_en": "Coordination committee deliberation and selection",
     "body_ko": "조정위원회, 제6회 과학기술관계장관회의", "body_en": "Coordination committee; the 6th Science & Technology "
     "Ministers' Meeting", "starts_on": dt.date(2026, 3, 30), "ends_on": dt.date(2026, 3, 31)},
]
# Sample: how many proposals ended at each stage (121 → 88 → 64 → 52).
OUT_AT_STAGE = {"prescreening": 33, "interviews": 24, "committee": 12}
DECIDED_AT = dt.datetime(2026, 3, 31, 18, 0, tzinfo=SEOUL)

# The three proposing ministries with nothing selected were not named: sample data.
OTHER_MINISTRIES = [
    ("mofa", "외교부", "Ministry of Foreign Affairs", "public", 2),
    ("kasa", "우주항공청", "Korea AeroSpace Administration", "science", 2),
    ("rda", "농촌진흥청", "Rural Development Administration", "agriculture", 1),
]
# Titles of the invented proposals not selected: the ministry's name and one of these.
STEMS = [
    ("현장 안전 영상 분석 인공지능", "Video analysis AI for field safety"),
    ("민원·상담 지원 언어모델", "Language model for petitions and counselling"),
    ("정책 데이터 기반 수요 예측 모델", "Demand forecasting model from policy data"),
    ("행정 문서 요약·검색 인공지능", "AI for summarising and searching administrative documents"),
    ("분야 특화 멀티모달 기초 모형", "Field-specific multimodal foundation model"),
    ("시뮬레이션 가속 인공지능", "AI-accelerated simulation"),
    ("위성·항공 영상 판독 인공지능", "AI for reading satellite and aerial imagery"),
    ("이상 징후 조기 탐지 인공지능", "AI for the early detection of anomalies"),
]
NOT_SELECTED = data.PROPOSALS - data.PROGRAMME_PROJECTS  # 69
assert sum(OUT_AT_STAGE.values()) == NOT_SELECTED
assert len(data.MINISTRIES) + len(OTHER_MINISTRIES) == data.PROPOSING_MINISTRIES


def _hash(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def _submitted_at(key: str) -> dt.datetime:
    """A day of the (sample) round, at a working hour."""
    days = (ROUND["closes_on"] - ROUND["opens_on"]).days
    day = ROUND["opens_on"] + dt.timedelta(days=_hash(key) % (days + 1))
    return dt.datetime(day.year, day.month, day.day, 9 + _hash(key + "h") % 9, tzinfo=SEOUL)


def _not_selected_rows(ministries: dict[str, Ministry], domains: dict[str, str]) -> list[dict]:
    """69 invented proposals: 2 or 1 for each of the three other ministries, then 3 for the first 14
    of the 25 selected ministries and 2 for the other 11; the stage each ended at, by a stable shuffle."""
    counts = [(code, domain, n) for code, _ko, _en, domain, n in OTHER_MINISTRIES]
    left = NOT_SELECTED - sum(n for *_rest, n in counts)
    selected_codes = [code for code, *_rest in data.MINISTRIES]
    threes = left - 2 * len(selected_codes)  # 64 - 50 = 14 ministries propose a third
    counts += [(code, domains[code], 3 if i < threes else 2) for i, code in enumerate(selected_codes)]
    rows = []
    for code, domain, n in counts:
        ministry = ministries[code]
        for i in range(n):
            stem_ko, stem_en = STEMS[(_hash(code) + i) % len(STEMS)]
            key = f"{code}:{i}"
            servers = 1 + _hash(key + "s") % 16
            rows.append({
                "key": key, "ministry": ministry, "title": f"{ministry.name_ko} {stem_ko}",
                "title_en": f"{stem_en} ({ministry.name_en})", "domain": domain,
                "summary": f"[예시 데이터] {ministry.name_ko} {stem_ko} (sample data: {stem_en}).",
                "gpu_count": servers * 8, "starts_on": dt.date(2026, 4, 1) + dt.timedelta(days=_hash(key + "d") % 240),
            })
    assert len(rows) == NOT_SELECTED
    rows.sort(key=lambda row: _hash(row["key"] + ":stage"))
    out_at = [code for code, n in OUT_AT_STAGE.items() for _i in range(n)]
    for row, stage in zip(rows, out_at, strict=True):
        row["stage"] = stage
    return rows


# Stored as the catalog's English source strings and shown in the reader's language (the
# `stored_text` filter; allocation_portal.messages).
STAGE_REASONS = {
    "prescreening": gettext_noop("Did not pass the pre-screening (sample data)"),
    "interviews": gettext_noop("Left out of the selection after the expert interviews (sample data)"),
    "committee": gettext_noop("Not selected by the coordination committee (sample data)"),
}
SELECTED_REASON = gettext_noop("Selected by the 6th Science & Technology Ministers' Meeting (30–31 March 2026); "
                               "announced by MSIT on 7 April 2026.")


def selection_2026_load() -> dict[str, int]:
    """Load the 2026 selection (after the programme, which it loads first: both are idempotent). A
    second run changes nothing."""
    programme_2026_load()
    changed = 0
    with translation.override("ko"), transaction.atomic():
        pool = Pool.objects.get(code=PROGRAMME_POOL["code"])
        call, was = sync_row(Call, {"code": CALL_CODE}, {**CALL, "pool": pool})
        changed += was
        round_, was = sync_row(Round, {"call": call, "number": ROUND["number"]},
                            {"opens_on": ROUND["opens_on"], "closes_on": ROUND["closes_on"]})
        changed += was
        for position, ((ko, en), code, weight) in enumerate(zip(data.SELECTION_CRITERIA, CRITERION_CODES,
                                                                CRITERION_WEIGHTS, strict=True)):
            changed += sync_row(Criterion, {"call": call, "code": code},
                             {"position": position, "name_ko": ko, "name_en": en, "weight": weight, "rubric": []})[1]
        changed += sync_row(Capacity, {"call": call, "gpu_model": GpuModel.B200},
                         {"gpus": data.PROGRAMME_GPUS, "months": 12})[1]
        stages = {}
        for position, stage in enumerate(STAGES):
            stages[stage["code"]], was = sync_row(Stage, {"call": call, "code": stage["code"]},
                                               {**{k: v for k, v in stage.items() if k != "code"}, "position": position})
            changed += was
        ministries = {m.code: m for m in Ministry.objects.all()}
        for code, name_ko, name_en, _domain, _n in OTHER_MINISTRIES:
            ministries[code], was = sync_row(Ministry, {"code": code}, {"name_ko": name_ko, "name_en": name_en,
                                                                     "is_sample": True})
            changed += was
        # What the announcement decided for each project: its GPUs then (reclamation may shrink the
        # project's award since).
        announced = {f"NAI-2026-{p['rank']:02d}": p["gpus"] for p in data.NAMED_PROJECTS}
        announced |= {f"NAI-2026-{i + 8:02d}": servers * 8 for i, (_m, _d, servers, _ko, _en) in enumerate(data.SAMPLE_PROJECTS)}
        projects = list(Project.objects.filter(code__in=announced).select_related("ministry").order_by("code"))
        assert len(projects) == data.PROGRAMME_PROJECTS, "load_programme_2026 first"
        domains: dict[str, str] = {}
        for project in projects:
            domains.setdefault(project.ministry.code, project.domain)
            changed += sync_row(Proposal, {"project": project}, {
                "call": call, "round": round_, "ministry": project.ministry, "title": project.title_ko[:200],
                "title_en": project.title_en, "domain": project.domain, "summary": project.purpose,
                "starts_on": project.planned_start, "gpu_model": GpuModel.B200, "gpu_count": announced[project.code],
                "months": 12, "state": ProposalState.SELECTED, "submitted_at": _submitted_at(project.code),
                "rank": project.rank, "decision_reason": SELECTED_REASON, "decided_at": DECIDED_AT,
                "stage_reached": stages["committee"], "award_gpus": announced[project.code],
                "is_sample": project.is_sample,
            })[1]
        for row in _not_selected_rows(ministries, domains):
            changed += sync_row(Proposal, {"call": call, "ministry": row["ministry"], "title": row["title"]}, {
                "round": round_, "title_en": row["title_en"], "domain": row["domain"], "summary": row["summary"],
                "starts_on": row["starts_on"], "gpu_model": GpuModel.B200, "gpu_count": row["gpu_count"], "months": 12,
                "state": ProposalState.NOT_SELECTED, "submitted_at": _submitted_at(row["key"]), "rank": None,
                "decision_reason": STAGE_REASONS[row["stage"]], "decided_at": DECIDED_AT,
                "stage_reached": stages[row["stage"]], "award_gpus": None, "is_sample": True,
            })[1]
    proposals = call.proposals.all()
    return {
        "proposals": proposals.count(),
        "ministries": proposals.values("ministry").distinct().count(),
        "selected": proposals.filter(state=ProposalState.SELECTED).count(),
        "gpus_awarded": sum(proposals.exclude(award_gpus=None).values_list("award_gpus", flat=True)),
        "changed": changed,
    }
