"""Notices to people: in the portal (with the unread count in the header) and by e-mail.

Every app notifies through `notify`, inside the transaction of the change it tells about; the
e-mail run is queued after commit. Sending claims each person's pending notices under a row lock
and marks them e-mailed only in the transaction that sent them, so a notice is never marked as
sent that was not: a failure for one person leaves that person's notices, and every notice not
reached yet, pending for the next run."""

from __future__ import annotations

import logging
import smtplib
from email.header import Header
from email.message import Message as PyMessage

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .messages import Message, is_message, plain, render
from .models import Notification, Role, User

logger = logging.getLogger(__name__)


SUBJECT_PREFIX = "[AI GPU] "


class PortalEmail(EmailMultiAlternatives):
    """Django's message with the subject encoded knowing its header's name, so that a Korean subject
    starts on the Subject line itself: Django's own encoding folds it onto a continuation line,
    which readers decode with a leading space."""

    def message(self, *args, **kwargs):
        msg = super().message(*args, **kwargs)  # refuses a subject with a newline (BadHeaderError)
        del msg["Subject"]
        # email.message.Message's own setter: Django's would turn the Header back into a string.
        PyMessage.__setitem__(msg, "Subject", Header(str(self.subject), "utf-8", header_name="Subject"))
        return msg


def email_message(*, to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    """The one place the portal's e-mails are built (notices and invitations alike): the subject in
    Korean, a text/plain body (`emails/<template>.txt`) and the same as text/html
    (`emails/<template>.html`), both Korean first with English below. The caller renders the
    subject under translation.override("ko")."""
    context = {"base_url": settings.PORTAL_BASE_URL, **context}
    message = PortalEmail(
        subject=f"{SUBJECT_PREFIX}{subject}",
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def ministry_officials(ministry_id) -> list[User]:
    return list(User.objects.filter(role=Role.OFFICIAL, ministry_id=ministry_id, is_active=True))


def msit_admins() -> list[User]:
    return list(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True))


def organisation_members(organisation_id) -> list[User]:
    return list(User.objects.filter(organisation_id=organisation_id, role=Role.APPLICANT, is_active=True))


def notify(*, users, kind: str, title: str | Message, body: str | Message, url: str, dedup_key: str) -> list[Notification]:
    """Create the notice for each user unless it exists already (same dedup key), and e-mail the
    new ones after the transaction commits. Returns the notices created now. The title and body are
    messages (allocation_portal.messages), each reader sees them in their own language."""
    users = [u for u in users if u is not None]
    if not users:
        return []
    existing = set(
        Notification.objects.filter(user__in=users, dedup_key=dedup_key).values_list("user_id", flat=True)
    )
    new = [
        Notification(user=u, kind=kind, title=plain(title)[:200], body=plain(body), url=url, dedup_key=dedup_key,
                     title_msg=title if is_message(title) else None, body_msg=body if is_message(body) else None)
        for u in users
        if u.pk not in existing
    ]
    # ignore_conflicts: a concurrent run that inserted the same notice first wins, silently.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    transaction.on_commit(enqueue_notification_emails)
    return new


def enqueue_notification_emails() -> None:
    """Queue the e-mail run. A broker that is down must not fail the change that made the notice:
    the notice is saved, and the scheduled e-mail job sends it on its next run."""
    try:
        send_pending_notification_emails.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - logged; the beat job retries
        logger.warning("Could not queue notification e-mails; the scheduled job will send them.", exc_info=True)


def notification_mark_read(*, user, notification_ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(public_id__in=notification_ids)
    return qs.update(read_at=timezone.now())


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


class SendingFailed(Exception):
    """Some people's e-mail could not be sent; their notices stay pending for the next run."""

    def __init__(self, failures: list[tuple[int, Exception]], sent: int):
        self.failures = failures
        self.sent = sent
        super().__init__(f"{len(failures)} recipients failed, {sent} sent: {failures[0][1]!r}")


def _send_one(user_id: int, limit: int) -> bool:
    """E-mail one person all their pending notices in one message, in one transaction: the rows
    are locked (another worker skips them), sent, then marked. Returns whether a message went."""
    with transaction.atomic():
        notices = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(user_id=user_id, emailed_at__isnull=True)
            .select_related("user").order_by("created_at", "id")[:limit]
        )
        if not notices:
            return False
        user = notices[0].user
        now = timezone.now()
        if user.email:
            # Korean first, with English below (the portal does not know each person's language).
            with translation.override("ko"):
                subject = (render(notices[0].title_msg) if notices[0].title_msg else notices[0].title) if len(notices) == 1 \
                    else _("%(n)s notices from the GPU allocation portal") % {"n": len(notices)}
            context = {
                "user": user,
                "notices": [{"url": n.url, "ko": (render(n.title_msg, "ko") if n.title_msg else n.title,
                                                   render(n.body_msg, "ko") if n.body_msg else n.body),
                             "en": (render(n.title_msg, "en") if n.title_msg else "",
                                    render(n.body_msg, "en") if n.body_msg else "")} for n in notices],
            }
            email_message(to=user.email, subject=subject, template="notifications", context=context).send()
        # Marked only now, in the transaction that sent them: a failure above rolls this back.
        Notification.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
        return bool(user.email)


def notification_emails_send(*, limit: int = 500) -> int:
    """E-mail notices not yet e-mailed, one message per person listing all their new notices.

    Each person is sent and marked on their own, so one failing address does not stop, or lose,
    the others; if any failed, SendingFailed is raised after everyone else was tried (the task
    retries it)."""
    user_ids = list(
        Notification.objects.filter(emailed_at__isnull=True).order_by("user_id").values_list("user_id", flat=True)
        .distinct()[:limit]
    )
    sent, failures = 0, []
    for user_id in user_ids:
        try:
            sent += _send_one(user_id, limit)
        except Exception as exc:  # noqa: BLE001 - one person's failure must not stop the others
            logger.warning("E-mail to user %s failed; their notices stay pending.", user_id, exc_info=True)
            failures.append((user_id, exc))
    if failures:
        raise SendingFailed(failures, sent)
    return sent


@shared_task(name="allocation_portal.tasks.send_pending_notification_emails",
             autoretry_for=(smtplib.SMTPException, ConnectionError, SendingFailed), retry_backoff=True, max_retries=5)
def send_pending_notification_emails() -> int:
    """The e-mail run as a Celery task (allocation_portal.tasks registers it with the worker)."""
    return notification_emails_send()
