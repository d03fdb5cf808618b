"""Thin Celery tasks: JSON arguments, idempotent, each calls one service."""

import datetime as dt
import smtplib

from celery import shared_task

from . import services


@shared_task(autoretry_for=(smtplib.SMTPException, ConnectionError), retry_backoff=True, max_retries=5)
def send_pending_notification_emails() -> int:
    return services.notification_emails_send()


@shared_task
def send_report_reminders(today: str | None = None) -> dict:
    day = dt.date.fromisoformat(today) if today else None
    return services.report_reminders_send(today=day)
