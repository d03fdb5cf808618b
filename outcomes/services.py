"""Writes of the outcomes app: what-if simulation runs (asked for by an MSIT admin, carried out by
the Celery worker on throw-away databases)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from allocation_portal.messages import msg

from . import simulation, simulation_runner
from .models import SimulationRun, SimulationState

logger = logging.getLogger(__name__)
SEED_MAX = 2**31 - 1
START_LOCK = 0x51_4D_20_27  # pg_advisory_xact_lock key: starts are counted one at a time
ACTIVE = (SimulationState.QUEUED, SimulationState.RUNNING)


def simulations_at_once() -> int:
    return settings.PORTAL_SIMULATIONS_AT_ONCE


def simulation_start(*, actor, first_month: dt.date, month_count: int, seed: int, behaviour: dict | None = None,
                     policy_changes: dict | None = None) -> SimulationRun:
    """Ask for a run: the same simulated programme under policy A (the policy in force now) and
    policy B (A with `policy_changes`). Checked here (the behaviour and the policy by the
    simulator's and the policy's own validation); at most `simulations_at_once()` runs wait or run
    at a time. The caller queues the task after commit (outcomes.tasks.simulation_enqueue)."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin starts simulations."))
    errors: dict[str, list[str]] = {}
    if not isinstance(month_count, int) or isinstance(month_count, bool) or not 1 <= month_count <= simulation.MOST_MONTHS:
        errors["months"] = [_("From 1 to %(n)s months.") % {"n": simulation.MOST_MONTHS}]
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX:
        errors["seed"] = [_("A whole number from 0 to %(n)s.") % {"n": SEED_MAX}]
    if not isinstance(first_month, dt.date):
        errors["first_month"] = [_("Give a month as YYYY-MM.")]
    try:
        checked_behaviour = simulation.behaviour_from(behaviour)
    except simulation.SimulationInvalid as exc:
        errors["behaviour"] = [f"{exc.field}: {exc.message}"]
    try:
        policy_a = simulation.policy_json(simulation.policy_from(None))
        policy_b = simulation.policy_json(simulation.policy_from(policy_changes or {}))
    except simulation.SimulationInvalid as exc:
        errors["policy"] = [f"{exc.field}: {exc.message}"]
    if errors:
        raise ValidationFailed(_("The simulation has errors; nothing was started."), fields=errors)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [START_LOCK])
        recent = timezone.now() - dt.timedelta(hours=settings.PORTAL_SIMULATION_STALE_HOURS)
        if SimulationRun.objects.filter(state__in=ACTIVE, created_at__gte=recent).count() >= simulations_at_once():
            raise StateConflict(_("At most %(n)s simulations run at once: wait for one to finish.")
                                % {"n": simulations_at_once()})
        run = SimulationRun.objects.create(
            requested_by=actor, first_month=months.first_day(first_month), months=month_count, seed=seed,
            behaviour=checked_behaviour, policy_a=policy_a, policy_b=policy_b,
            policy_b_changes={k: v for k, v in policy_b.items() if policy_a.get(k) != v})
        audit.record(actor=actor, action="simulation.start", obj=run, after={
            "first_month": months.label(run.first_month), "months": run.months, "seed": run.seed,
            "behaviour": run.behaviour, "policy_b_changes": run.policy_b_changes})
    return run


def _progress(run_id: int, offset: int, share: float):
    def report(percent: int) -> None:
        SimulationRun.objects.filter(pk=run_id, state=SimulationState.RUNNING).update(
            progress=min(100, offset + int(percent * share)))
    return report


def simulation_execute(*, run_id: str) -> SimulationRun | None:
    """Carry a queued run out (the Celery task): claim it (a conditional update, so a second
    delivery does nothing), replay policy A then policy B on throw-away databases (B is A's figures
    again when it changes nothing: the same seed and files give the same figures), keep the
    results. A failure is kept with its message; the run never stays running because of it."""
    claimed = SimulationRun.objects.filter(public_id=run_id, state=SimulationState.QUEUED).update(
        state=SimulationState.RUNNING, started_at=timezone.now(), progress=0)
    run = SimulationRun.objects.filter(public_id=run_id).first()
    if not claimed or run is None:
        return run
    both = run.policy_b_changes != {}
    common = {"first": months.label(run.first_month), "months": run.months, "seed": run.seed, "behaviour": run.behaviour}
    try:
        result_a = simulation_runner.run(**common, policy=run.policy_a,
                                         on_progress=_progress(run.pk, 0, 0.5 if both else 1.0))
        SimulationRun.objects.filter(pk=run.pk).update(result_a=result_a)
        result_b = simulation_runner.run(**common, policy=run.policy_b, on_progress=_progress(run.pk, 50, 0.5)) \
            if both else {**result_a, "policy": run.policy_b}
    except Exception as exc:  # noqa: BLE001 - whatever stopped it is the run's outcome, kept for the reader
        logger.exception("Simulation %s failed", run_id)
        SimulationRun.objects.filter(pk=run.pk).update(
            state=SimulationState.FAILED, finished_at=timezone.now(),
            error=msg(gettext_noop("The simulation stopped: %(detail)s"), detail=str(exc)[-1000:]))
    else:
        SimulationRun.objects.filter(pk=run.pk).update(
            state=SimulationState.DONE, progress=100, result_b=result_b, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def simulation_not_queued(*, run_id: str) -> None:
    """The task queue could not be reached: the run fails with that message instead of waiting for nobody."""
    SimulationRun.objects.filter(public_id=run_id, state=SimulationState.QUEUED).update(
        state=SimulationState.FAILED, finished_at=timezone.now(),
        error=msg(gettext_noop("The task queue cannot be reached; the simulation was not started.")))
