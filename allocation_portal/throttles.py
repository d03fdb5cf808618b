"""Request rates: DRF throttles for the API (anonymous callers by address, users by account) and
the same counter for the sign-up form (by address).

Rates come from settings.PORTAL_THROTTLE_RATES when a request is checked, not when this module
is imported, and the counters live in the "throttle" cache, so the test suite can give itself
rates no test reaches and a cache of its own."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.cache import caches
from rest_framework import throttling


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or behind the portal's own proxy the address that proxy
    saw (the last entry of X-Forwarded-For, which the proxy appends; earlier entries are the
    client's to invent). Only a well-formed IP address is used: django-axes stores it as inet."""
    if settings.PORTAL_BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded and _is_ip(forwarded[-1]):
            return forwarded[-1]
    remote = request.META.get("REMOTE_ADDR")
    return remote if remote and _is_ip(remote) else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class PortalRateMixin:
    cache_alias = "throttle"

    @property
    def cache(self):
        return caches[self.cache_alias]

    def get_rate(self):
        return settings.PORTAL_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(PortalRateMixin, throttling.AnonRateThrottle):
    scope = "anon"


class UserThrottle(PortalRateMixin, throttling.UserRateThrottle):
    scope = "user"


class SignupThrottle(PortalRateMixin, throttling.SimpleRateThrottle):
    """Sign-ups (new organisations and their first account) per address."""

    scope = "signup"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def signup_allowed(request) -> tuple[bool, int]:
    """Count a sign-up attempt from this address: (allowed, seconds to wait when not)."""
    throttle = SignupThrottle()
    if throttle.allow_request(request, None):
        return True, 0
    return False, int(throttle.wait() or 0) + 1
