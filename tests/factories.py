"""Small builders for test data. Each returns saved objects; names say what they make."""

from __future__ import annotations

import datetime as dt
import itertools

from allocation_portal.models import Role, User
from gpus.availability import day_start
from gpus.models import GPUS_PER_SERVER, Cluster, Gpu, HolderKind, Pool, PoolKind, Provider, Server
from gpus.services import allocation_award
from lending.models import Organisation
from projects.models import Ministry, Project, ProjectStatus

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery"


def n() -> int:
    return next(_seq)


def make_ministry(code: str | None = None, **extra) -> Ministry:
    i = n()
    return Ministry.objects.create(
        code=code or f"min{i}", name_ko=extra.pop("name_ko", f"테스트부{i}"), name_en=f"Ministry {i}", **extra
    )


def programme_pool() -> Pool:
    """The programme's pool that tests' servers and projects belong to (opens 2026-04-01)."""
    pool, _created = Pool.objects.get_or_create(
        code="nai-2026", defaults={"name_ko": "2026 국가 AI 프로젝트", "name_en": "2026 national AI projects",
                                   "kind": PoolKind.PROGRAMME, "published_gpus": 2832, "opens_on": dt.date(2026, 4, 1)},
    )
    return pool


def other_pool() -> Pool:
    pool, _created = Pool.objects.get_or_create(
        code="gov-other", defaults={"name_ko": "정부 보유 기타 GPU", "name_en": "Other government GPUs", "kind": PoolKind.OTHER},
    )
    return pool


def make_project(ministry: Ministry, *, started: bool = False, gpus: int = 16, **extra) -> Project:
    i = n()
    planned = extra.pop("planned_start", dt.date(2026, 4, 1))
    actual = extra.pop("actual_start", planned if started else None)
    return Project.objects.create(
        code=extra.pop("code", f"T-{i:03d}"),
        ministry=ministry,
        title_ko=extra.pop("title_ko", f"테스트 과제 {i}"),
        title_en=extra.pop("title_en", f"Test project {i}"),
        domain=extra.pop("domain", "science"),
        gpus_awarded=gpus,
        planned_start=planned,
        actual_start=actual,
        end_date=extra.pop("end_date", dt.date(2027, 3, 31)),
        status=ProjectStatus.ACTIVE if actual else ProjectStatus.PLANNED,
        pool=extra.pop("pool", None) or programme_pool(),
        **extra,
    )


def make_cluster(servers: int = 4, *, gpu_model: str = "B200", maintenance: int = 0, code: str | None = None,
                 pool: Pool | None = None) -> Cluster:
    i = n()
    pool = pool or programme_pool()
    provider = Provider.objects.create(code=f"prov{i}", name_ko=f"제공자{i}", name_en=f"Provider {i}")
    cluster = Cluster.objects.create(provider=provider, code=code or f"cl{i}", name=f"Cluster {i}", gpu_model=gpu_model)
    made = Server.objects.bulk_create(
        Server(cluster=cluster, pool=pool, hostname=f"{cluster.code}-{s:03d}",
               status="maintenance" if s > servers - maintenance else "in_service")
        for s in range(1, servers + 1)
    )
    Gpu.objects.bulk_create(Gpu(server=s, index=g) for s in made for g in range(GPUS_PER_SERVER))
    return cluster


def server_gpus(*servers: Server) -> list[Gpu]:
    return list(Gpu.objects.filter(server__in=servers).order_by("server__hostname", "index"))


def award(project: Project, servers, *, start=dt.date(2026, 4, 1), end=dt.date(2027, 4, 1), actor=None):
    return allocation_award(
        actor=actor,
        holder_kind=HolderKind.PROJECT,
        project=project,
        gpus=server_gpus(*servers),
        starts_at=day_start(start),
        ends_at=day_start(end),
        reason="test award",
    )


def make_organisation(**extra) -> Organisation:
    i = n()
    return Organisation.objects.create(
        name=extra.pop("name", f"기관 {i}"),
        kind=extra.pop("kind", "academia"),
        region=extra.pop("region", "non_capital"),
        registration_number=extra.pop("registration_number", f"REG-{i:06d}"),
        **extra,
    )


def make_user(role: str, *, username: str | None = None, ministry=None, organisation=None,
              second_factor: bool | None = None, **extra) -> User:
    """A user of the role with PASSWORD. MSIT admins and provider operators (who must use a second
    factor) come with an authenticator already set up, unless second_factor=False; totp_code(user)
    gives its current code and sign_in(client, user) a session that gave it."""
    i = n()
    user = User(
        username=username or f"{role}{i}",
        role=role,
        ministry=ministry,
        organisation=organisation,
        email=extra.pop("email", f"{role}{i}@example.kr"),
        display_name=extra.pop("display_name", f"{role} {i}"),
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    if second_factor or (second_factor is None and user.needs_second_factor):
        give_second_factor(user)
    return user


def give_second_factor(user: User):
    """A confirmed authenticator for the user (as if they had set it up), with a secret of its own."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_otp.util import random_hex

    return TOTPDevice.objects.create(user=user, name="authenticator", key=random_hex(20), confirmed=True)


def totp_code(user: User, *, device=None) -> str:
    """The code the user's authenticator app shows now: the next one the portal still accepts (a code
    once used is refused, so a second sign-in within the same 30 seconds takes the next step's)."""
    import time

    from django_otp.oath import TOTP, hotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = device or TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    # The current step's code (or the next, if it was used): the portal accepts it for the rest of this
    # step and the whole next one. (The oldest step still accepted would be refused as soon as the
    # clock crossed a 30-second boundary between typing and checking: a flaky sign-in.)
    step = max(totp.t(), device.last_t + 1)
    assert step <= totp.t() + device.tolerance, "every code of this moment was used already"
    return f"{hotp(device.bin_key, step, device.digits):0{device.digits}d}"


def sign_in(client, user: User):
    """Log the test client in as `user` with the second factor given, as after a real sign-in (an
    account without an authenticator is simply logged in). Returns the client."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from allocation_portal.second_factor import STATE_SESSION_KEY

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    session = client.session
    session[STATE_SESSION_KEY] = "device" if device else "none"
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


__all__ = [
    "PASSWORD", "Role", "award", "day_start", "give_second_factor", "make_cluster", "make_ministry",
    "make_organisation", "make_project", "make_user", "other_pool", "programme_pool", "server_gpus", "sign_in",
    "totp_code",
]


def make_loan(organisation=None, *, gpus=None, start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 1), state="active"):
    """A loan (with its request) holding `gpus` in the loan layer for [start, end)."""
    from django.utils import timezone

    from lending.models import Loan, LoanRequest

    organisation = organisation or make_organisation()
    submitter = make_user("applicant", organisation=organisation)
    count = len(gpus) if gpus else 1
    request = LoanRequest.objects.create(
        organisation=organisation, submitted_by=submitter, gpu_model="B200", gpu_count=count, starts_on=start,
        ends_on=end - dt.timedelta(days=1), purpose="p", expected_results="r", personal_information="na",
        training_data_copyright="yes", ai_basic_act="yes", accepts_recall_terms=True, state="approved",
        submitted_at=timezone.now(), pool=programme_pool(),
    )
    loan = Loan.objects.create(
        request=request, organisation=organisation, gpu_model="B200", gpu_count=count,
        starts_at=day_start(start), ends_at=day_start(end), state=state,
    )
    if gpus:
        allocation_award(
            actor=None, holder_kind=HolderKind.LOAN, loan=loan, gpus=gpus, starts_at=day_start(start),
            ends_at=day_start(end), reason="test loan",
        )
    return loan
