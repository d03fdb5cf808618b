"""People managed in the portal: invitations by e-mail, role and scope changes, deactivation and
reactivation (issue 16 §2). The pages (people_views) and the API (people_api) call these.

Who manages whom (one place decides, `can_manage`):
- MSIT admins: everyone (officials bound to a ministry, reviewers, provider operators, auditors,
  applicants, admins), their role and scope included;
- a ministry official: the officials of their own ministry (invite, deactivate, reactivate);
- an applicant organisation's managing member: the organisation's members, and which of them
  manage members too.
Everyone else in People sees, read-only, what their role shows: auditors everyone, officials their
ministry's officials, applicants their organisation's members.

An invited person's account is made at once, inactive and without a password, with the role and
scope they were invited to; the e-mailed link (an unguessable token, of which only its SHA-256 is
kept) lets them set a password, which activates it. Deactivation ends the person's sessions and
API token in the same transaction. Every write here is audited in its own transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from rest_framework.authtoken.models import Token

from . import audit
from .errors import NotPermitted, PortalError, StateConflict, ValidationFailed
from .limits import REASON_MAX, checked_text
from .messages import msg
from .models import Invitation, PortalSession, Role, User
from .notifications import email_message

logger = logging.getLogger(__name__)

EMAIL_MAX = 254
NAME_MAX = 100


class PersonStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    INVITED = "invited", gettext_lazy("Invited")
    DEACTIVATED = "deactivated", gettext_lazy("Deactivated")


class InvitationInvalid(PortalError):
    """The link is unknown, used, replaced by a newer one (or withdrawn), or expired."""

    status_code = 410
    default_code = "invitation_invalid"

    def __init__(self, reason: str, message):
        super().__init__(message, code=f"invitation_{reason}")
        self.reason = reason


# --- Reads -----------------------------------------------------------------------------------------


def _open_invitations():
    return Invitation.objects.filter(used_at__isnull=True, replaced_at__isnull=True)


def with_status(people: QuerySet[User]) -> QuerySet[Any]:
    """Each person with the expiry of their open invitation (None when there is none), from which
    `status_of` tells active, invited or deactivated without another query."""
    open_one = _open_invitations().filter(user=OuterRef("pk"))
    return people.annotate(
        invitation_expires_at=Subquery(open_one.values("expires_at")[:1]),
        invitation_emailed_at=Subquery(open_one.values("emailed_at")[:1]),
    )


def status_of(person: User) -> str:
    if person.is_active:
        return PersonStatus.ACTIVE
    expires = getattr(person, "invitation_expires_at", None)
    if expires is None and not hasattr(person, "invitation_expires_at"):
        expires = _open_invitations().filter(user=person).values_list("expires_at", flat=True).first()
    return PersonStatus.INVITED if expires is not None else PersonStatus.DEACTIVATED


def people_for(actor) -> QuerySet[User]:
    """Everyone `actor` may see in People (nobody, for roles without the People area)."""
    people = User.objects.all()
    if actor is None or not actor.is_authenticated:
        return people.none()
    if actor.reads_everything:
        return people
    if actor.is_official:
        return people.filter(role=Role.OFFICIAL, ministry_id=actor.ministry_id)
    if actor.is_applicant:
        return people.filter(role=Role.APPLICANT, organisation_id=actor.organisation_id)
    return people.none()


def people_list(actor, *, role: str = "", ministry: str = "", status: str = "", q: str = "") -> QuerySet[Any]:
    """The People list: filtered by role, ministry (its code), status and a search of name,
    username and e-mail; with what the list shows fetched in the same query."""
    people = with_status(people_for(actor)).select_related("ministry", "organisation", "provider")
    if role:
        people = people.filter(role=role)
    if ministry:
        people = people.filter(ministry__code=ministry)
    if status == PersonStatus.ACTIVE:
        people = people.filter(is_active=True)
    elif status == PersonStatus.INVITED:
        people = people.filter(is_active=False, invitation_expires_at__isnull=False)
    elif status == PersonStatus.DEACTIVATED:
        people = people.filter(is_active=False, invitation_expires_at__isnull=True)
    q = (q or "").strip()
    if q:
        people = people.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q))
    return people.order_by("role", "display_name", "username")


def can_manage(actor, person: User) -> bool:
    """Whether `actor` may invite again, deactivate and reactivate `person` (role and scope
    changes are narrower: `person_change`)."""
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_msit_admin:
        return True
    if actor.is_official:
        return person.role == Role.OFFICIAL and person.ministry_id == actor.ministry_id
    if actor.manages_organisation_members:
        return person.role == Role.APPLICANT and person.organisation_id == actor.organisation_id
    return False


def may_invite(actor) -> bool:
    return bool(actor is not None and actor.is_authenticated
                and (actor.is_msit_admin or actor.is_official or actor.manages_organisation_members))


def person_for(actor, public_id) -> tuple[User, bool]:
    """The person with this id if `actor` may see them, and whether they may manage them; 404 as
    if they did not exist otherwise."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    person = with_status(people_for(actor)).select_related("ministry", "organisation", "provider") \
        .filter(public_id=key).first()
    if person is None:
        raise Http404
    return person, can_manage(actor, person)


