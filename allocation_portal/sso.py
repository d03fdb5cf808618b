"""OpenID Connect single sign-on (mozilla-django-oidc): the authorization code flow with PKCE.

Off unless PORTAL_OIDC_ISSUER, PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET are all set:
then the login page has no button and the sign-on addresses answer 404. The provider's endpoints
come from its /.well-known/openid-configuration (kept an hour) unless set one by one.

A sign-in is matched to an EXISTING, active portal account, never creates one: by the e-mail
address the provider has verified (email_verified true; case-insensitive), or, when
PORTAL_OIDC_USERNAME_CLAIM names a claim, by that claim's value as the portal username. An unknown,
unverified, ambiguous or deactivated identity is refused with a message on the login page and an
audit event. The ID token's issuer and audience are checked as well as its signature and nonce.
The second factor is asked after a single sign-on as after a password (allocation_portal.second_factor).
"""

from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import audit
from .models import User
from .throttles import client_ip

logger = logging.getLogger(__name__)

CALLBACK_URL_NAME = "oidc_authentication_callback"
DISCOVERY_SECONDS = 3600
# mozilla-django-oidc's endpoint settings and the discovery document's names for them.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The identity provider could not be reached, or answered something unusable."""


class Refused(Exception):
    def __init__(self, reason: str, identity: str = "", user: User | None = None):
        super().__init__(reason)
        self.reason, self.identity, self.user = reason, identity, user


def enabled() -> bool:
    return bool(settings.PORTAL_OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID and settings.OIDC_RP_CLIENT_SECRET)


def issuer() -> str:
    return settings.PORTAL_OIDC_ISSUER.rstrip("/")


