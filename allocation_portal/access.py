"""Role checks shared by every app. Object scoping lives in each app's access.py, which uses these.

Pages and endpoints a role may not use at all answer 403; objects outside a user's scope answer
404, exactly as if they did not exist."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def role_required(*checks: str):
    """View decorator: the user must be logged in and pass one of the named checks
    (`is_msit_admin`, `is_official`, `is_applicant`, `is_auditor`, `reads_everything`)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if checks and not any(getattr(user, check) for check in checks):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def can_change(user) -> bool:
    """Auditors read everything and change nothing."""
    return user.is_authenticated and not user.is_auditor
