"""The role world every test shares: one user per role, plus outsiders of the same roles.

- ministry A with project PA (started, holding 2 servers) and PA2 (not started, 1 server)
- ministry B with project PB (the outsider official's)
- admin, official (ministry A), outsider (official of ministry B), applicant (org A),
  outsider_applicant (org B), auditor
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from allocation_portal.models import Role
from tests import factories as f


def pytest_configure(config):
    # Tests log in hundreds of users: a fast hasher keeps the suite in seconds, not minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in-process in tests (e-mails land in django.core.mail.outbox); the Celery
    # integration test starts a real worker and turns this off for itself.
    from allocation_portal.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    import tempfile

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="portal-test-media-")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Throttle counters of their own per test process, at rates no test reaches: two workers
    # sharing Redis counters (and user ids) would throttle each other into flaky failures. The
    # throttle tests set their own rates and clear this cache.
    settings.CACHES = {**settings.CACHES, "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                       "LOCATION": "portal-test-throttle"}}
    settings.PORTAL_THROTTLE_RATES = dict.fromkeys(settings.PORTAL_THROTTLE_RATES, "1000000/minute")


KST = ZoneInfo("Asia/Seoul")


@pytest.fixture
def clock():
    """Freeze the portal's clock at 2026-09-10 10:00 KST (move it with clock.move_to)."""
    with time_machine.travel(dt.datetime(2026, 9, 10, 10, 0, tzinfo=KST), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def change_number_at_once(request):
    """A test runs in one transaction that is never committed, so the triggers that move the change
    number at commit (allocation_portal.kept) would never fire: here they fire at each statement, as
    every write of the portal (autocommit) is its own commit."""
    if request.node.get_closest_marker("django_db") is None and "db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS portal_changed IMMEDIATE")
    yield


@pytest.fixture(autouse=True)
def english_messages():
    """Service messages are asserted in English (the source language); pages pick their own
    language per request. Without this, a request's Korean would leak into the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@dataclass
class World:
    ministry_a: object
    ministry_b: object
    project_a: object
    project_a2: object
    project_b: object
    cluster: object
    allocation_a: object
    org_a: object
    org_b: object
    admin: object
    official: object
    outsider: object
    applicant: object
    outsider_applicant: object
    auditor: object
    provider: object  # the operator of the cluster's provider
    reviewer: object  # an expert reviewer of calls (assigned nothing in the world itself)

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


ROLES = ["anonymous", "admin", "official", "outsider", "applicant", "outsider_applicant", "auditor", "provider", "reviewer"]


@pytest.fixture
def world(db):
    ministry_a = f.make_ministry("mina", name_ko="가부")
    ministry_b = f.make_ministry("minb", name_ko="나부")
    project_a = f.make_project(ministry_a, started=True, code="PA-001", gpus=24)
    project_a2 = f.make_project(ministry_a, code="PA-002", gpus=8, planned_start=dt.date(2026, 12, 1))
    project_b = f.make_project(ministry_b, started=True, code="PB-001", gpus=8)
    cluster = f.make_cluster(servers=8, code="clw")
    servers = list(cluster.servers.order_by("hostname"))
    allocation_a = f.award(project_a, servers[0:2])
    f.award(project_a2, servers[2:3])
    f.award(project_b, servers[3:4])
    org_a = f.make_organisation(name="가대학교")
    org_b = f.make_organisation(name="나주식회사", kind="industry", region="capital")
    return World(
        ministry_a=ministry_a,
        ministry_b=ministry_b,
        project_a=project_a,
        project_a2=project_a2,
        project_b=project_b,
        cluster=cluster,
        allocation_a=allocation_a,
        org_a=org_a,
        org_b=org_b,
        admin=f.make_user(Role.ADMIN, username="admin_user"),
        official=f.make_user(Role.OFFICIAL, username="official_user", ministry=ministry_a),
        outsider=f.make_user(Role.OFFICIAL, username="outsider_user", ministry=ministry_b),
        # Each organisation's first member, who manages its members (allocation_portal.people).
        applicant=f.make_user(Role.APPLICANT, username="applicant_user", organisation=org_a, manages_members=True),
        outsider_applicant=f.make_user(Role.APPLICANT, username="outsider_applicant", organisation=org_b,
                                       manages_members=True),
        auditor=f.make_user(Role.AUDITOR, username="auditor_user"),
        provider=f.make_user(Role.PROVIDER, username="provider_user", provider=cluster.provider),
        reviewer=f.make_user(Role.REVIEWER, username="reviewer_user"),
    )


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client logged in as `user` (None: anonymous), with the second factor
    given where the user has one (tests/test_second_factor.py signs in for real). Pages answer in
    English unless `lang="ko"` (the portal's default when the browser asks for nothing)."""
    from django.test import Client

    def make(user, lang="en"):
        c = Client(HTTP_ACCEPT_LANGUAGE=lang)
        if user is not None:
            f.sign_in(c, user)  # with the second factor given, for the roles that must give one
        return c

    return make


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as `user` with a token (None: anonymous),
    asking for English messages."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user, lang="en"):
        c = APIClient(HTTP_ACCEPT_LANGUAGE=lang)
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    return make


@pytest.fixture
def served():
    """served.page(user) / served.api(user): clients that see what gunicorn with DEBUG off would
    send, so a server error is a 500 response to assert on, not an exception in the test."""
    from django.test import Client
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    class Served:
        @staticmethod
        def page(user=None, lang="en"):
            c = Client(HTTP_ACCEPT_LANGUAGE=lang, raise_request_exception=False)
            if user is not None:
                f.sign_in(c, user)
            return c

        @staticmethod
        def api(user=None, lang="en"):
            c = APIClient(HTTP_ACCEPT_LANGUAGE=lang, raise_request_exception=False)
            if user is not None:
                token, _ = Token.objects.get_or_create(user=user)
                c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            return c

    return Served()


class SmtpInbox:
    """What a real SMTP server (aiosmtpd, on a loopback port) received, as parsed messages."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        from email import message_from_bytes, policy

        return [message_from_bytes(e.original_content or e.content, policy=policy.default) for e in self.envelopes]

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]

    def clear(self):
        self.envelopes.clear()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server started for the test (aiosmtpd on a free loopback port), with Django's SMTP
    backend pointed at it. Yields the inbox; the server stops after the test."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()
