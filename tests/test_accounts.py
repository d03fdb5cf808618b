"""Accounts under attack: login lockout per account and per address, the unlock, throttles, the
sign-up rate, expiring and revocable API tokens, and audited password changes and resets."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from allocation_portal.models import AuditEvent, Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str, address: str = "203.0.113.10"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def no_secrets_in(events) -> None:
    text = str([(e.before, e.after, e.reason) for e in events])
    assert "pbkdf2" not in text and "md5$" not in text and f.PASSWORD not in text


# --- Lockout ---------------------------------------------------------------------------------------


def test_thirty_wrong_passwords_lock_the_account_from_any_address(world, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    responses = [login(client, world.official.username, "wrong-password", f"203.0.113.{i}") for i in range(30)]
    assert responses[0].status_code == 200  # the login page again, with its error
    assert responses[-1].status_code == 429
    # Locked: even the right password, from a new address, is refused until the cool-off ends.
    refused = login(client, world.official.username, f.PASSWORD, "198.51.100.7")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "로그인 잠김" in page and "과기정통부 담당자" in page and str(settings.AXES_FAILURE_LIMIT) in page
    assert "_auth_user_id" not in client.session
    # One audit event for the lockout, not one per refused attempt.
    events = AuditEvent.objects.filter(action="account.locked_out")
    assert events.count() == 1 and events.get().object_id == str(world.official.public_id)
    assert events.get().after["failure_limit"] == settings.AXES_FAILURE_LIMIT
    no_secrets_in(events)


def test_the_lock_lasts_the_cool_off_and_then_lifts(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, world.auditor.username, "wrong-password")
    assert login(client, world.auditor.username, f.PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1), tick=False):
        assert login(client, world.auditor.username, f.PASSWORD).status_code == 302


def test_wrong_passwords_from_one_address_lock_that_address(world, settings):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, f"nobody{i}", "wrong-password", "203.0.113.99")
    assert login(client, world.admin.username, f.PASSWORD, "203.0.113.99").status_code == 429
    assert login(Client(), world.admin.username, f.PASSWORD, "203.0.113.100").status_code == 302


def test_the_admins_login_is_locked_too(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": world.admin.username, "password": "wrong"}, REMOTE_ADDR="203.0.113.5")
    response = client.post("/admin/login/", {"username": world.admin.username, "password": f.PASSWORD},
                           REMOTE_ADDR="203.0.113.6")
    assert response.status_code == 429


def test_an_msit_admin_unlocks_an_account_in_the_django_admin(world, settings, client_for):
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), world.official.username, "wrong-password", f"203.0.113.{i}")
    assert login(Client(), world.official.username, f.PASSWORD, "203.0.113.50").status_code == 429
    admin = client_for(world.admin)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    response = admin.post("/admin/allocation_portal/user/", {
        "action": "unlock_logins", "_selected_action": [world.official.pk],
    })
    assert response.status_code == 302
    assert login(Client(), world.official.username, f.PASSWORD, "203.0.113.50").status_code == 302
    unlock = AuditEvent.objects.get(action="account.unlock")
    assert unlock.actor == world.admin and unlock.object_id == str(world.official.public_id)


def test_only_msit_admins_unlock(world):
    from allocation_portal.accounts import account_unlock
    from allocation_portal.errors import NotPermitted

    for user in (world.official, world.auditor, world.applicant):
        with pytest.raises(NotPermitted):
            account_unlock(actor=user, username=world.official.username)


def test_a_forged_forwarded_address_does_not_pick_the_lock(world, settings):
    """Without a proxy in front, X-Forwarded-For is the caller's to invent: it is not used."""
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": f"x{i}", "password": "w"}, REMOTE_ADDR="203.0.113.77",
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert login(client, world.admin.username, f.PASSWORD, "203.0.113.77").status_code == 429


# --- Throttles -------------------------------------------------------------------------------------


@pytest.fixture
def fresh_counters():
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def test_anonymous_api_calls_are_throttled_by_address(world, settings, fresh_counters):
    settings.PORTAL_THROTTLE_RATES = {**settings.PORTAL_THROTTLE_RATES, "anon": "3/minute"}
    api = APIClient()
    assert [api.get("/api/v1/lending/calendar/").status_code for _ in range(3)] == [200] * 3
    throttled = api.get("/api/v1/lending/calendar/")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert set(throttled.json()["error"]) == {"code", "message", "fields"}
    assert throttled.json()["error"]["code"] == "throttled"
    assert APIClient(REMOTE_ADDR="203.0.113.1").get("/api/v1/lending/calendar/").status_code == 200


