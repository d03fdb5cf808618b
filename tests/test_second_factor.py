"""The second factor: required for MSIT admins and provider operators (pages and session API), optional
for everyone else; enrolment with a QR code and one code, ten single-use recovery codes, throttled
wrong codes, resets by the user and by an MSIT admin, all audited. Every session here signs in for
real (password, then a code computed from the account's secret like an authenticator app)."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from allocation_portal.messages import render
from allocation_portal.models import AuditEvent, Role, User
from tests import factories as f

pytestmark = pytest.mark.django_db

VERIFY = "/accounts/second-factor/verify/"
ENROL = "/accounts/second-factor/set-up/"


def password_login(user, lang="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    response = client.post("/accounts/login/", {"username": user.username, "password": f.PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    return client


def code_for_secret(secret: str) -> str:
    """What an authenticator app shows for the secret it was given (base32, as on the page)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    return f"{totp.token():06d}"


def enrol(client) -> list[str]:
    page = client.get(ENROL).content.decode()
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page).group(1)
    response = client.post(ENROL, {"code": code_for_secret(secret)})
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


def test_an_msit_admin_gives_a_code_after_the_password_before_any_page_or_session_api_use(world):
    client = password_login(world.admin)
    page = client.get("/programme/")
    assert page.status_code == 302 and page["Location"] == f"{VERIFY}?next=%2Fprogramme%2F"
    assert client.get("/admin/").status_code == 302
    refused = client.get("/api/v1/projects/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "second_factor_required"
    # A wrong code: the form again with the reason.
    wrong = client.post(VERIFY, {"code": "000000" if f.totp_code(world.admin) != "000000" else "111111", "next": "/programme/"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2)):  # a wrong code makes the next one wait 1 s
        right = client.post(VERIFY, {"code": f.totp_code(world.admin), "next": "/programme/"})
        assert right.status_code == 302 and right["Location"] == "/programme/"
        assert client.get("/programme/").status_code == 200
        assert client.get("/api/v1/projects/").status_code == 200


def test_the_next_address_after_the_code_stays_on_the_portal(world):
    client = password_login(world.admin)
    right = client.post(VERIFY, {"code": f.totp_code(world.admin), "next": "https://evil.example/"})
    assert right.status_code == 302 and right["Location"] == "/"


def test_a_code_once_used_does_not_sign_in_again(world):
    code = f.totp_code(world.admin)
    first = password_login(world.admin)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = password_login(world.admin)
    assert second.post(VERIFY, {"code": code}).status_code == 400


def test_a_provider_operator_and_a_superuser_must_give_one_too(world):
    for user in (world.provider, f.make_user(Role.AUDITOR, is_superuser=True, second_factor=True)):
        client = password_login(user)
        assert client.get("/metering/")["Location"].startswith(VERIFY)


def test_an_admin_without_an_authenticator_sets_one_up_first_and_gets_ten_recovery_codes(world):
    admin = f.make_user(Role.ADMIN, second_factor=False)
    client = password_login(admin, lang="ko")
    assert client.get("/programme/")["Location"].startswith(ENROL)
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "2단계 인증" in html
    assert client.get(VERIFY)["Location"].startswith(ENROL)  # nothing to verify yet
    # A wrong code sets nothing up.
    wrong = client.post(ENROL, {"code": "12345"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.filter(user=admin).exists()
    codes = enrol(client)
    assert len(codes) == 10 == len(set(codes))
    assert client.get("/programme/").status_code == 200  # this session gave the factor by setting it up
    event = AuditEvent.objects.get(action="account.second_factor_enrol")
    assert event.object_id == str(admin.public_id) and event.after == {"enrolled": True, "recovery_codes": 10}
    assert not any(code in str((event.before, event.after, event.reason)) for code in codes)
    assert TOTPDevice.objects.get(user=admin).key not in str(event.after)
    # Someone who has one replaces it through the reset, not by setting up another.
    assert client.get(ENROL)["Location"] == "/accounts/second-factor/"

    # A recovery code works once, instead of the app's code.
    again = password_login(admin)
    used = again.post(VERIFY, {"code": codes[0].upper(), "next": "/programme/"})
    assert used.status_code == 302 and again.get("/programme/").status_code == 200
    assert StaticToken.objects.filter(device__user=admin).count() == 9
    assert AuditEvent.objects.get(action="account.recovery_code_used").after["recovery_codes_left"] == 9
    third = password_login(admin)
    assert third.post(VERIFY, {"code": codes[0]}).status_code == 400


def test_others_sign_in_without_one_may_set_one_up_and_are_then_asked_for_it(world):
    client = password_login(world.official)
    assert client.get("/programme/").status_code == 200
    assert "/accounts/second-factor/" in client.get("/programme/").content.decode()  # in the account menu
    enrol(client)
    later = password_login(world.official)
    assert later.get("/programme/")["Location"].startswith(VERIFY)
    assert later.post(VERIFY, {"code": f.totp_code(world.official)}).status_code == 302
    assert later.get("/programme/").status_code == 200


def test_setting_one_up_signs_out_the_accounts_other_sessions(world):
    elsewhere = password_login(world.official)
    assert elsewhere.get("/programme/").status_code == 200
    enrol(password_login(world.official))
    assert elsewhere.get("/programme/")["Location"].startswith("/accounts/login/")


def test_api_tokens_are_not_asked_for_a_second_factor(world, api_for):
    assert api_for(world.admin).get("/api/v1/projects/").status_code == 200
    assert api_for(world.provider).get("/api/v1/token/").status_code == 200


def test_wrong_codes_are_throttled_per_account_and_each_burst_of_five_is_audited(world, settings):
    client = password_login(world.admin, lang="ko")
    right = f.totp_code(world.admin)
    wrong = "000000" if right != "000000" else "111111"
    moment = timezone.now()
    with time_machine.travel(moment, tick=False) as traveller:
        for attempt in range(settings.PORTAL_SECOND_FACTOR_FAILURE_BURST):
            response = client.post(VERIFY, {"code": wrong})
            assert response.status_code == 400
            traveller.shift(dt.timedelta(seconds=2 ** attempt + 1))  # past the wait, which doubles
        device = TOTPDevice.objects.get(user=world.admin)
        assert device.throttling_failure_count == 5
        events = AuditEvent.objects.filter(action="account.second_factor_failures")
        assert events.count() == 1 and events.get().after["failures_in_a_row"] == 5
        assert events.get().object_id == str(world.admin.public_id)
        # Straight after a failure even the right code waits, and says for how long (Korean first).
        client.post(VERIFY, {"code": wrong})
        locked = client.post(VERIFY, {"code": f.totp_code(world.admin)})
        assert locked.status_code == 400 and "초 후에 다시" in locked.content.decode()
        assert client.get("/programme/").status_code == 302
        traveller.shift(dt.timedelta(seconds=2 ** 5 + 1))
        assert client.post(VERIFY, {"code": f.totp_code(world.admin)}).status_code == 302
    assert TOTPDevice.objects.get(user=world.admin).throttling_failure_count == 0


def test_wrong_recovery_codes_count_against_the_same_throttle(world):
    client = password_login(world.admin)
    client.post(VERIFY, {"code": "notacode"})
    assert TOTPDevice.objects.get(user=world.admin).throttling_failure_count == 1
    locked = client.post(VERIFY, {"code": f.totp_code(world.admin)})
    assert locked.status_code == 400 and "Wait" in locked.content.decode()


def test_a_user_resets_their_own_after_giving_their_password_and_sets_up_again(world, client_for):
    admin = world.admin
    client = password_login(admin)
    client.post(VERIFY, {"code": f.totp_code(admin)})
    elsewhere = client_for(admin)
    assert elsewhere.get("/programme/").status_code == 200
    wrong = client.post("/accounts/second-factor/reset/", {"password": "not-my-password"})
    assert wrong.status_code == 400 and TOTPDevice.objects.filter(user=admin).exists()
    reset = client.post("/accounts/second-factor/reset/", {"password": f.PASSWORD})
    assert reset.status_code == 302 and reset["Location"] == ENROL  # an admin sets up the new one at once
    assert not TOTPDevice.objects.filter(user=admin).exists() and not StaticToken.objects.filter(device__user=admin).exists()
    assert client.get("/programme/")["Location"].startswith(ENROL)
    assert elsewhere.get("/programme/")["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="account.second_factor_reset")
    assert event.actor == admin and event.before == {"enrolled": True, "recovery_codes_left": 0}
    enrol(client)
    assert client.get("/programme/").status_code == 200


def test_a_user_with_few_recovery_codes_left_makes_ten_new_ones_after_giving_their_password(world):
    """The old codes stop working, the authenticator stays, this session stays signed in; audited,
    never with a code."""
    client = password_login(world.applicant)
    codes = enrol(client)
    page = client.get("/accounts/second-factor/").content.decode()
    assert 'href="/accounts/second-factor/recovery-codes/"' in page and "few-recovery-codes" not in page
    StaticToken.objects.filter(device__user=world.applicant, token__in=codes[3:]).delete()  # three left
    assert "few-recovery-codes" not in client.get("/accounts/second-factor/").content.decode()
    StaticToken.objects.filter(device__user=world.applicant, token=codes[2]).delete()
    assert "few-recovery-codes" in client.get("/accounts/second-factor/").content.decode()
    codes = codes[:2]
    wrong = client.post("/accounts/second-factor/recovery-codes/", {"password": "not-my-password"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()
    assert sorted(StaticToken.objects.filter(device__user=world.applicant).values_list("token", flat=True)) == sorted(codes)
    made = client.post("/accounts/second-factor/recovery-codes/", {"password": f.PASSWORD})
    assert made.status_code == 200
    fresh = re.findall(r"<li><code>([a-z0-9]+)</code></li>", made.content.decode())
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert sorted(StaticToken.objects.filter(device__user=world.applicant).values_list("token", flat=True)) == sorted(fresh)
    assert TOTPDevice.objects.filter(user=world.applicant).exists()
    assert client.get("/accounts/second-factor/").status_code == 200  # still signed in
    event = AuditEvent.objects.get(action="account.recovery_codes_renew")
    assert event.actor == world.applicant and event.before == {"recovery_codes_left": 2}
    assert event.after == {"recovery_codes": 10} and not any(c in str(event.after) for c in fresh)
    # A new code signs in; an old one no longer does.
    assert password_login(world.applicant).post(VERIFY, {"code": fresh[0]}).status_code == 302
    assert password_login(world.applicant).post(VERIFY, {"code": codes[1]}).status_code == 400


def test_without_an_authenticator_there_are_no_recovery_codes_to_renew(world):
    client = password_login(world.applicant)
    assert client.get("/accounts/second-factor/recovery-codes/")["Location"] == "/accounts/second-factor/"
    from allocation_portal.errors import NotPermitted, StateConflict
    from allocation_portal.second_factor import recovery_codes_renew

    with pytest.raises(StateConflict):
        recovery_codes_renew(actor=world.applicant, user=world.applicant)
    with pytest.raises(NotPermitted):
        recovery_codes_renew(actor=world.admin, user=world.applicant)


def test_an_msit_admin_resets_someone_elses_in_the_django_admin(world, client_for):
    operator = world.provider
    operators_session = client_for(operator)
    assert operators_session.get("/metering/").status_code == 200
    response = client_for(world.admin).post("/admin/allocation_portal/user/", {
        "action": "reset_second_factors", "_selected_action": [operator.pk], "index": 0})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=operator).exists()
    event = AuditEvent.objects.get(action="account.second_factor_reset")
    assert event.actor == world.admin and event.object_id == str(operator.public_id)
    assert render(event.reason_msg, "en") == "Reset by an MSIT admin."  # stored as its message, read in each language
    # The operator's session ended; at the next sign-in they set up a new authenticator.
    assert operators_session.get("/metering/")["Location"].startswith("/accounts/login/")
    assert password_login(operator).get("/metering/")["Location"].startswith(ENROL)


def test_only_the_user_or_an_msit_admin_may_reset_it(world):
    from allocation_portal.errors import NotPermitted
    from allocation_portal.second_factor import second_factor_reset

    with pytest.raises(NotPermitted):
        second_factor_reset(actor=world.auditor, user=world.admin)
    assert TOTPDevice.objects.filter(user=world.admin).exists()


def test_the_admin_user_list_says_who_has_one(world, client_for):
    page = client_for(world.admin).get("/admin/allocation_portal/user/").content.decode()
    assert "Second factor" in page


def test_accounts_that_never_set_one_up_keep_their_session_hash(world):
    # Sessions opened before the portal had a second factor stay valid after the upgrade.
    user = User.objects.get(pk=world.official.pk)
    from django.contrib.auth.base_user import AbstractBaseUser

    assert user.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(user)
