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
