"""Security headers: a Content-Security-Policy with no inline script of any kind, Permissions-
Policy on every response, HSTS with includeSubDomains over HTTPS; and no page that needs an
inline script (the policy would block it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("url, role", [("/lending/", None), ("/accounts/login/", None), ("/programme/", "admin"),
                                       ("/api/docs/", "admin"), ("/admin/login/", None)])
def test_pages_carry_a_csp_without_inline_script(world, served, url, role):
    response = served.page(world.user(role) if role else None).get(url)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in " ".join(policy["script-src"] + policy["style-src"] + policy["style-src-elem"])
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["/lending/", "/api/v1/lending/calendar/", "/projects/%00/", "/healthz"])
def test_every_response_carries_permissions_policy(served, url, db):
    response = served.page(None).get(url)
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_https_responses_carry_hsts_with_subdomains(served, db):
    response = served.page(None).get("/lending/", secure=True)
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert "Strict-Transport-Security" not in served.page(None).get("/lending/")  # never over plain HTTP


def test_no_template_has_an_inline_script_or_event_handler():
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "javascript:" in text:
            found.append(str(path.relative_to(TEMPLATES)))
    assert not found, found


@pytest.mark.parametrize("url", ["/programme/", "/projects/PA-001/", "/monitoring/board/", "/api/docs/", "/admin/",
                                 "/admin/allocation_portal/user/", "/lending/", "/accounts/password/", "/accounts/token/"])
def test_rendered_pages_have_no_inline_script(world, served, clock, url):
    html = served.page(world.admin).get(url).content.decode()
    assert not INLINE_SCRIPT.search(html.replace('type="application/json"', 'src="json"')), url
    assert not INLINE_HANDLER.search(html), url