def test_users_are_throttled_by_account(world, settings, fresh_counters, api_for):
    settings.PORTAL_THROTTLE_RATES = {**settings.PORTAL_THROTTLE_RATES, "user": "5/minute"}
    api = api_for(world.admin)
    assert [api.get("/api/v1/projects/").status_code for _ in range(5)] == [200] * 5
    assert api.get("/api/v1/projects/").status_code == 429
    assert api_for(world.auditor).get("/api/v1/projects/").status_code == 200


def test_sign_ups_are_rate_limited_by_address(db, settings, fresh_counters):
    from lending.models import Organisation

    settings.PORTAL_THROTTLE_RATES = {**settings.PORTAL_THROTTLE_RATES, "signup": "2/hour"}

    def signup(i):
        return Client(HTTP_ACCEPT_LANGUAGE="ko").post("/lending/signup/", {
            "name": f"기관 {i}", "kind": "academia", "region": "non_capital", "registration_number": f"123-45-6789{i}",
            "display_name": f"신청자 {i}", "username": f"signup{i}", "email": f"s{i}@example.kr",
            "password": "a-long-pass-phrase", "password_again": "a-long-pass-phrase", "privacy_consent": "on",
        }, REMOTE_ADDR="203.0.113.20")

    assert [signup(i).status_code for i in range(2)] == [302, 302]
    refused = signup(3)
    assert refused.status_code == 429 and "Retry-After" in refused
    assert "너무 많습니다" in refused.content.decode()
    assert Organisation.objects.count() == 2


# --- API tokens ------------------------------------------------------------------------------------


