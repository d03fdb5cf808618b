"""The People pages: the list, inviting, a person's page with their history and the actions on
them, and the invitation link's page that sets a first password. Thin: the services decide."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import people
from .access import role_required
from .confirm import confirm_step, is_confirmed
from .errors import NotPermitted, PortalError, StateConflict, ValidationFailed
from .forms import add_portal_error
from .people_forms import AcceptForm, ChangeForm, FilterForm, InviteForm, ReasonForm

PAGE_SIZE = 50


@role_required("sees_people")
def people_list(request):
    actor = request.user
    filters = FilterForm(request.GET, show_ministry=actor.reads_everything)
    values = {name: filters.value(name) for name in ("q", "role", "ministry", "status")}
    found = people.people_list(actor, **values)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for person in page:
        person.status = people.status_of(person)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "people/people_list.html", {
        "page": page, "filters": filters, "query": query.urlencode(), "may_invite": people.may_invite(actor),
        "statuses": dict(people.PersonStatus.choices),
    })


def _invite_sent_message(request, invitation) -> None:
    if getattr(invitation, "email_sent", None) is False:
        messages.warning(request, _("The invitation was saved, but its e-mail to %(email)s could not be sent. Send "
                                    "the invitation again from the person's page.") % {"email": invitation.email})
    else:
        messages.success(request, _("An invitation was e-mailed to %(email)s. Its link works for %(days)s days.")
                         % {"email": invitation.email, "days": (invitation.expires_at - invitation.created_at).days})


@role_required("sees_people")
def people_invite(request):
    actor = request.user
    if not people.may_invite(actor):
        raise PermissionDenied
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = people.person_invite(
                actor=actor, email=data["email"], display_name=data.get("display_name", ""), role=data.get("role"),
                ministry=data.get("ministry"), organisation=data.get("organisation"), provider=data.get("provider"),
                manages_members=data.get("manages_members", False),
            )
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from None
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            _invite_sent_message(request, invitation)
            return redirect("person-detail", person_id=invitation.user.public_id)
    return render(request, "people/people_invite.html", {"form": form, "invite_days": settings.PORTAL_INVITATION_DAYS},
                  status=400 if form.errors else 200)


def _detail(request, person, may_manage, *, change_form=None, reason_form=None, status=200):
    actor = request.user
    may_change = may_manage and actor.pk != person.pk and (actor.is_msit_admin or actor.manages_organisation_members)
    person.status = people.status_of(person)
    return render(request, "people/person_detail.html", {
        "person": person, "may_manage": may_manage and actor.pk != person.pk, "may_change": may_change,
        "change_form": change_form or (ChangeForm(actor=actor, person=person) if may_change else None),
        "reason_form": reason_form or ReasonForm(), "events": people.history(person),
        "statuses": dict(people.PersonStatus.choices),
    }, status=status)


@role_required("sees_people")
def person_detail(request, person_id):
    person, may_manage = people.person_for(request.user, person_id)
    return _detail(request, person, may_manage)


STEPS = ("change", "deactivate", "reactivate", "reinvite")


@require_POST
@role_required("sees_people")
def person_action(request, person_id, step):
    if step not in STEPS:
        raise Http404
    actor = request.user
    person, may_manage = people.person_for(actor, person_id)
    if not may_manage:
        raise PermissionDenied
    try:
        if step == "change":
            form = ChangeForm(request.POST, actor=actor, person=person)
            if not form.is_valid():
                return _detail(request, person, may_manage, change_form=form, status=400)
            data = form.cleaned_data
            try:
                people.person_change(actor=actor, person=person, role=data.get("role", person.role),
                                     ministry=data.get("ministry"), organisation=data.get("organisation"),
                                     provider=data.get("provider"), manages_members=data.get("manages_members", False),
                                     reason=data.get("reason", ""))
            except ValidationFailed as exc:
                add_portal_error(form, exc)
                return _detail(request, person, may_manage, change_form=form, status=400)
            messages.success(request, _("The role and scope of %(name)s were saved.") % {"name": person})
        else:
            form = ReasonForm(request.POST)
            if not form.is_valid():
                return _detail(request, person, may_manage, reason_form=form, status=400)
            reason = form.cleaned_data.get("reason", "")
            if step == "deactivate":
                if not is_confirmed(request):
                    return confirm_step(
                        request, title=_("Deactivate %(name)s") % {"name": person},
                        consequences=[
                            _("%(name)s can no longer log in.") % {"name": person},
                            _("Their sessions end now, and their API token is revoked."),
                            _("An invitation they have not used stops working."),
                            _("An MSIT admin or a colleague who manages them can reactivate them later."),
                        ],
                        action_label=_("Deactivate"),
                        cancel_url=reverse("person-detail", args=[person.public_id]),
                    )
                people.person_deactivate(actor=actor, person=person, reason=reason)
                messages.success(request, _("%(name)s was deactivated: their sessions and API token ended.")
                                 % {"name": person})
            elif step == "reactivate":
                people.person_reactivate(actor=actor, person=person, reason=reason)
                messages.success(request, _("%(name)s can log in again.") % {"name": person})
            else:
                _invite_sent_message(request, people.invitation_resend(actor=actor, person=person))
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from None
    except StateConflict as exc:
        messages.error(request, exc.message)
    return redirect("person-detail", person_id=person.public_id)


def _private(response):
    """The link's token is in the address: it must not leak to other sites or caches. (Not
    "no-referrer": browsers then send the form's POST with `Origin: null`, which CSRF refuses.)"""
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def invitation_accept(request, token):
    """The e-mailed link: set a first password, which activates the account. A link that is unknown,
    used, replaced or expired gets a page that says so (never an error page)."""
    try:
        invitation = people.invitation_for_token(token)
    except people.InvitationInvalid as exc:
        return _private(render(request, "people/invitation_invalid.html", {"message": exc.message, "reason": exc.reason},
                               status=404 if exc.reason == "unknown" else 410))
    form = AcceptForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = people.invitation_accept(token=token, password=form.cleaned_data["new_password1"])
        except people.InvitationInvalid as exc:
            return _private(render(request, "people/invitation_invalid.html",
                                   {"message": exc.message, "reason": exc.reason}, status=410))
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("Your password is set. Log in with your username %(username)s.")
                             % {"username": user.get_username()})
            return redirect("login")
    return _private(render(request, "people/invitation_accept.html", {"form": form, "invitation": invitation},
                           status=400 if form.errors else 200))
