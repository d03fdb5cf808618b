"""The rolling short-term call, and every existing short-term request as its proposal: the rounds
(one per two-week cut-off) that their submission days fall in are made, each request keeps its
fields and checklist in lending and gets a proposal here. Reversing removes what was made."""

import datetime as dt
import math
from zoneinfo import ZoneInfo

from django.db import migrations

SEOUL = ZoneInfo("Asia/Seoul")
CODE = "short-term-rolling"
OPENS = dt.date(2026, 1, 5)
ROUND_DAYS = 14

# The criteria of MSIT/NIPA's GPU calls; the weights are the portal's defaults, which MSIT changes in
# the admin. Rubric levels are best first.
CRITERIA = [
    ("impact", "기술적·사회적 파급 효과", "Technical and social impact", 40),
    ("ecosystem", "AI 생태계 기여도", "Contribution to the AI ecosystem", 30),
    ("readiness", "수행 역량 및 준비도", "Capability and readiness", 30),
]
RUBRIC = [
    {"score": 5, "ko": "매우 우수: 근거가 구체적이고 기대 성과가 분명함", "en": "Excellent: concrete evidence and clear expected results"},
    {"score": 4, "ko": "우수: 대체로 근거가 충분함", "en": "Good: mostly well supported"},
    {"score": 3, "ko": "보통: 근거가 일부 부족함", "en": "Fair: partly supported"},
    {"score": 2, "ko": "미흡: 근거가 많이 부족함", "en": "Weak: little support"},
    {"score": 1, "ko": "매우 미흡: 근거가 없음", "en": "Poor: no support"},
]


def round_period(day):
    index = max(0, (day - OPENS).days // ROUND_DAYS)
    opens = OPENS + dt.timedelta(days=index * ROUND_DAYS)
    return index + 1, opens, opens + dt.timedelta(days=ROUND_DAYS - 1)


def forwards(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    Round = apps.get_model("calls", "Round")
    Criterion = apps.get_model("calls", "Criterion")
    Proposal = apps.get_model("calls", "Proposal")
    LoanRequest = apps.get_model("lending", "LoanRequest")
    call = Call.objects.create(
        code=CODE, kind="rolling", name_ko="단기 수요 지원 상시 공모", name_en="Rolling short-term call for idle GPUs",
        opens_on=OPENS, round_days=ROUND_DAYS, eligible_kinds=["industry", "academia", "research"],
        cap_gpu_months=128 * 12, prefers_non_capital=True,
    )
    for position, (code, ko, en, weight) in enumerate(CRITERIA):
        Criterion.objects.create(call=call, code=code, position=position, name_ko=ko, name_en=en, weight=weight,
                                 rubric=RUBRIC)
    rounds = {}
    for request in LoanRequest.objects.order_by("submitted_at", "pk").iterator():
        number, opens, closes = round_period(request.submitted_at.astimezone(SEOUL).date())
        if number not in rounds:
            rounds[number] = Round.objects.create(call=call, number=number, opens_on=opens, closes_on=closes)
        Proposal.objects.create(
            call=call, round=rounds[number], loan_request=request, organisation_id=request.organisation_id,
            title=request.purpose[:200], gpu_model=request.gpu_model, gpu_count=request.gpu_count,
            months=max(1, math.ceil(((request.ends_on - request.starts_on).days + 1) / 30)),
            submitted_at=request.submitted_at,
            state={"submitted": "submitted", "changes_requested": "revision", "approved": "selected",
                   "rejected": "not_selected", "withdrawn": "withdrawn", "declined": "selected",
                   "lapsed": "selected"}.get(request.state, "submitted"),
        )


def backwards(apps, schema_editor):
    Call = apps.get_model("calls", "Call")
    Proposal = apps.get_model("calls", "Proposal")
    Proposal.objects.filter(call__code=CODE).delete()
    Call.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial"), ("lending", "0003_loan_offers")]

    operations = [migrations.RunPython(forwards, backwards)]