def history(person: User, limit: int = 30):
    """The audit events about this person, newest first (shown on their page)."""
    from .models import AuditEvent

    return AuditEvent.objects.filter(object_type="allocation_portal.user", object_id=str(person.public_id)) \
        .order_by("-at", "-id")[:limit]


# --- Scope -----------------------------------------------------------------------------------------


def scope_snapshot(user: User) -> dict:
    """Role and scope as the audit log keeps them (codes and names, never ids alone)."""
    return {
        "role": user.role,
        "ministry": user.ministry.code if user.ministry is not None else None,
        "organisation": user.organisation.name if user.organisation is not None else None,
        "provider": user.provider.code if user.provider is not None else None,
        "manages_members": user.manages_members,
    }


def _admin_scope(*, role, ministry, organisation, provider, manages_members) -> dict:
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [_("Choose a role.")]
    if role == Role.OFFICIAL and ministry is None:
        errors["ministry"] = [_("A ministry official is bound to a ministry: choose one.")]
    if role == Role.PROVIDER and provider is None:
        errors["provider"] = [_("A provider operator is bound to a provider: choose one.")]
    if role == Role.APPLICANT and organisation is None:
        errors["organisation"] = [_("An applicant is a member of an organisation: choose one.")]
    if errors:
        raise ValidationFailed(_("The role or scope has errors."), fields=errors)
    return {
        "role": role,
        "ministry": ministry if role == Role.OFFICIAL else None,
        # A reviewer's organisation, when set, is their affiliation (conflicts of interest).
        "organisation": organisation if role in (Role.APPLICANT, Role.REVIEWER) else None,
        "provider": provider if role == Role.PROVIDER else None,
        "manages_members": bool(manages_members) and role == Role.APPLICANT,
    }


def _invite_scope(actor, *, role, ministry, organisation, provider, manages_members) -> dict:
    """The role and scope `actor` may invite someone to: any for MSIT admins; their own ministry's
    officials for an official; their own organisation's members for its managing member."""
    if actor.is_msit_admin:
        return _admin_scope(role=role, ministry=ministry, organisation=organisation, provider=provider,
                            manages_members=manages_members)
    if actor.is_official:
        if role not in (None, "", Role.OFFICIAL) or (ministry is not None and ministry.pk != actor.ministry_id) \
                or organisation is not None or provider is not None:
            raise NotPermitted(_("A ministry official invites officials of their own ministry only."))
        return {"role": Role.OFFICIAL, "ministry": actor.ministry, "organisation": None, "provider": None,
                "manages_members": False}
    if actor.manages_organisation_members:
        if role not in (None, "", Role.APPLICANT) or ministry is not None or provider is not None \
                or (organisation is not None and organisation.pk != actor.organisation_id):
            raise NotPermitted(_("You can invite members of your own organisation only."))
        return {"role": Role.APPLICANT, "ministry": None, "organisation": actor.organisation, "provider": None,
                "manages_members": bool(manages_members)}
    raise NotPermitted(_("You cannot invite people."))


def _require_manage(actor, person: User) -> None:
    if not can_manage(actor, person):
        raise NotPermitted(_("You cannot manage this person."))


# --- Invitations -----------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("invitation-accept", args=[token])


def _email_taken(email: str) -> bool:
    return User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()


def _taken_error(email: str) -> ValidationFailed:
    message = _("Someone in the portal already has the e-mail address %(email)s. Find them in People (an "
                "invitation not yet used can be sent again there) instead of inviting them again.") % {"email": email}
    return ValidationFailed(message, fields={"email": [message]})


def _open_invitation(*, actor, user: User) -> tuple[Invitation, str]:
    """A new link for `user`, replacing any open one. The user's row is locked by the caller."""
    now = timezone.now()
    _open_invitations().filter(user=user).update(replaced_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user, email=user.email, role=user.role, ministry=user.ministry, organisation=user.organisation,
        provider=user.provider, invited_by=actor if getattr(actor, "pk", None) else None,
        token_hash=token_hash(token), created_at=now,
        expires_at=now + dt.timedelta(days=settings.PORTAL_INVITATION_DAYS),
    )
    return invitation, token


