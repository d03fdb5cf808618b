"""The second factor (2단계 인증): an authenticator app's time-based codes (TOTP, django-otp) and ten
single-use recovery codes.

- MSIT admins and provider operators must enrol, and give a code at every sign-in (password or
  single sign-on), before any other page or any session use of the API. Anyone else may enrol from
  their account menu, and is then asked for a code at every sign-in too. No setting turns this off.
- API tokens (machines) are not asked: a token is issued only from a session that gave the second
  factor, and it is revoked or renewed there.
- A session's second-factor state lives in the session itself (no query per request): whether the
  account has an authenticator (looked up once per session) and the device that verified it.
  Enrolling or resetting changes the account's session hash (User.second_factor_changed_at), so
  every other session of the account ends, as after a password change.
- Wrong codes are throttled per account (django-otp: the wait doubles with each failure in a row);
  every PORTAL_SECOND_FACTOR_FAILURE_BURST failures in a row are an audit event. Enrolments, resets
  each use of a recovery code and each new set of recovery codes are audit events (never with a
  secret or a code).
"""

from __future__ import annotations

import datetime as dt
import time
from binascii import unhexlify
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from rest_framework import authentication, exceptions

from . import audit
from .errors import NotPermitted, StateConflict, ValidationFailed
from .messages import msg
from .models import User

# "device": the account has an authenticator; "none": it has not (yet). Looked up once per session.
STATE_SESSION_KEY = "portal_second_factor"
# The secret being enrolled, until its first code is confirmed (never stored before then).
ENROL_KEY_SESSION_KEY = "portal_second_factor_enrol_key"
TOTP_DIGITS = 6
TOLERANCE = 1  # one 30-second step either side, for phones whose clock is a little off

# Pages an account waiting for its second factor may still open.
OPEN_URL_NAMES = frozenset({
    "second-factor-verify", "second-factor-enrol", "logout", "set_language", "javascript-catalog",
    "healthz", "ping", "favicon", "privacy",
})


# --- The session's state ------------------------------------------------------------------------


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_state(request, user: User) -> str:
    state = request.session.get(STATE_SESSION_KEY)
    if state not in ("device", "none"):
        state = "device" if has_authenticator(user) else "none"
        request.session[STATE_SESSION_KEY] = state
    return state


def is_verified(request) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def pending(request, user) -> str | None:
    """What a signed-in session still has to do: "verify" (give a code), "enrol" (set up an
    authenticator first), or None."""
    if user is None or not user.is_authenticated or is_verified(request):
        return None
    if session_state(request, user) == "device":
        return "verify"
    return "enrol" if user.needs_second_factor else None


def mark_verified(request, device) -> None:
    """This session gave its second factor with `device`."""
    otp_login(request, device)
    request.session[STATE_SESSION_KEY] = "device"


def mark_unenrolled(request) -> None:
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[STATE_SESSION_KEY] = "none"


def step_url(step: str, next_url: str = "") -> str:
    url = reverse("second-factor-verify" if step == "verify" else "second-factor-enrol")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class SecondFactorMiddleware:
    """Sends a signed-in account that still owes its second factor to the verification (or
    enrolment) page before any other page. The API answers for itself (SessionAuthentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.path.startswith("/api/") or (match and match.url_name in OPEN_URL_NAMES):
            return None
        step = pending(request, request.user)
        if step is None:
            return None
        return redirect(step_url(step, request.get_full_path() if request.method == "GET" else ""))


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refused (401) while the session owes its second factor."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and pending(request._request, result[0]):
            raise exceptions.AuthenticationFailed(
                _("Give your second factor on the portal's sign-in page before using the API from this session."),
                code="second_factor_required",
            )
        return result


# --- Enrolment ----------------------------------------------------------------------------------


def enrolment_key(request) -> str:
    """The secret shown on the enrolment page, kept in the session until a code confirms it."""
    key = request.session.get(ENROL_KEY_SESSION_KEY)
    if not key:
        key = random_hex(20)
        request.session[ENROL_KEY_SESSION_KEY] = key
    return key


def provisioning(user: User, key: str) -> dict[str, str]:
    """What an authenticator app needs: the otpauth:// address (for the QR code) and the secret
    written out (base32, in groups of four) for typing in."""
    device = TOTPDevice(user=user, key=key, digits=TOTP_DIGITS)
    url = device.config_url
    secret = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))["secret"]
    return {"url": url, "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))}


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _matching_step(key: str, code: str) -> TOTP | None:
    code = _clean_code(code)
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = TOTP(unhexlify(key.encode()), digits=TOTP_DIGITS)
    totp.time = time.time()
    return totp if totp.verify(int(code), tolerance=TOLERANCE) else None


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes by PORTAL_RECOVERY_CODES new ones (in the caller's transaction)."""
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes: list[str] = []
    while len(codes) < settings.PORTAL_RECOVERY_CODES:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=token) for token in codes)
    return codes