def discovery(issuer_url: str) -> dict:
    cached = _discovered.get(issuer_url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(f"{issuer_url}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {exc}") from exc
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer_url:
        raise ProviderUnavailable("the discovery document names another issuer")
    _discovered[issuer_url] = (time.monotonic() + DISCOVERY_SECONDS, document)
    return document


def setting(attr, *args):
    """mozilla-django-oidc's settings, with each endpoint discovered unless it is set."""
    if attr in ENDPOINTS:
        explicit = getattr(settings, attr, "")
        if explicit:
            return explicit
        value = discovery(issuer()).get(ENDPOINTS[attr])
        if not value:
            raise ProviderUnavailable(f"the provider publishes no {ENDPOINTS[attr]}")
        return value
    return import_from_settings(attr, *args)


REFUSALS = {
    "unknown": lambda: _("No active portal account matches your single sign-on identity. Ask an MSIT admin to "
                         "add your account with the same e-mail address, or log in with your password."),
    "unverified": lambda: _("Your identity provider has not verified your e-mail address, so it cannot be "
                            "matched to a portal account."),
    "no_claim": lambda: _("Your identity provider did not say who you are (the claim the portal matches is "
                          "missing)."),
    "ambiguous": lambda: _("More than one portal account has this e-mail address. Ask an MSIT admin."),
    "inactive": lambda: _("This portal account is deactivated. Ask an MSIT admin."),
    "subject": lambda: _("The identity provider's answers did not agree. Try again."),
}


def refusal_record(*, refusal: Refused, ip_address: str | None) -> None:
    """The audit event of a refused single sign-on (who the provider said, and why)."""
    user = refusal.user
    with transaction.atomic():
        audit.record(
            actor=None, action="account.sso_refused", obj=user, object_type="allocation_portal.user",
            object_id=str(user.public_id) if user else refusal.identity[:64],
            object_repr=(user.get_username() if user else refusal.identity)[:150],
            after={"reason": refusal.reason, "identity": refusal.identity[:254], "issuer": issuer(),
                   "claim": settings.PORTAL_OIDC_USERNAME_CLAIM or "email", "ip_address": ip_address},
        )


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Signs in the portal account an OpenID provider vouches for, on the callback only."""

    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        # Django makes every backend for every sign-in, passwords included: nothing is read or
        # fetched until this backend's own callback asks.
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        match = getattr(request, "resolver_match", None)
        if (request is None or not enabled() or "code_verifier" not in kwargs or match is None
                or match.url_name != CALLBACK_URL_NAME):
            return None
        self.OIDC_OP_TOKEN_ENDPOINT = setting("OIDC_OP_TOKEN_ENDPOINT")
        self.OIDC_OP_USER_ENDPOINT = setting("OIDC_OP_USER_ENDPOINT")
        self.OIDC_OP_JWKS_ENDPOINT = setting("OIDC_OP_JWKS_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        """The signature and nonce (the library), and the issuer and audience (the library does not)."""
        payload = super().verify_token(token, **kwargs)
        if str(payload.get("iss", "")).rstrip("/") != issuer():
            raise SuspiciousOperation("The ID token was issued by another issuer.")
        audience = payload.get("aud")
        if settings.OIDC_RP_CLIENT_ID not in ([audience] if isinstance(audience, str) else (audience or [])):
            raise SuspiciousOperation("The ID token is meant for another client.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            raise Refused("subject", str(payload.get("sub", "")))
        claim = settings.PORTAL_OIDC_USERNAME_CLAIM
        if claim:
            value = claims.get(claim)
            if not isinstance(value, str) or not value.strip():
                raise Refused("no_claim", str(claims.get("sub", "")))
            identity = value.strip()
            users = User.objects.filter(username__iexact=identity)
        else:
            email = claims.get("email")
            if not isinstance(email, str) or not email.strip():
                raise Refused("no_claim", str(claims.get("sub", "")))
            identity = email.strip()
            if claims.get("email_verified") is not True:
                raise Refused("unverified", identity)
            users = User.objects.filter(email__iexact=identity)
        found = list(users[:2])
        if not found:
            raise Refused("unknown", identity)
        if len(found) > 1:
            raise Refused("ambiguous", identity)
        if not found[0].is_active:
            raise Refused("inactive", identity, found[0])
        return found[0]

    def get_user(self, user_id):
        # The library's get_user would keep a deactivated account signed in; Django's does not.
        return ModelBackend.get_user(self, user_id)


class StartView(OIDCAuthenticationRequestView):
    """/accounts/sso/: off to the provider with a new state, nonce and PKCE code challenge."""

    get_settings = staticmethod(setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the endpoints are read per request, when sign-on is on

    def get(self, request):
        if not enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as exc:
            logger.warning("Single sign-on unavailable: %s", exc)
            messages.error(request, _("The single sign-on service cannot be reached now. Try again later, or log in with your password."))
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """/accounts/sso/callback/: the provider's answer. Anything but a matched, active account ends
    on the login page with the reason."""

    get_settings = staticmethod(setting)

    def refuse(self, message: str):
        messages.error(self.request, message)
        return redirect("login")

    def get(self, request):
        if not enabled():
            raise Http404
        self.user = None
        state = request.GET.get("state", "")
        if request.GET.get("error"):
            super().get(request)  # forgets the state
            return self.refuse(_("Single sign-on was cancelled or refused by the identity provider."))
        if "code" not in request.GET or not state or state not in (request.session.get("oidc_states") or {}):
            logger.warning("Single sign-on callback with a state this session did not start.")
            return self.refuse(_("This sign-in could not be confirmed (it was not started from this browser, or it "
                                 "was already used). Start again."))
        try:
            response = super().get(request)
        except Refused as refusal:
            refusal_record(refusal=refusal, ip_address=client_ip(request))
            return self.refuse(REFUSALS[refusal.reason]())
        except (ProviderUnavailable, requests.RequestException, SuspiciousOperation, ValueError) as exc:
            logger.warning("Single sign-on failed: %s", exc)
            return self.refuse(_("The single sign-on could not be completed with the identity provider. Try again, "
                                 "or log in with your password."))
        if self.user is None or not self.user.is_active:
            return self.refuse(_("The single sign-on could not be completed with the identity provider. Try again, "
                                 "or log in with your password."))
        return response
