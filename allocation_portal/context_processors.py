from django.conf import settings


def portal(request):
    """What every page's frame needs: the user's role flags and whether this is a demo install."""
    user = getattr(request, "user", None)
    return {
        "portal_debug": settings.DEBUG,
        "can_change": bool(user and user.is_authenticated and not user.is_auditor),
    }
