"""Single sign-on's safe edges without a browser (the flow itself runs against a real provider in
tests/e2e/test_single_sign_on.py): off unless configured, a provider that cannot be reached is a
message and never a server error, password logins never wait on the provider, and the callback
refuses what this session did not start."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from allocation_portal import sso
from tests import factories as f

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def unreachable_provider(settings):
    settings.PORTAL_OIDC_ISSUER = f"http://127.0.0.1:{closed_port()}"
    settings.OIDC_RP_CLIENT_ID = "gpu-portal"
    settings.OIDC_RP_CLIENT_SECRET = "test-only-client-secret"
    settings.OIDC_TIMEOUT = 2
    return settings


def test_without_its_settings_there_is_no_button_and_no_sign_on_address(world, settings):
    assert not sso.enabled()
    page = Client().get("/accounts/login/").content.decode()
    assert 'data-testid="sso' not in page
    assert Client().get("/accounts/sso/").status_code == 404
    assert Client().get("/accounts/sso/callback/?code=c&state=s").status_code == 404
    # Each of the three alone is not enough.
    settings.PORTAL_OIDC_ISSUER = "https://sso.example.go.kr"
    settings.OIDC_RP_CLIENT_ID = "gpu-portal"
    assert not sso.enabled() and Client().get("/accounts/sso/").status_code == 404


def test_with_them_the_login_page_offers_it_by_the_providers_name(world, unreachable_provider):
    unreachable_provider.PORTAL_OIDC_PROVIDER_NAME = "정부 통합인증"
    page = Client(HTTP_ACCEPT_LANGUAGE="ko").get("/accounts/login/?next=/programme/").content.decode()
    assert 'href="/accounts/sso/?next=/programme/"' in page and "정부 통합인증(으)로 로그인" in page


def test_a_provider_that_cannot_be_reached_is_a_message_on_the_login_page(world, unreachable_provider):
    client = Client(HTTP_ACCEPT_LANGUAGE="ko", raise_request_exception=False)
    response = client.get("/accounts/sso/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "통합 로그인 서비스에 연결할 수 없습니다" in response.content.decode()


def test_password_logins_work_and_never_ask_the_provider_while_sign_on_is_on(world, unreachable_provider):
    client = Client()
    response = client.post("/accounts/login/", {"username": world.official.username, "password": f.PASSWORD})
    assert response.status_code == 302 and client.get("/programme/").status_code == 200


def test_a_callback_this_session_did_not_start_is_refused_before_anything_is_asked(world, unreachable_provider):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    response = client.get("/accounts/sso/callback/?code=stolen&state=forged", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "could not be confirmed" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_refusal_from_the_provider_is_said_so(world, unreachable_provider):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/accounts/sso/callback/?error=access_denied&state=s", follow=True)
    assert "cancelled or refused by the identity provider" in response.content.decode()


def test_the_backend_ignores_every_other_sign_in(world, unreachable_provider, rf):
    request = rf.get("/accounts/login/?code=c&state=s")
    assert sso.PortalOIDCBackend().authenticate(request, username="x", password="y") is None
    assert sso.PortalOIDCBackend().authenticate(request, nonce="n", code_verifier="v") is None


def test_an_id_token_for_another_client_or_from_another_issuer_is_refused(world, unreachable_provider):
    import time

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.exceptions import SuspiciousOperation

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    backend = sso.PortalOIDCBackend()
    backend.OIDC_RP_SIGN_ALGO = "RS256"
    backend.OIDC_RP_CLIENT_SECRET = "unused"
    backend.OIDC_RP_IDP_SIGN_KEY = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def token(**claims):
        now = int(time.time())
        body = {"iss": unreachable_provider.PORTAL_OIDC_ISSUER, "aud": "gpu-portal", "sub": "s1", "nonce": "n",
                "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, key, algorithm="RS256")

    assert backend.verify_token(token(), nonce="n")["sub"] == "s1"
    assert backend.verify_token(token(aud=["other", "gpu-portal"]), nonce="n")["sub"] == "s1"
    for wrong in ({"aud": "another-client"}, {"iss": "https://elsewhere.example"}):
        with pytest.raises(SuspiciousOperation):
            backend.verify_token(token(**wrong), nonce="n")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token(), nonce="another nonce")
