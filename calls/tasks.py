"""Thin Celery tasks for calls: JSON arguments, idempotent, each calls one service."""

from celery import shared_task

from . import services_review


@shared_task
def send_review_reminders() -> int:
    """Remind reviewers whose reviews are due soon or overdue (once a day each)."""
    return services_review.review_reminders_send()
