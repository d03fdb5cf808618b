from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from .access import role_required
from .accounts import password_set, token_expires_at, token_issue, token_revoke
from .api import json_error
from .middleware import wants_json
from .models import AuditEvent


def privacy(request):
    """The privacy policy (개인정보 처리방침): public, linked from the sign-up's consent."""
    return render(request, "privacy.html", {"notice_version": settings.PORTAL_PRIVACY_NOTICE_VERSION})


def home(request):
    if not request.user.is_authenticated:
        return redirect("lending-public")
    if request.user.is_applicant:
        return redirect("lending-dashboard")
    if request.user.is_provider_operator:
        return redirect("metering")
    if request.user.is_reviewer:
        return redirect("reviews")
    return redirect("programme")


@role_required("reads_everything")
def audit_log(request):
    events = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    action = request.GET.get("action", "").strip()
    object_id = request.GET.get("object", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    if object_id:
        events = events.filter(object_id=object_id)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit_log.html", {"page": page, "query": query.urlencode(), "action": action, "object": object_id}
    )


def _wants_json(request) -> bool:
    return wants_json(request)


def handler400(request, exception=None):
    if _wants_json(request):
        return json_error(request, 400, "invalid", _("The request could not be understood."))
    return render(request, "400.html", status=400)


def handler404(request, exception=None):
    if _wants_json(request):
        return json_error(request, 404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def handler403(request, exception=None):
    if _wants_json(request):
        return json_error(request, 403, "permission_denied", "You do not have permission to perform this action.")
    return render(request, "403.html", status=403)


def handler500(request):
    """The server error page: both languages, no database, no request context (no context
    processors, no user, no session), so whatever broke the request cannot break this page too."""
    if _wants_json(request):
        return json_error(request, 500, "server_error", "Internal server error.")
    try:
        stylesheet = static("css/portal.css")
    except ValueError:  # a manifest without the file: the page still renders, unstyled
        stylesheet = settings.STATIC_URL + "css/portal.css"
    html = loader.get_template("500.html").render({"stylesheet": stylesheet, "favicon": settings.STATIC_URL + "favicon.svg"})
    return HttpResponseServerError(html)


_FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


def favicon(request):
    """/favicon.ico, which browsers and bookmarks ask for whatever the page links."""
    response = HttpResponse(_FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def healthz(request):
    """Liveness for load balancers and docker compose: the database answers."""
    from django.db import connection
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def ping(request):
    """Liveness: the process answers, touching nothing else (also the benchmarks' framework floor)."""
    from django.http import HttpResponse

    return HttpResponse("pong", content_type="text/plain")


class LoginView(auth_views.LoginView):
    """The password login, with the single sign-on button when sign-on is configured."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        from . import sso

        return {**super().get_context_data(**kwargs), "sso_enabled": sso.enabled(),
                "sso_name": settings.PORTAL_OIDC_PROVIDER_NAME}


class PasswordChangeView(auth_views.PasswordChangeView):
    """The page new colleagues are told to use for the first password they were given: the change
    goes through the audited service."""

    template_name = "accounts/password_change_form.html"

    def form_valid(self, form):
        password_set(actor=self.request.user, user=form.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


@role_required()
def api_token(request):
    """The user's own API token: when it expires, renew it (a new key, shown once), revoke it."""
    new_key = None
    if request.method == "POST":
        step = request.POST.get("step")
        if step == "issue":
            new_key = token_issue(actor=request.user, user=request.user).key
            messages.success(request, _("A new API token was issued. Copy it now: it is shown only once."))
        elif step == "revoke":
            if token_revoke(actor=request.user, user=request.user):
                messages.success(request, _("Your API token was revoked."))
            return redirect("api-token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/api_token.html", {
        "token": token, "expires": token_expires_at(token) if token else None, "new_key": new_key,
        "days": settings.PORTAL_API_TOKEN_DAYS,
    })
