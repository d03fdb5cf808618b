"""Demo accounts (one per role) and demo activity for the run command. Never for production:
the command refuses unless DEBUG is on or --force is given."""

from __future__ import annotations

from django.db import transaction

from gpus.models import Organisation, OrganisationKind, Region
from projects.models import Ministry

from .models import Role, User

DEMO_PASSWORD = "demo-2026!"  # noqa: S105 (a published demo password, refused outside DEBUG)

DEMO_USERS = [
    {"username": "admin", "display_name": "과기정통부 담당자 (MSIT admin)", "role": Role.ADMIN},
    {"username": "official", "display_name": "기상청 담당자 (KMA official)", "role": Role.OFFICIAL, "ministry": "kma"},
    {"username": "official2", "display_name": "보건복지부 담당자 (MOHW official)", "role": Role.OFFICIAL, "ministry": "mohw"},
    {"username": "applicant", "display_name": "한빛대학교 연구원 (applicant)", "role": Role.APPLICANT, "organisation": "demo-univ"},
    {"username": "auditor", "display_name": "점검관 (auditor)", "role": Role.AUDITOR},
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
            user.is_staff = spec["role"] == Role.ADMIN
            user.save()
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
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from gpus.selectors import held_by_month
    from monitoring.models import Compliance, UsageReport
    from monitoring.services import report_accept, report_return, report_save
    from projects.models import Project

    from . import months

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
        under_plan = index % 6 == 4
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
