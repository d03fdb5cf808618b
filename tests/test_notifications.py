"""Notices: the e-mail sender never marks a notice as sent that was not sent."""

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from allocation_portal.models import Notification
from allocation_portal.notifications import SendingFailed, notification_emails_send, notify
from allocation_portal.tasks import send_pending_notification_emails

pytestmark = pytest.mark.django_db


class FailsForOneAddress(EmailBackend):
    """The SMTP server refuses one recipient; every other message goes through."""

    refused = "official_user@example.kr"

    def send_messages(self, messages):
        for message in messages:
            if self.refused in message.to:
                raise ConnectionError("451 4.3.0 mailbox temporarily unavailable")
        return super().send_messages(messages)


def test_a_failure_for_one_recipient_leaves_only_that_recipients_notices_pending(world, settings,
                                                                                 django_capture_on_commit_callbacks):
    from django.db import transaction

    world.official.email = FailsForOneAddress.refused
    world.official.save()
    people = [world.admin, world.official, world.outsider, world.applicant, world.auditor]
    with transaction.atomic():
        for n in range(3):
            notify(users=people, kind="general", title=f"notice {n}", body="b", url="", dedup_key=f"k{n}")
    settings.EMAIL_BACKEND = "tests.test_notifications.FailsForOneAddress"
    mail.outbox = []
    with pytest.raises(SendingFailed) as failed:
        notification_emails_send()
    assert failed.value.sent == 4 and [uid for uid, _exc in failed.value.failures] == [world.official.pk]
    # One message per person, with all three notices; the official's three stay pending.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in people if u != world.official)
    pending = Notification.objects.filter(emailed_at__isnull=True)
    assert set(pending.values_list("user_id", flat=True)) == {world.official.pk} and pending.count() == 3
    # The next run, with the server back, sends exactly what was left.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert notification_emails_send() == 1
    assert [m.to for m in mail.outbox] == [[FailsForOneAddress.refused]] and "3" in mail.outbox[0].subject
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_task_retries_when_some_sending_failed():
    assert SendingFailed in send_pending_notification_emails.autoretry_for


def test_a_run_sends_each_person_one_multipart_message_through_a_real_smtp_server(world, smtp_server):
    """Several notices for several people, one run: one message per person (Korean subject, a
    text/plain and a text/html part, Korean first), and a second run sends nothing."""
    from django.db import transaction

    from allocation_portal.messages import msg

    people = [world.admin, world.official, world.applicant]
    with transaction.atomic():
        for n in range(3):
            notify(users=people, kind="general", title=msg("Report due in 3 days"), body=f"body {n}",
                   url=f"/reports/{n}/", dedup_key=f"smtp{n}")
        notify(users=[world.auditor], kind="general", title=msg("Report due in 3 days"), body="alone", url="/x/",
               dedup_key="single")
    assert notification_emails_send() == 4
    messages = smtp_server.messages
    assert sorted(m["To"] for m in messages) == sorted(u.email for u in [*people, world.auditor])
    for message in messages:
        assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
        kinds = [part.get_content_type() for part in message.iter_parts()]
        assert kinds == ["text/plain", "text/html"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "님께" in text and "Dear" in text
        assert text.index("님께") < text.index("Dear")  # the Korean greeting comes first
        assert "<!DOCTYPE html>" in html and 'lang="ko"' in html
    many = smtp_server.to(world.official.email)[0]
    assert many["Subject"] == "[AI GPU] GPU 배분 포털 알림 3건"
    assert all(f"/reports/{n}/" in many.get_body(("html",)).get_content() for n in range(3))
    alone = smtp_server.to(world.auditor.email)[0]
    assert alone["Subject"] == "[AI GPU] 보고 기한 3일 전"
    smtp_server.clear()
    assert notification_emails_send() == 0 and smtp_server.messages == []
