"""Thin Celery tasks for lending: JSON arguments, idempotent, each calls one service."""

from celery import shared_task

from . import services


@shared_task
def tick_loans() -> dict:
    """Start loans whose start has come, end those past their end, warn before the end."""
    return services.loans_tick()


@shared_task
def lapse_offers() -> int:
    """Offers not accepted in the policy's hours lapse; their GPUs go back to the pool."""
    return services.offers_lapse()


@shared_task(name="gpus.tasks.tick_loans")
def tick_loans_old_name() -> dict:
    """Messages queued under the task's name from before lending had its own app still run."""
    return services.loans_tick()
