"""Thin Celery tasks: JSON arguments, idempotent, each calls one service."""

import datetime as dt

from celery import shared_task

from allocation_portal.models import User
from allocation_portal.notifications import notification_emails_send

from . import reclamation, redistribution, services


@shared_task(name="monitoring.tasks.send_pending_notification_emails")
def send_pending_notification_emails_old_name() -> int:
    """Messages queued under this task's old name (before notices moved to the core) still run."""
    return notification_emails_send()


@shared_task
def send_report_reminders(today: str | None = None) -> dict:
    day = dt.date.fromisoformat(today) if today else None
    return services.report_reminders_send(today=day)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_monthly_check(month: str | None = None, requested_by: int | None = None, force: bool = False,
                      reason: str = "") -> dict:
    """The monthly reclamation check (beat: the 6th at 09:00 KST, for last month). Acknowledged
    only when done: if the worker dies the broker delivers it again, and the run is taken over."""
    actor = User.objects.filter(pk=requested_by).first() if requested_by else None
    run = reclamation.monthly_check_run(month=dt.date.fromisoformat(month) if month else None, actor=actor,
                                        force=force, reason=reason)
    return {"month": run.month.isoformat(), "checked": run.projects_checked, "cases": run.cases_opened,
            "errors": len(run.errors), "finished": run.finished_at is not None}


@shared_task
def resume_stale_checks() -> list[str]:
    return reclamation.stale_checks_resume()


@shared_task
def propose_redistribution() -> int:
    return len(redistribution.redistribution_propose())


@shared_task
def flag_delayed_projects(today: str | None = None) -> int:
    return reclamation.delayed_projects_flag(today=dt.date.fromisoformat(today) if today else None)