def second_factor_enrol(*, actor, user: User, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Enrol an authenticator (its secret `key`, confirmed by one of its codes) and make ten new
    recovery codes, replacing whatever the account had. Returns the device and the recovery codes,
    which are shown once and never again."""
    if actor is None or actor.pk != user.pk or not user.is_active:
        raise NotPermitted(_("You can only set up a second factor for yourself."))
    totp = _matching_step(key, code)
    if totp is None:
        raise ValidationFailed(
            _("That code does not match. Type the 6 digits your authenticator app shows now."),
            fields={"code": _("That code does not match. Type the 6 digits your authenticator app shows now.")},
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        had = TOTPDevice.objects.filter(user=user).exists()
        TOTPDevice.objects.filter(user=user).delete()  # the recovery codes are replaced below
        # last_t: the code just used cannot be used again to sign in.
        device = TOTPDevice.objects.create(user=user, name="authenticator", key=key, digits=TOTP_DIGITS,
                                           tolerance=TOLERANCE, confirmed=True, last_t=totp.t(), drift=totp.drift)
        codes = _new_recovery_codes(user)
        user.second_factor_changed_at = timezone.now()
        user.save(update_fields=["second_factor_changed_at"])
        audit.record(
            actor=actor, action="account.second_factor_enrol", obj=user, object_repr=user.get_username(),
            before={"enrolled": had}, after={"enrolled": True, "recovery_codes": len(codes)},
            reason=msg(gettext_noop("Set up again by the user.") if had else gettext_noop("Set up by the user.")),
        )
    return device, codes


def second_factor_reset(*, actor, user: User) -> bool:
    """Remove the account's authenticator and recovery codes: the user themselves (to enrol a new
    phone) or an MSIT admin (for someone who lost theirs). Every session of the account ends; a
    role that must use a second factor enrols again at its next sign-in. False if there was none."""
    if actor is None or not (actor.pk == user.pk or actor.is_msit_admin):
        raise NotPermitted(_("Only the user or an MSIT admin can reset this second factor."))
    own = actor.pk == user.pk
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        devices = TOTPDevice.objects.filter(user=user)
        if not devices.exists():
            return False
        left = StaticToken.objects.filter(device__user=user).count()
        devices.delete()
        StaticDevice.objects.filter(user=user).delete()
        user.second_factor_changed_at = timezone.now()
        user.save(update_fields=["second_factor_changed_at"])
        audit.record(
            actor=actor, action="account.second_factor_reset", obj=user, object_repr=user.get_username(),
            before={"enrolled": True, "recovery_codes_left": left}, after={"enrolled": False},
            reason=msg(gettext_noop("Reset by the user.") if own else gettext_noop("Reset by an MSIT admin.")),
        )
    return True


def recovery_codes_renew(*, actor, user: User) -> list[str]:
    """Ten new recovery codes for the user's own account (after its password, on the page), replacing the
    old ones, which stop working at once. The authenticator and the sessions stay. Shown once."""
    if actor is None or actor.pk != user.pk or not user.is_active:
        raise NotPermitted(_("Only you can make new recovery codes for your account."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise StateConflict(_("Set up a second factor first: recovery codes belong to it."))
        left = StaticToken.objects.filter(device__user=user).count()
        codes = _new_recovery_codes(user)
        audit.record(
            actor=actor, action="account.recovery_codes_renew", obj=user, object_repr=user.get_username(),
            before={"recovery_codes_left": left}, after={"recovery_codes": len(codes)},
            reason=msg(gettext_noop("Made by the user; the old codes no longer work.")),
        )
    return codes


# --- Verification -------------------------------------------------------------------------------


@dataclass
class Verification:
    device: TOTPDevice | StaticDevice | None = None
    # When the account may try again (too many wrong codes in a row).
    locked_until: dt.datetime | None = None
    recovery_codes_left: int | None = None
    wrong: bool = False  # a code was checked and did not match

    @property
    def wait_seconds(self) -> int:
        if self.locked_until is None:
            return 0
        return max(1, int((self.locked_until - timezone.now()).total_seconds() + 0.999))


def _locked_until(device: TOTPDevice) -> dt.datetime | None:
    allowed, info = device.verify_is_allowed()
    return None if allowed else (info or {}).get("locked_until") or timezone.now()


def second_factor_verify(*, user: User, code: str, ip_address: str | None = None) -> Verification:
    """Check a code from the authenticator app, or a recovery code (used up by this). One throttle
    per account counts both kinds of wrong code."""
    code = _clean_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not user.is_active:
            return Verification()
        locked = _locked_until(device)
        if locked is not None:
            return Verification(locked_until=locked)
        if len(code) == TOTP_DIGITS and code.isascii() and code.isdigit():
            if device.verify_token(code):  # resets the throttle, or counts the failure
                return Verification(device=device)
        else:
            token = (StaticToken.objects.select_for_update().filter(device__user=user, device__confirmed=True, token=code)
                     .select_related("device").first()) if code else None
            if token is not None:
                recovery = token.device
                token.delete()
                device.throttle_reset(commit=True)
                left = StaticToken.objects.filter(device__user=user).count()
                audit.record(
                    actor=user, action="account.recovery_code_used", obj=user, object_repr=user.get_username(),
                    after={"recovery_codes_left": left, "ip_address": ip_address},
                )
                return Verification(device=recovery, recovery_codes_left=left)
            device.throttle_increment(commit=True)
        failures = device.throttling_failure_count
        burst = settings.PORTAL_SECOND_FACTOR_FAILURE_BURST
        if burst and failures % burst == 0:
            audit.record(
                actor=None, action="account.second_factor_failures", obj=user, object_repr=user.get_username(),
                after={"failures_in_a_row": failures, "ip_address": ip_address},
            )
    return Verification(locked_until=_locked_until(device), wrong=True)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()