def _send_invitation(invitation: Invitation, token: str) -> None:
    """E-mail the link (after the invitation committed). The token lives only in this message and
    in memory: it is not stored, and not handed to a queue. A failure is logged and shown to the
    inviter (`invitation.email_sent`), who can send the invitation again."""
    invitation.email_sent = False
    try:
        with translation.override("ko"):
            subject = _("You are invited to the National AI GPU Allocation Portal")
        email_message(to=invitation.email, subject=subject, template="invitation", context={
            "invitation": invitation, "user": invitation.user, "inviter": invitation.invited_by,
            "link": invitation_link(token), "expires": timezone.localtime(invitation.expires_at),
        }).send()
    except Exception:  # noqa: BLE001 - the invitation stands; the inviter is told to send it again
        logger.warning("The invitation e-mail to user %s could not be sent.", invitation.user_id, exc_info=True)
        return
    Invitation.objects.filter(pk=invitation.pk).update(emailed_at=timezone.now())
    invitation.email_sent = True


def _email_after_commit(invitation: Invitation, token: str) -> None:
    invitation.email_sent = None  # not tried yet: the transaction has not committed
    transaction.on_commit(lambda: _send_invitation(invitation, token))


def person_invite(*, actor, email: str, display_name: str = "", role: str | None = None, ministry=None,
                  organisation=None, provider=None, manages_members: bool = False) -> Invitation:
    """Invite a person by e-mail: their account (inactive, username = the e-mail address) and an
    invitation whose link expires after settings.PORTAL_INVITATION_DAYS. The e-mail goes after commit."""
    if not may_invite(actor):
        raise NotPermitted(_("You cannot invite people."))
    scope = _invite_scope(actor, role=role, ministry=ministry, organisation=organisation, provider=provider,
                          manages_members=manages_members)
    email = (email or "").strip()
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = [_("Required.")]
    elif len(email) > EMAIL_MAX:
        errors["email"] = [_("At most %(n)s characters (this has %(m)s).") % {"n": EMAIL_MAX, "m": len(email)}]
    else:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    display_name = (display_name or "").strip()
    if len(display_name) > NAME_MAX:
        errors["display_name"] = [_("At most %(n)s characters (this has %(m)s).") % {"n": NAME_MAX, "m": len(display_name)}]
    if errors:
        raise ValidationFailed(_("The invitation has errors."), fields=errors)
    if _email_taken(email):
        raise _taken_error(email)
    with transaction.atomic():
        user = User(username=email.lower(), email=email, display_name=display_name, is_active=False, **scope)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # the same address invited at the same moment by someone else
            raise _taken_error(email) from None
        invitation, token = _open_invitation(actor=actor, user=user)
        audit.record(actor=actor, action="person.invite", obj=user, object_repr=user.get_username(),
                     after={**scope_snapshot(user), "email": email, "expires_at": invitation.expires_at.isoformat()})
    _email_after_commit(invitation, token)
    return invitation


def invitation_resend(*, actor, person: User) -> Invitation:
    """Send a person who has not set a password yet a new link; the old one stops working."""
    _require_manage(actor, person)
    with transaction.atomic():
        locked = User.objects.select_for_update(of=("self",)).select_related("ministry", "organisation", "provider").get(pk=person.pk)
        if locked.is_active or locked.has_usable_password():
            raise StateConflict(_("%(name)s has set a password already: reactivate them instead of inviting them "
                                  "again.") % {"name": locked})
        replaced = _open_invitations().filter(user=locked).exists()
        invitation, token = _open_invitation(actor=actor, user=locked)
        audit.record(actor=actor, action="person.reinvite", obj=locked, object_repr=locked.get_username(),
                     before={"open_invitation": replaced},
                     after={**scope_snapshot(locked), "email": locked.email, "expires_at": invitation.expires_at.isoformat()})
    _email_after_commit(invitation, token)
    return invitation


def _invalid(reason: str) -> InvitationInvalid:
    messages = {
        "unknown": _("This invitation link is not known. Check that the whole link was copied, or ask the person "
                     "who invited you to send a new invitation."),
        "used": _("This invitation has been used already: the password is set. Log in with your e-mail address."),
        "replaced": _("This invitation link no longer works: a newer invitation was sent, or it was withdrawn. "
                      "Use the link in the newest e-mail, or ask the person who invited you."),
        "expired": _("This invitation link has expired. Ask the person who invited you to send a new one."),
    }
    return InvitationInvalid(reason, messages[reason])


def invitation_for_token(token: str) -> Invitation:
    """The open invitation of this link, or InvitationInvalid saying why it does not work."""
    invitation = (Invitation.objects.select_related("user", "ministry", "organisation", "provider", "invited_by")
                  .filter(token_hash=token_hash(token or "")).first()) if token and len(token) <= 100 else None
    return _check(invitation)


