"""Thin Celery tasks: JSON arguments, idempotent, each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

from . import services, store

logger = logging.getLogger(__name__)


@shared_task
def keep_outcome_months() -> int:
    """Compute and keep the ended months that are missing or out of date (beat: daily at 04:00 KST).
    Returns how many months the programme has kept."""
    return store.keep()


def keep_soon(result) -> None:
    """After a request computed ended months that were not kept: ask the job to keep them (once a
    minute at most, after the request's transaction; a request itself never writes). A broker that
    does not answer is logged."""
    if not getattr(result, "computed_live", None) or not cache.add("outcomes:keep-queued", 1, 60):
        return
    transaction.on_commit(_enqueue_keep)


def _enqueue_keep() -> None:
    try:
        keep_outcome_months.delay()
    except Exception:  # noqa: BLE001 - the page is served whatever the broker does
        logger.warning("Could not ask the job to keep the outcome months", exc_info=True)


@shared_task
def run_simulation(run_id: str) -> str | None:
    """Carry out a queued what-if run (both policies); a second delivery of a run claimed already does nothing."""
    run = services.simulation_execute(run_id=run_id)
    return run.state if run else None


def simulation_enqueue(run) -> None:
    """Queue the run's task once the transaction that saved it has committed. A broker that cannot
    be reached fails the run with that message (it is never left queued for nobody)."""
    run_id = str(run.public_id)

    def send() -> None:
        try:
            run_simulation.apply_async(args=[run_id], retry=False)
        except Exception:  # noqa: BLE001 - the broker is down: the run says so
            logger.warning("Could not queue simulation %s", run_id, exc_info=True)
            services.simulation_not_queued(run_id=run_id)

    transaction.on_commit(send)
