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


@shared_task(acks_late=True)
def run_monthly_check(month: str | None = None, requested_by: int | None = None) -> dict:
    """The monthly reclamation check (beat: the 6th at 09:00 KST, for last month)."""
    from allocation_portal.models import User

    from .reclamation import monthly_check_run

    actor = User.objects.filter(pk=requested_by).first() if requested_by else None
    run = monthly_check_run(month=dt.date.fromisoformat(month) if month else None, actor=actor)
    return {"month": run.month.isoformat(), "checked": run.projects_checked, "cases": run.cases_opened,
            "errors": len(run.errors)}


@shared_task
def propose_redistribution() -> int:
    from .redistribution import redistribution_propose

    return len(redistribution_propose())


@shared_task
def flag_delayed_projects(today: str | None = None) -> int:
    from .reclamation import delayed_projects_flag

    return delayed_projects_flag(today=dt.date.fromisoformat(today) if today else None)
