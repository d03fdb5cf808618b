"""Thin Celery tasks for lending: JSON arguments, idempotent, each calls one service."""

from celery import shared_task

from . import lending_services


@shared_task
def tick_loans() -> dict:
    """Start loans whose start has come, end those past their end, warn before the end."""
    return lending_services.loans_tick()
