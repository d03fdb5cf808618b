"""Thin Celery tasks: JSON arguments, idempotent, each calls one service."""

from __future__ import annotations

from celery import shared_task

from . import store


@shared_task
def keep_outcome_months() -> int:
    """Compute and keep the ended months that are missing or out of date (beat: daily at 04:00 KST).
    Returns how many months the programme has kept."""
    return store.keep()