def token_client(key: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_an_api_token_expires_after_its_lifetime(world, settings):
    token = Token.objects.create(user=world.official)
    assert token_client(token.key).get("/api/v1/projects/").status_code == 200
    later = token.created + dt.timedelta(days=settings.PORTAL_API_TOKEN_DAYS, minutes=1)
    with time_machine.travel(later, tick=False):
        response = token_client(token.key).get("/api/v1/projects/")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_a_user_renews_and_revokes_their_own_token(world, settings):
    first = token_client(Token.objects.create(user=world.official).key)
    renewed = first.post("/api/v1/token/")
    assert renewed.status_code == 201
    body = renewed.json()
    assert set(body) == {"user", "user_id", "created", "expires", "key"}
    assert dt.datetime.fromisoformat(body["expires"]) - dt.datetime.fromisoformat(body["created"]) == dt.timedelta(
        days=settings.PORTAL_API_TOKEN_DAYS)
    assert first.get("/api/v1/projects/").status_code == 401  # the old key stopped working
    second = token_client(body["key"])
    assert second.get("/api/v1/token/").json()["user"] == world.official.username
    assert second.delete("/api/v1/token/").status_code == 204
    assert second.get("/api/v1/projects/").status_code == 401
    actions = list(AuditEvent.objects.filter(action__startswith="token.").order_by("id").values_list("action", flat=True))
    assert actions == ["token.renew", "token.revoke"]
    assert body["key"] not in str(list(AuditEvent.objects.values_list("before", "after")))


def test_an_msit_admin_lists_and_revokes_any_users_token(world, api_for):
    token = Token.objects.create(user=world.applicant)
    admin = api_for(world.admin)
    listed = admin.get("/api/v1/tokens/").json()["results"]
    assert world.applicant.username in {row["user"] for row in listed}
    assert "key" not in listed[0]
    assert admin.delete(f"/api/v1/tokens/{world.applicant.public_id}/").status_code == 204
    assert token_client(token.key).get("/api/v1/loans/").status_code == 401
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor == world.admin and event.object_id == str(world.applicant.public_id)


@pytest.mark.parametrize("role", ["official", "applicant", "auditor"])
def test_only_msit_admins_see_or_revoke_other_tokens(world, api_for, role):
    Token.objects.create(user=world.outsider)
    api = api_for(world.user(role))
    assert api.get("/api/v1/tokens/").status_code == 403
    assert api.delete(f"/api/v1/tokens/{world.outsider.public_id}/").status_code == 403
    assert Token.objects.filter(user=world.outsider).exists()


def test_the_token_page_issues_renews_and_revokes(world, client_for):
    page = client_for(world.official)
    assert "no API token" in page.get("/accounts/token/").content.decode()
    issued = page.post("/accounts/token/", {"step": "issue"})
    key = Token.objects.get(user=world.official).key
    assert key in issued.content.decode()
    assert key not in page.get("/accounts/token/").content.decode()  # shown once
    page.post("/accounts/token/", {"step": "revoke"})
    assert not Token.objects.filter(user=world.official).exists()
    assert client_for(None).get("/accounts/token/").status_code == 302


def test_an_msit_admin_revokes_tokens_in_the_django_admin(world, client_for):
    Token.objects.create(user=world.applicant)
    response = client_for(world.admin).post("/admin/allocation_portal/user/", {
        "action": "revoke_api_tokens", "_selected_action": [world.applicant.pk],
    })
    assert response.status_code == 302
    assert not Token.objects.filter(user=world.applicant).exists()
    assert AuditEvent.objects.get(action="token.revoke").actor == world.admin


# --- Passwords -------------------------------------------------------------------------------------


def test_the_password_page_exists_and_is_audited(world, client_for):
    page = client_for(world.applicant, lang="ko")
    form = page.get("/accounts/password/")
    assert form.status_code == 200 and "비밀번호 변경" in form.content.decode()
    done = page.post("/accounts/password/", {
        "old_password": f.PASSWORD, "new_password1": "a-new-long-phrase-2026", "new_password2": "a-new-long-phrase-2026",
    })
    assert done.status_code == 302 and done["Location"] == "/accounts/password/done/"
    assert page.get("/accounts/password/done/").status_code == 200
    assert page.get("/lending/dashboard/").status_code == 200  # still logged in
    world.applicant.refresh_from_db()
    assert world.applicant.check_password("a-new-long-phrase-2026")
    event = AuditEvent.objects.get(action="account.password_change")
    assert event.actor == world.applicant
    no_secrets_in([event])
    assert client_for(None).get("/accounts/password/").status_code == 302


def test_a_wrong_old_password_changes_nothing(world, client_for):
    response = client_for(world.applicant).post("/accounts/password/", {
        "old_password": "not-it", "new_password1": "a-new-long-phrase-2026", "new_password2": "a-new-long-phrase-2026",
    })
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action__startswith="account.password").exists()


def test_a_reset_in_the_django_admin_is_audited(world, client_for):
    response = client_for(world.admin).post(f"/admin/allocation_portal/user/{world.official.pk}/password/", {
        "password1": "reset-by-msit-2026", "password2": "reset-by-msit-2026", "usable_password": "true",
    })
    assert response.status_code == 302, response.content.decode()[-1500:]
    world.official.refresh_from_db()
    assert world.official.check_password("reset-by-msit-2026")
    event = AuditEvent.objects.get(action="account.password_reset")
    assert event.actor == world.admin and event.object_id == str(world.official.public_id)
    no_secrets_in([event])


def test_an_admins_own_change_in_the_django_admin_is_audited(world, client_for):
    admin = client_for(world.admin)
    response = admin.post("/admin/password_change/", {
        "old_password": f.PASSWORD, "new_password1": "msit-new-phrase-2026", "new_password2": "msit-new-phrase-2026",
    })
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="account.password_change").actor == world.admin


def test_nobody_else_sets_a_password(world):
    from allocation_portal.accounts import password_set
    from allocation_portal.errors import NotPermitted

    other = f.make_user(Role.OFFICIAL, ministry=world.ministry_a)
    for actor in (world.official, world.auditor, world.applicant, None):
        with pytest.raises(NotPermitted):
            password_set(actor=actor, user=other, password="whatever-long-2026")


@override_settings(LANGUAGE_CODE="ko")
def test_the_lockout_page_is_korean_first_and_english_available(world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(Client(), world.official.username, "wrong")
    korean = login(Client(), world.official.username, f.PASSWORD).content.decode()
    english = login(Client(HTTP_ACCEPT_LANGUAGE="en"), world.official.username, f.PASSWORD).content.decode()
    assert "로그인 잠김" in korean and "Login locked" in english
