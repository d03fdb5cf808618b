"""Demo accounts (one per role) and demo activity for the run command. Never for production:
the command refuses unless DEBUG is on or --force is given. It lives on the top floor because it
fills every app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from allocation_portal import months
from allocation_portal.models import Compliance, Role, User
from calls.models import Assignment, Proposal, ProposalState
from calls.services_review import assignment_create
from gpus.availability import day_start
from gpus.models import AllocationGpu
from gpus.selectors import held_by_month
from lending import services as lending
from lending.models import LoanRequest, Organisation, OrganisationKind, Region
from lending.selectors import propose, request_window
from projects.models import GpuRequestState, Ministry, Project, ProjectGpuRequest
from projects.services import gpu_request_create

from . import reclamation, redistribution
from .models import CaseKind, CaseState, ReclamationCase, UsageReport
from .services import report_accept, report_return, report_save

DEMO_PASSWORD = "demo-2026!"  # noqa: S105 (a published demo password, refused outside DEBUG)

# The demo admin's second factor (MSIT admins must give one): this published secret, to be typed into
# an authenticator app (or `oathtool --totp -b MRSW23ZNMFSG22LOFUZDAMRWFV2G65DQ`). Demo only: the
# loader refuses to run with DEBUG off, like the password.
DEMO_TOTP_SECRET = "MRSW23ZNMFSG22LOFUZDAMRWFV2G65DQ"  # noqa: S105
DEMO_TOTP_KEY = b"demo-admin-2026-totp".hex()

DEMO_USERS = [
    {"username": "admin", "display_name": "과기정통부 담당자 (MSIT admin)", "role": Role.ADMIN},
    {"username": "official", "display_name": "기상청 담당자 (KMA official)", "role": Role.OFFICIAL, "ministry": "kma"},
    {"username": "official2", "display_name": "보건복지부 담당자 (MOHW official)", "role": Role.OFFICIAL, "ministry": "mohw"},
    {"username": "applicant", "display_name": "한빛대학교 연구원 (applicant)", "role": Role.APPLICANT, "organisation": "demo-univ"},
    {"username": "auditor", "display_name": "점검관 (auditor)", "role": Role.AUDITOR},
    {"username": "reviewer", "display_name": "외부 평가위원 (expert reviewer)", "role": Role.REVIEWER},
]

DEMO_ORGANISATIONS = {
    "demo-univ": {
        "name": "한빛대학교 AI연구소 (예시)",
        "kind": OrganisationKind.ACADEMIA,
        "region": Region.NON_CAPITAL,
        "registration_number": "DEMO-134-82-00001",
    },
}


def load_demo_users() -> list[User]:
    users = []
    with transaction.atomic():
        orgs = {}
        for key, values in DEMO_ORGANISATIONS.items():
            orgs[key], _created = Organisation.objects.get_or_create(
                registration_number=values["registration_number"], defaults={**values, "is_sample": True}
            )
        for spec in DEMO_USERS:
            user = User.objects.filter(username=spec["username"]).first()
            if user is None:
                user = User(username=spec["username"])
                user.set_password(DEMO_PASSWORD)
            user.display_name = spec["display_name"]
            user.role = spec["role"]
            user.email = f"{spec['username']}@demo.gpu-portal.example.kr"
            user.ministry = Ministry.objects.get(code=spec["ministry"]) if spec.get("ministry") else None
            user.organisation = orgs[spec["organisation"]] if spec.get("organisation") else None
            user.manages_members = spec["role"] == Role.APPLICANT  # the organisation's first member
            user.is_staff = spec["role"] == Role.ADMIN
            user.save()
            if user.needs_second_factor and not TOTPDevice.objects.filter(user=user).exists():
                TOTPDevice.objects.create(user=user, name="demo authenticator", key=DEMO_TOTP_KEY, confirmed=True)
            users.append(user)
    return users


def _share(code: str, month, salt: str) -> float:
    """A stable pseudo-random number in [0, 1) for a project, month and purpose."""
    import hashlib

    digest = hashlib.sha256(f"{code}:{month}:{salt}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x100000000


def load_demo_reports() -> int:
    """Several months of reports for the started projects, so every page shows something real:
    most near plan, some under plan, some late, some missing, one returned, one declaring
    off-purpose use. Idempotent: months that already have a report are left alone."""




    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    last = months.add_months(months.current(), -1)
    projects = list(Project.objects.filter(actual_start__isnull=False).prefetch_related("plans").order_by("code"))
    if not projects:
        return 0
    first = min(months.first_day(p.actual_start) for p in projects)
    held = held_by_month([p.pk for p in projects], first, last)
    existing = set(UsageReport.objects.values_list("project_id", "month"))
    created = 0
    for index, project in enumerate(projects):
        plans = {p.month: p.planned_gpu_hours for p in project.plans.all()}
        under_plan = index % 6 == 1
        for month in months.months_between(project.actual_start, last):
            if (project.pk, month) in existing:
                continue
            if month == last and index % 5 == 2:
                continue  # missing: the last month not reported, past its due date
            allocated, gpus = held.get((project.pk, month), (Decimal(0), 0))
            if not allocated:
                continue
            factor = 0.2 + 0.25 * _share(project.code, month, "u") if under_plan else 0.78 + 0.25 * _share(project.code, month, "u")
            used = min(Decimal(plans.get(month, allocated)) * Decimal(str(round(factor, 3))), allocated * Decimal("0.97"))
            off_purpose = project.code == "NAI-2026-12" and month == months.add_months(last, -1)
            due = months.due_date(month)
            late = _share(project.code, month, "late") < 0.15
            submitted_on = due + dt.timedelta(days=3 if late else -2)
            at = timezone.make_aware(dt.datetime.combine(min(submitted_on, timezone.localdate()), dt.time(10, 30)))
            report = report_save(
                actor=None,
                project=project,
                month=month,
                values={
                    "gpu_hours_used": used.quantize(Decimal("1")),
                    "peak_gpus_busy": max(1, int(gpus * min(1.0, factor + 0.1))),
                    "within_purpose": not off_purpose,
                    "ai_basic_act": Compliance.YES,
                    "personal_information": Compliance.YES if project.domain == "health" else Compliance.NOT_APPLICABLE,
                    "training_data_copyright": Compliance.YES,
                    "notes": (
                        "일부 GPU를 승인되지 않은 외부 과제의 모델 학습에 사용함 (예시 데이터)."
                        if off_purpose else "예시 데이터 (demo data)."
                    ),
                },
                submit=True,
                at=at,
                note="Demo data.",
            )
            created += 1
            if admin is not None and month < last:
                if project.code == "NAI-2026-10" and month == months.add_months(last, -1):
                    report_return(actor=admin, report=report, reason="GPU-시간 산정 근거(스케줄러 집계)를 첨부해 주세요. (예시)")
                else:
                    report_accept(actor=admin, report=report)
    return created


DEMO_LENDING_ORGS = [
    ("(주)누리비전 (예시)", OrganisationKind.INDUSTRY, Region.CAPITAL, "DEMO-220-81-00002", "nuri"),
    ("부산해양AI연구원 (예시)", OrganisationKind.RESEARCH, Region.NON_CAPITAL, "DEMO-605-82-00003", "busan"),
    ("서울과학대학교 (예시)", OrganisationKind.ACADEMIA, Region.CAPITAL, "DEMO-101-83-00004", "seoul"),
]


def load_demo_lending() -> int:
    """Requests waiting in the queue, an active loan on a delayed project's idle servers (recall
    risk), a scheduled loan with a renewal asked for, and an ended loan with its report."""



    if LoanRequest.objects.exists():
        return 0
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    today = timezone.localdate()
    people = {}
    for name, kind, region, number, key in DEMO_LENDING_ORGS:
        org, _created = Organisation.objects.get_or_create(
            registration_number=number, defaults={"name": name, "kind": kind, "region": region, "is_sample": True}
        )
        user = User.objects.filter(username=f"demo-{key}").first()
        if user is None:
            user = User(username=f"demo-{key}", role=Role.APPLICANT, organisation=org, display_name=name,
                        email=f"{key}@demo.gpu-portal.example.kr", manages_members=True)
            user.set_password(DEMO_PASSWORD)
            user.save()
        people[key] = user
    applicant = User.objects.get(username="applicant")

    def values(count, start, days, purpose):
        return {
            "gpu_model": "B200", "gpu_count": count, "starts_on": start, "ends_on": start + dt.timedelta(days=days),
            "purpose": purpose, "expected_results": "논문·공개 모델·서비스 시제품 (예시 데이터)",
            "personal_information": "na", "training_data_copyright": "yes", "ai_basic_act": "yes",
            "accepts_recall_terms": True,
        }

    made = 0
    # An active loan of two whole servers reserved for the delayed AI basic healthcare project
    # (NAI-2026-05): when its official records the start, the loan gets the 72-hour recall notice.
    active = lending.request_submit(actor=people["busan"], values=values(16, today, 80, "해양 기상 다중모달 모델 사전학습"))
    if admin:
        lending.request_score(actor=admin, request=active, score=88)
        idle_servers = list(
            AllocationGpu.objects.filter(allocation__project__code="NAI-2026-05", layer="award")
            .order_by("gpu__server__hostname", "gpu__index").values_list("gpu_id", flat=True)[:16]
        )
        offered = propose("B200", 16, *request_window(active)).gpu_ids
        offer = lending.request_approve(actor=admin, request=active, gpu_ids=idle_servers if len(idle_servers) == 16 else offered)
        loan = lending.offer_accept(actor=people["busan"], loan=offer)
        lending.loan_request_renewal(actor=people["busan"], loan=loan, ends_on=today + dt.timedelta(days=150),
                                     reason="학습 데이터 추가 확보로 2개월 연장 필요 (예시)")
    made += 1
    # A small loan offered to the demo applicant, waiting for them to accept or decline it.
    small = lending.request_submit(actor=applicant, values=values(4, today + dt.timedelta(days=5), 45,
                                                                  "한국어 법률 문서 요약 모델 미세조정"))
    if admin:
        lending.request_score(actor=admin, request=small, score=74)
        lending.request_approve(actor=admin, request=small, gpu_ids=propose("B200", 4, *request_window(small)).gpu_ids)
    made += 1
    # Waiting in the queue, scored and unscored.
    queued = lending.request_submit(actor=people["nuri"], values=values(8, today + dt.timedelta(days=14), 60,
                                                                        "제조 결함 검출 비전 모델 학습"))
    if admin:
        lending.request_score(actor=admin, request=queued, score=74)
    lending.request_submit(actor=people["seoul"], values=values(2, today + dt.timedelta(days=10), 30,
                                                                "단백질 구조 예측 모델 재현 연구"))
    lending.request_submit(actor=applicant, values=values(8, today + dt.timedelta(days=60), 80,
                                                          "B200 기반 추론 최적화 연구"))
    return made + 3


# The demo's lending before today, month by month: (days back it was submitted, organisation key,
# GPUs, days to the first day asked for, days asked for, days until MSIT decided, what happened).
HISTORY = [
    (150, "nuri", 8, 4, 40, 2, "completed"), (142, "seoul", 2, 3, 30, 6, "completed"),
    (128, "busan", 4, 5, 35, 1, "completed"), (115, "applicant", 1, 2, 20, 3, "rejected"),
    (104, "nuri", 16, 6, 45, 4, "recalled"), (96, "seoul", 4, 3, 25, 2, "completed"),
    (83, "busan", 8, 4, 40, 5, "recalled_short"), (70, "applicant", 2, 2, 30, 1, "completed"),
    (58, "nuri", 4, 3, 30, 8, "completed"), (45, "seoul", 8, 5, 28, 3, "completed"),
    (36, "applicant", 4, 2, 21, 2, "declined"), (30, "busan", 2, 2, 20, 4, "completed"),
]
HISTORY_PURPOSE = "지난 대여 이력 (예시 데이터)"


def load_demo_lending_history() -> int:
    """Loans of the months before today, made with the portal's own services on the days they
    would have happened (the clock travels back for each step): submitted, decided days later,
    accepted or declined, started and ended by the daily job, two recalled (one with its full
    notice, one with 24 hours), one rejected. The outcomes dashboard has a history to count."""
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    if admin is None or LoanRequest.objects.filter(purpose=HISTORY_PURPOSE).exists():
        return 0
    people = {key: User.objects.get(username=f"demo-{key}") for *_rest, key in DEMO_LENDING_ORGS}
    people["applicant"] = User.objects.get(username="applicant")
    now = timezone.now()
    ticked = [timezone.localtime(now - dt.timedelta(days=HISTORY[0][0] + 1)).date()]

    def at(moment):
        """The clock at `moment`, after the daily job ran on every day before it (as beat would have)."""
        while ticked[0] < timezone.localtime(moment).date():
            ticked[0] += dt.timedelta(days=1)
            with time_machine.travel(day_start(ticked[0]) + dt.timedelta(minutes=5), tick=False):
                lending.loans_tick()
        return time_machine.travel(moment, tick=False)

    made = 0
    for back, key, gpus, lead, days, decide_after, fate in HISTORY:
        submitted = now - dt.timedelta(days=back)
        start = timezone.localtime(submitted).date() + dt.timedelta(days=lead)
        values = {"gpu_model": "B200", "gpu_count": gpus, "starts_on": start, "ends_on": start + dt.timedelta(days=days),
                  "purpose": HISTORY_PURPOSE, "expected_results": "논문·공개 모델 (예시 데이터)",
                  "personal_information": "na", "training_data_copyright": "yes", "ai_basic_act": "yes",
                  "accepts_recall_terms": True}
        with at(submitted):
            request = lending.request_submit(actor=people[key], values=values)
        decided = submitted + dt.timedelta(days=decide_after, hours=3)
        with at(decided):
            if fate == "rejected":
                lending.request_reject(actor=admin, request=request, reason="신청 목적이 사업 취지와 맞지 않습니다 (예시).")
                made += 1
                continue
            lending.request_score(actor=admin, request=request, score=70 + gpus % 20)
            offered = propose("B200", gpus, *request_window(request)).gpu_ids
            if len(offered) != gpus:
                continue
            offer = lending.request_approve(actor=admin, request=request, gpu_ids=offered)
        with at(decided + dt.timedelta(hours=5)):
            if fate == "declined":
                lending.offer_decline(actor=people[key], loan=offer, reason="일정이 바뀌어 사용하지 않습니다 (예시).")
                made += 1
                continue
            loan = lending.offer_accept(actor=people[key], loan=offer)
        if fate.startswith("recalled"):
            with at(loan.starts_at + dt.timedelta(days=days // 2)):
                lending.loan_recall(actor=admin, loan=loan, reason="재배분 과제에 서버를 배정합니다 (예시).",
                                    notice_hours=None if fate == "recalled" else 24)
        made += 1
    with at(now):
        pass
    return made


def load_demo_reclamation() -> dict:
    """The latest month's check whose reports are due (under-plan cases waiting for their ministries), the off-purpose case the
    demo report declared (decided: one server to the MSIT reserve), delayed-start flags, a project
    asking for more GPUs, and today's redistribution proposals."""


    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    run = reclamation.monthly_check_run(month=reclamation.latest_checkable_month())
    off = ReclamationCase.objects.filter(kind=CaseKind.OFF_PURPOSE, state=CaseState.OPEN).first()
    if off is not None and admin is not None:
        reclamation.case_suspend(actor=admin, case=off, reason="목적 외 사용 신고에 따라 결정 시까지 사용 정지 (예시)")
        reclamation.case_decide(actor=admin, case=off, decision=CaseState.APPROVED, servers=1,
                                reason="외부 과제 학습에 사용한 서버 1대를 회수합니다 (예시).")
    flagged = reclamation.delayed_projects_flag()
    project = Project.objects.filter(code="NAI-2026-02").first()
    official = User.objects.filter(role=Role.OFFICIAL, ministry__code="msit").first()
    if project is not None and not ProjectGpuRequest.objects.filter(project=project).exists():
        if official is None and admin is not None:
            official = admin
        if official is not None:
            gpu_request_create(actor=official, project=project, servers=1,
                                              reason="산업별 파운데이션 모델 추가 학습 (예시)")
    proposals = redistribution.redistribution_propose(actor=admin)
    return {"cases": run.cases_opened, "flagged": flagged, "proposals": len(proposals),
            "open_gpu_requests": ProjectGpuRequest.objects.filter(state=GpuRequestState.OPEN).count()}


def load_demo_review() -> int:
    """The demo reviewer is assigned one waiting short-term proposal of the rolling call (a queued
    request of another organisation than theirs). Returns how many assignments were made."""
    reviewer = User.objects.filter(username="reviewer", role=Role.REVIEWER).first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    if reviewer is None or admin is None or Assignment.objects.filter(reviewer=reviewer).exists():
        return 0
    proposal = (Proposal.objects.filter(state__in=[ProposalState.SUBMITTED, ProposalState.IN_REVIEW],
                                        loan_request__isnull=False).order_by("submitted_at").first())
    if proposal is None:
        return 0
    assignment_create(actor=admin, proposal=proposal, reviewer=reviewer)
    return 1
