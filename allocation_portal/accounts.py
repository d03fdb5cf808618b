"""Accounts: password changes and resets, login lockout (django-axes) and unlocking, API tokens.

Every write here is a service: keyword-only, atomic, audited in the same transaction. Audit
events never hold a password, a hash or a token key."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from . import audit
from .errors import NotPermitted
from .messages import msg
from .models import AuditEvent, User

# --- Passwords ----------------------------------------------------------------------------------


def password_set(*, actor, user: User, password: str) -> User:
    """Set a user's password: their own change (actor is the user) or an MSIT admin's reset in the
    Django admin. The caller has validated the password (Django's password forms do)."""
    if actor is None or not (actor.pk == user.pk or actor.is_msit_admin):
        raise NotPermitted(_("Only the user or an MSIT admin can set this password."))
    own = actor.pk == user.pk
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            actor=actor, action="account.password_change" if own else "account.password_reset", obj=user,
            object_repr=user.get_username(),
            reason=msg(gettext_noop("Changed by the user.") if own else gettext_noop("Reset by an MSIT admin.")),
        )
    return user


# --- Login lockout (django-axes) ------------------------------------------------------------------


def lockout_record(*, username: str, ip_address: str) -> None:
    """The audit event of a lockout. Axes decides and counts; this only records it, once while
    the lockout lasts for the account or the address (axes announces every refused attempt, and
    an attacker may rotate addresses against one account, or names from one address)."""
    user = User.objects.filter(username=username).first() if username else None
    object_id = str(user.public_id) if user else (username or "")[:64]
    recent = AuditEvent.objects.filter(
        Q(object_id=object_id) | Q(after__ip_address=ip_address),
        action="account.locked_out", at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    )
    if recent.exists():
        return
    with transaction.atomic():
        audit.record(
            actor=None, action="account.locked_out", obj=user, object_type="allocation_portal.user",
            object_id=object_id, object_repr=(username or "")[:150],
            after={"username": username, "ip_address": ip_address, "failure_limit": settings.AXES_FAILURE_LIMIT},
        )


def account_unlock(*, actor, username: str | None = None, ip_address: str | None = None) -> int:
    """Lift a lockout by account, by address, or both (MSIT admins); returns the attempts cleared."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin can unlock an account."))
    if not username and not ip_address:
        return 0
    with transaction.atomic():
        attempts = AccessAttempt.objects.all()
        if username:
            attempts = attempts.filter(username=username)
        if ip_address:
            attempts = attempts.filter(ip_address=ip_address)
        before = list(attempts.values("username", "ip_address", "failures_since_start"))
        cleared, _per_model = attempts.delete()
        user = User.objects.filter(username=username).first() if username else None
        audit.record(
            actor=actor, action="account.unlock", obj=user, object_type="allocation_portal.user",
            object_id=str(user.public_id) if user else (username or ip_address or "")[:64],
            object_repr=(username or ip_address or "")[:150],
            before={"attempts": before}, after={"username": username, "ip_address": ip_address},
            reason=msg(gettext_noop("Unlocked by an MSIT admin.")),
        )
    return cleared


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked-out login (the portal's and the admin's): a page in the visitor's
    language (Korean first) saying how long, and who can unlock it."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request, "accounts/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


# --- API tokens -----------------------------------------------------------------------------------


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.PORTAL_API_TOKEN_DAYS)


def token_expires_at(token: Token) -> dt.datetime:
    return token.created + token_lifetime()


def token_issue(*, actor, user: User) -> Token:
    """A new API token for the user (their own only), replacing the one they had: renewal is a
    new key with a new lifetime. The key is shown once, to the caller; it is not audited."""
    if actor is None or actor.pk != user.pk or not user.is_active:
        raise NotPermitted(_("You can only get an API token for yourself."))
    with transaction.atomic():
        previous = Token.objects.select_for_update().filter(user=user).first()
        before = {"created": previous.created.isoformat()} if previous else None
        if previous is not None:
            previous.delete()
        token = Token.objects.create(user=user)
        audit.record(
            actor=actor, action="token.renew" if previous else "token.issue", obj=user,
            object_repr=user.get_username(), before=before,
            after={"created": token.created.isoformat(), "expires": token_expires_at(token).isoformat()},
        )
    return token


def token_revoke(*, actor, user: User) -> bool:
    """Revoke the user's API token: the user themselves, or an MSIT admin. False if there was none."""
    if actor is None or not (actor.pk == user.pk or actor.is_msit_admin):
        raise NotPermitted(_("Only the user or an MSIT admin can revoke this token."))
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is None:
            return False
        before = {"created": token.created.isoformat(), "expires": token_expires_at(token).isoformat()}
        token.delete()
        audit.record(
            actor=actor, action="token.revoke", obj=user, object_repr=user.get_username(), before=before,
            reason=msg(gettext_noop("Revoked by the user.") if actor.pk == user.pk else gettext_noop("Revoked by an MSIT admin.")),
        )
    return True


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the portal's lifetime (settings.PORTAL_API_TOKEN_DAYS from
    when the token was issued or renewed)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            raise exceptions.AuthenticationFailed(
                _("The API token expired on %(date)s. Renew it on the API token page.")
                % {"date": timezone.localtime(token_expires_at(token)).strftime("%Y-%m-%d %H:%M")}
            )
        return user, token
