from django.conf import settings
from django.utils.functional import SimpleLazyObject

from . import policy
from .notifications import unread_count


def portal(request):
    """What every page's frame needs: the user's role flags, whether this is a demo install, and
    the programme policy in force (read only if a template uses it)."""
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    context = {
        "portal_debug": settings.DEBUG,
        "can_change": authenticated and not user.is_auditor,
        "policy": SimpleLazyObject(policy.current),
        "privacy_contact": settings.PORTAL_PRIVACY_CONTACT,
    }
    if authenticated:
        # Lazy: counted only when a template shows it.
        context["unread_notifications"] = SimpleLazyObject(lambda: unread_count(user))
    return context
