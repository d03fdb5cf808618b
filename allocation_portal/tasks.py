"""Thin Celery tasks of the core: JSON arguments, idempotent, each calls one service."""

import smtplib

from celery import shared_task

from . import notifications


@shared_task(autoretry_for=(smtplib.SMTPException, ConnectionError, notifications.SendingFailed),
             retry_backoff=True, max_retries=5)
def send_pending_notification_emails() -> int:
    return notifications.notification_emails_send()
