"""Single sign-on against a real OpenID Connect provider started on loopback (panva's certified
oidc-provider, tests/oidc/provider.mjs), driven in Chromium through its own login and consent pages:
the authorization code flow with PKCE ends signed in; a callback with a wrong state, an unknown
identity, an unverified e-mail and a deactivated account are refused on the login page; an MSIT
admin who signs in this way is then asked for the second factor."""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import pytest

from allocation_portal.models import AuditEvent, Role, User
from tests import factories as f
from tests.e2e.conftest import give_code

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER = Path(__file__).resolve().parent.parent / "oidc" / "provider.mjs"
CLIENT_ID, CLIENT_SECRET = "gpu-portal", "test-only-client-secret"
PASSWORD = "provider-password"
# The provider's accounts (login -> claims). Their e-mail addresses are matched to portal accounts.
ACCOUNTS = {
    "newcomer": {"email": "Newcomer@KMA.go.kr", "email_verified": True, "name": "New Comer"},
    "employee": {"email": "kim@ministry-directory.example", "email_verified": False, "preferred_username": "KMA.Newcomer"},
    "stranger": {"email": "stranger@elsewhere.example", "email_verified": True},
    "unverified": {"email": "newcomer@kma.go.kr", "email_verified": False},
    "msit": {"email": "msit.admin@msit.go.kr", "email_verified": True},
    "retired": {"email": "retired@kma.go.kr", "email_verified": True},
}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def oidc_provider(live_server, settings):
    """The provider, with one client whose redirect URI is the live server's callback, PKCE required;
    and the portal configured for it (as PORTAL_OIDC_* in the environment would)."""
    node = shutil.which("node") or "/usr/bin/node"
    assert (PROVIDER.parent / "node_modules" / "oidc-provider").exists(), \
        "oidc-provider is missing: the test command runs `npm ci` in tests/oidc"
    port = free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
           "REDIRECT_URI": f"{live_server.url}/accounts/sso/callback/",
           "ACCOUNTS": json.dumps({login: {"password": PASSWORD, **claims} for login, claims in ACCOUNTS.items()})}
    process = subprocess.Popen([node, str(PROVIDER)], cwd=PROVIDER.parent, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline, line = time.monotonic() + 20, ""
        while time.monotonic() < deadline and not line.startswith("ready"):
            ready, _w, _x = select.select([process.stdout], [], [], 0.5)
            if ready:
                line = process.stdout.readline()
            if process.poll() is not None:
                pytest.fail(f"the OpenID provider stopped: {process.stderr.read()}")
        assert line.startswith("ready"), "the OpenID provider did not start"
        issuer = line.split()[1]
        settings.PORTAL_OIDC_ISSUER = issuer
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.PORTAL_OIDC_USERNAME_CLAIM = ""
        yield Provider(issuer, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def people(db):
    ministry = f.make_ministry("kma", name_ko="기상청")
    return {
        "newcomer": f.make_user(Role.OFFICIAL, username="kma.newcomer", ministry=ministry, email="newcomer@kma.go.kr"),
        "admin": f.make_user(Role.ADMIN, username="msit.admin", email="msit.admin@msit.go.kr"),
        "retired": f.make_user(Role.OFFICIAL, username="kma.retired", ministry=ministry, email="retired@kma.go.kr",
                               is_active=False),
    }


def at_the_provider(page, login: str, *, authorise: bool = True) -> None:
    """From the portal's login page through the provider's sign-in and consent pages."""
    page.goto("/accounts/login/")
    page.click("[data-testid=sso-start]")
    page.wait_for_selector("#login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#authorise")
    assert page.inner_text("#client") == CLIENT_ID
    if authorise:
        page.click("#authorise")
        page.wait_for_load_state("networkidle")


def test_a_newcomer_signs_in_through_the_provider_with_the_code_flow_and_pkce(page, live_server, oidc_provider, people):
    authorisation_requests = []
    page.on("request", lambda r: r.url.startswith(f"{oidc_provider.issuer}/auth?") and authorisation_requests.append(r.url))
    at_the_provider(page, "newcomer")
    # Signed in as the portal account with that (case-insensitively equal, verified) e-mail address.
    assert page.url == f"{live_server.url}/programme/"
    page.click("[data-testid=account-menu]")
    assert "kma.newcomer" in page.inner_text(".account .menu-panel")
    query = parse_qs(urlparse(authorisation_requests[0]).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0]
    assert User.objects.filter(email__iexact="newcomer@kma.go.kr").count() == 1  # nobody was created


def test_a_callback_with_a_wrong_state_is_refused(page, live_server, oidc_provider, people):
    # The portal starts a sign-in (its state, nonce and PKCE challenge in this browser's session), but the
    # browser reaches the provider with another state: the provider sends back a valid code with it.
    started = page.context.request.get(f"{live_server.url}/accounts/sso/", max_redirects=0)
    assert started.status == 302
    parts = urlparse(started.headers["location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["state"]
    page.goto(urlunparse(parts._replace(query=urlencode({**query, "state": "not-the-state-we-sent"}))))
    page.fill("#login", "newcomer")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.click("#authorise")
    page.wait_for_load_state("networkidle")
    assert urlparse(page.url).path == "/accounts/login/"
    assert "확인할 수 없습니다" in page.inner_text(".messages")
    page.goto("/programme/")
    assert urlparse(page.url).path == "/accounts/login/"  # not signed in


def test_an_identity_unknown_to_the_portal_is_refused_and_audited(page, live_server, oidc_provider, people):
    users = User.objects.count()
    at_the_provider(page, "stranger")
    assert urlparse(page.url).path == "/accounts/login/"
    message = page.inner_text(".messages")
    assert "포털 계정이 없습니다" in message
    assert User.objects.count() == users
    event = AuditEvent.objects.get(action="account.sso_refused")
    assert event.after["reason"] == "unknown" and event.after["identity"] == "stranger@elsewhere.example"
    page.goto("/programme/")
    assert urlparse(page.url).path == "/accounts/login/"


@pytest.mark.parametrize("login, reason", [("unverified", "unverified"), ("retired", "inactive")])
def test_an_unverified_address_and_a_deactivated_account_are_refused(page, live_server, oidc_provider, people,
                                                                     login, reason):
    at_the_provider(page, login)
    assert urlparse(page.url).path == "/accounts/login/"
    event = AuditEvent.objects.get(action="account.sso_refused")
    assert event.after["reason"] == reason
    if reason == "inactive":
        assert event.object_id == str(people["retired"].public_id)
    page.goto("/programme/")
    assert urlparse(page.url).path == "/accounts/login/"


def test_an_msit_admin_who_signs_in_through_the_provider_is_asked_for_the_second_factor(
        page, live_server, oidc_provider, people):
    at_the_provider(page, "msit")
    assert urlparse(page.url).path == "/accounts/second-factor/verify/"
    page.goto("/monitoring/board/")
    assert urlparse(page.url).path == "/accounts/second-factor/verify/"
    give_code(page, "msit.admin")
    assert urlparse(page.url).path == "/monitoring/board/"


def test_a_configured_claim_matches_the_portal_username(page, live_server, oidc_provider, people, settings):
    # The directory's login name, not the e-mail address (unverified here, and unknown to the portal).
    settings.PORTAL_OIDC_USERNAME_CLAIM = "preferred_username"
    at_the_provider(page, "employee")
    assert page.url == f"{live_server.url}/programme/"
    page.click("[data-testid=account-menu]")
    assert "kma.newcomer" in page.inner_text(".account .menu-panel")
