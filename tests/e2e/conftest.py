"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail(f"Chromium not found at {CHROMIUM}: the test command installs Debian's chromium.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str) -> None:
    """Log in through the login page and, for an account with an authenticator (MSIT admins and
    provider operators always have one: tests.factories), type its current code on the second step."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/accounts/second-factor/verify/" in page.url:
        give_code(page, username)


def give_code(page, username: str) -> None:
    from allocation_portal.models import User
    from tests.factories import totp_code

    page.fill("#id_code", totp_code(User.objects.get(username=username)))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def login(page):
    def do(username: str, password: str):
        sign_in(page, username, password)

    return do
