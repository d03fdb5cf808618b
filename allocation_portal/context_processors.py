from django.conf import settings
from django.utils.functional import SimpleLazyObject


def portal(request):
    """What every page's frame needs: the user's role flags and whether this is a demo install."""
    user = getattr(request, "user", None)
    authenticated = bool(user and user.is_authenticated)
    context = {
        "portal_debug": settings.DEBUG,
        "can_change": authenticated and not user.is_auditor,
    }
    if authenticated:
        from monitoring.selectors import unread_count

        # Lazy: counted only when a template shows it.
        context["unread_notifications"] = SimpleLazyObject(lambda: unread_count(user))
    return context
