"""Checks a serving process makes before it starts."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MESSAGE = "DJANGO_SECRET_KEY is not set. Set it (or DJANGO_DEBUG=1 for local development only)."


def require_secret_key() -> None:
    try:
        key = settings.SECRET_KEY  # Django itself refuses an empty key on access
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(MESSAGE) from exc
    if not key:
        raise ImproperlyConfigured(MESSAGE)
