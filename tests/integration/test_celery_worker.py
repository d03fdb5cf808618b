"""A real Celery worker against Redis runs the monthly check sent through the broker."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from allocation_portal import months
from monitoring import reclamation
from monitoring.models import CheckRun, ReclamationCase
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.monitoring.conftest import values

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    """A worker process on its own queue, using this test database and the Redis broker."""
    broker = os.environ.get("REDIS_URL") or settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.fail("The worker test needs Redis: set REDIS_URL.")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "DJANGO_SECRET_KEY": "worker-test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "allocation_portal", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    sender = Celery(broker=broker)
    try:
        yield sender, queue, tmp_path / "worker.log"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_the_monthly_check_runs_in_a_real_worker(world, worker):
    sender, queue, log = worker
    month = reclamation.latest_checkable_month()
    start = months.add_months(month, -5)
    end = months.add_months(month, 12)
    project = f.make_project(world.ministry_a, started=True, code="W-UNDER", gpus=80, planned_start=start, end_date=end)
    f.award(project, f.make_cluster(servers=10).servers.all(), start=start, end=end + dt.timedelta(days=1))
    healthy = f.make_project(world.ministry_a, started=True, code="W-FINE", gpus=8, planned_start=start, end_date=end)
    f.award(healthy, f.make_cluster(servers=1).servers.all(), start=start, end=end + dt.timedelta(days=1))
    for m in months.months_between(start, month):
        for p, share in ((project, Decimal("0.1")), (healthy, Decimal("0.9"))):
            plan = Decimal(p.gpus_awarded * 24 * 28) / 2
            UsagePlan.objects.create(project=p, month=m, planned_gpu_hours=plan)
            report_save(actor=None, project=p, month=m, submit=True,
                        values=values(gpu_hours_used=plan * share, peak_gpus_busy=p.gpus_awarded),
                        at=months.start_of(months.next_month(m)) + dt.timedelta(days=2))

    sender.send_task("monitoring.tasks.run_monthly_check", args=[month.isoformat()], queue=queue)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run = CheckRun.objects.filter(month=month, finished_at__isnull=False).first()
        if run is not None:
            break
        time.sleep(0.5)
    else:
        pytest.fail("The worker did not finish the check in time:\n" + log.read_text()[-3000:])
    assert run.projects_checked >= 2 and not run.errors
    cases = list(ReclamationCase.objects.filter(month=month))
    assert [c.project.code for c in cases] == ["W-UNDER"]
    case = cases[0]
    # 10% of plan: tier 1, half of the 9 unused servers, rounded down: 4.
    assert (case.proposed_servers, case.evidence["tier"], case.state) == (4, "tier1", "open")
    assert world.official.notifications.filter(kind="case_opened").exists()
    assert "run_monthly_check" in log.read_text() and "succeeded" in log.read_text()