def _check(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise _invalid("unknown")
    if invitation.used_at is not None:
        raise _invalid("used")
    if invitation.replaced_at is not None:
        raise _invalid("replaced")
    if invitation.expires_at <= timezone.now():
        raise _invalid("expired")
    return invitation


def invitation_accept(*, token: str, password: str) -> User:
    """The invited person sets their password (Django's validators), which activates the account;
    the link is used up."""
    with transaction.atomic():
        invitation = _check(Invitation.objects.select_for_update().filter(token_hash=token_hash(token or "")).first())
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(_("The password has errors."), fields={"new_password1": list(exc.messages)}) from None
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        audit.record(actor=user, action="person.invitation_accept", obj=user, object_repr=user.get_username(),
                     before={"is_active": False}, after={"is_active": True},
                     reason=msg(gettext_noop("The invited person set their password.")))
    return user


# --- Role and scope, deactivation -----------------------------------------------------------------


def person_change(*, actor, person: User, role: str | None = None, ministry=None, organisation=None, provider=None,
                  manages_members: bool = False, reason: str = "") -> User:
    """Change a person's role and scope (MSIT admins), or whether an organisation's member manages
    its members (that organisation's managing member). Nobody changes their own."""
    _require_manage(actor, person)
    if actor.pk == person.pk:
        raise NotPermitted(_("You cannot change your own role or scope: ask another MSIT admin."))
    reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    if actor.is_msit_admin:
        scope = _admin_scope(role=role, ministry=ministry, organisation=organisation, provider=provider,
                             manages_members=manages_members)
    elif actor.manages_organisation_members:
        if role not in (None, "", Role.APPLICANT) or ministry is not None or provider is not None \
                or (organisation is not None and organisation.pk != actor.organisation_id):
            raise NotPermitted(_("Only MSIT admins change a person's role or scope."))
        scope = {"role": Role.APPLICANT, "ministry": None, "organisation": actor.organisation, "provider": None,
                 "manages_members": bool(manages_members)}
    else:
        raise NotPermitted(_("Only MSIT admins change a person's role or scope."))
    with transaction.atomic():
        locked = User.objects.select_for_update(of=("self",)).select_related("ministry", "organisation", "provider").get(pk=person.pk)
        before = scope_snapshot(locked)
        for name, value in scope.items():
            setattr(locked, name, value)
        after = scope_snapshot(locked)
        if after == before:
            return locked
        locked.save(update_fields=["role", "ministry", "organisation", "provider", "manages_members"])
        audit.record(actor=actor, action="person.change", obj=locked, object_repr=locked.get_username(),
                     before=before, after=after, reason=reason)
    return locked


def end_access(user: User) -> dict:
    """End a person's sessions and API token now (inside the caller's transaction)."""
    sessions, _per_model = PortalSession.objects.filter(user=user).delete()
    tokens, _per_model = Token.objects.filter(user=user).delete()
    return {"sessions_ended": sessions, "api_token_revoked": bool(tokens)}


def person_deactivate(*, actor, person: User, reason: str = "") -> User:
    """Deactivate a person: they cannot log in, their sessions and API token end at once, and an
    invitation they have not used is withdrawn."""
    _require_manage(actor, person)
    if actor.pk == person.pk:
        raise NotPermitted(_("You cannot deactivate yourself."))
    reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        invitations = _open_invitations().filter(user=locked)
        had_invitation = invitations.exists()
        if not locked.is_active and not had_invitation:
            raise StateConflict(_("%(name)s is deactivated already.") % {"name": locked})
        was_active = locked.is_active
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        invitations.update(replaced_at=timezone.now())
        ended = end_access(locked)
        audit.record(actor=actor, action="person.deactivate", obj=locked, object_repr=locked.get_username(),
                     before={"is_active": was_active, "open_invitation": had_invitation},
                     after={"is_active": False, **ended}, reason=reason)
    return locked


def person_reactivate(*, actor, person: User, reason: str = "") -> User:
    """Let a deactivated person log in again with the password they had. One who never set a
    password is sent a new invitation instead (`invitation_resend`)."""
    _require_manage(actor, person)
    reason = checked_text(reason, field="reason", max_length=REASON_MAX)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        if locked.is_active:
            raise StateConflict(_("%(name)s is active already.") % {"name": locked})
        if _open_invitations().filter(user=locked).exists() or not locked.has_usable_password():
            raise StateConflict(_("%(name)s has not set a password yet: send them an invitation instead.")
                                % {"name": locked})
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        audit.record(actor=actor, action="person.reactivate", obj=locked, object_repr=locked.get_username(),
                     before={"is_active": False}, after={"is_active": True}, reason=reason)
    return locked
