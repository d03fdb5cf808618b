"""A real Celery worker carries out a what-if simulation sent through the broker: the run is claimed,
its progress moves, the figures are kept, and its throw-away database is gone."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from outcomes import services
from outcomes.models import SimulationRun
from tests.integration.test_celery_worker import worker  # noqa: F401 - the real worker fixture
from tests.outcomes.test_simulate_command import databases

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_simulation_runs_in_a_real_worker(world, worker):  # noqa: F811
    sender, queue, log = worker
    run = services.simulation_start(actor=world.admin, first_month=dt.date(2026, 4, 1), month_count=1, seed=4,
                                    behaviour={"requests_per_month": 5, "organisations": 2})
    sender.send_task("outcomes.tasks.run_simulation", args=[str(run.public_id)], queue=queue)
    seen = set()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run.refresh_from_db()
        seen.add(run.progress)
        if run.state in ("done", "failed"):
            break
        time.sleep(0.5)
    else:
        pytest.fail("The worker did not finish the simulation in time:\n" + log.read_text()[-3000:])
    assert run.state == "done", (run.error, log.read_text()[-3000:])
    assert run.progress == 100 and len(seen) > 2
    assert run.result_a["figures"]["months"][0]["month"] == "2026-04"
    # Policy B changed nothing: the same seed gives the same figures, so B is A's.
    assert run.result_b["figures"] == run.result_a["figures"]
    assert run.result_a["database"] not in databases()
    # A second delivery of the same run changes nothing.
    assert services.simulation_execute(run_id=str(run.public_id)).finished_at == run.finished_at
    assert SimulationRun.objects.count() == 1
