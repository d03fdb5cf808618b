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
from django.db import connection, transaction

from allocation_portal import months
from monitoring import reclamation
from monitoring.models import CheckRun, ReclamationCase
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.monitoring.conftest import values

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]


def start_worker(log_path: Path, queue: str, broker: str, **env_extra) -> subprocess.Popen:
    """A worker process (solo pool) on its own queue, using this test database and `broker`."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "DJANGO_SECRET_KEY": "worker-test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **env_extra,
    }
    log = open(log_path, "a")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "allocation_portal", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", f"{queue}-{uuid.uuid4().hex[:4]}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def redis_broker() -> str:
    broker = os.environ.get("REDIS_URL") or settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.fail("The worker test needs Redis: set REDIS_URL.")
    return broker


@pytest.fixture
def worker(tmp_path):
    broker = redis_broker()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = start_worker(tmp_path / "worker.log", queue, broker)
    try:
        yield Celery(broker=broker), queue, tmp_path / "worker.log"
    finally:
        stop(process)


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


def test_a_worker_killed_mid_check_leaves_the_run_unfinished_and_the_next_one_finishes_it(world, tmp_path):
    """The check is held up on its second project (a rival transaction holds that project's case
    row), the worker is killed with SIGKILL, and a new worker finishes the month from the broker's
    redelivery: no case is opened twice and the run says it ran twice."""
    import psycopg2

    # A Redis database of its own: redelivery restores every old unacknowledged message it sees.
    base = redis_broker()
    broker = base.rsplit("/", 1)[0] + "/14"
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    fast = {"CELERY_VISIBILITY_TIMEOUT": "3", "CHECK_RUN_STALE_SECONDS": "2"}
    month = reclamation.latest_checkable_month()
    start = months.add_months(month, -5)
    end = months.add_months(month, 12)
    projects = []
    for code in ("K-A", "K-B", "K-C"):
        project = f.make_project(world.ministry_a, started=True, code=code, gpus=40, planned_start=start, end_date=end)
        f.award(project, f.make_cluster(servers=5).servers.all(), start=start, end=end + dt.timedelta(days=1))
        for m in months.months_between(start, month):
            plan = Decimal(40 * 24 * 28) / 2
            UsagePlan.objects.create(project=project, month=m, planned_gpu_hours=plan)
            report_save(actor=None, project=project, month=m, submit=True,
                        values=values(gpu_hours_used=plan / 10, peak_gpus_busy=40),
                        at=months.start_of(months.next_month(m)) + dt.timedelta(days=2))
        projects.append(project)
    from allocation_portal import policy

    with transaction.atomic():
        version = policy.for_write()

    db = connection.settings_dict
    rival = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
    cursor = rival.cursor()
    cursor.execute(
        """INSERT INTO monitoring_reclamationcase (public_id, project_id, month, kind, state, policy_id, evidence,
               evidence_note, evidence_file, servers_held, proposed_servers, response_due, opened_at,
               response_kind, response_text, outcome, decision_reason)
           VALUES (%s, %s, %s, 'under_use', 'open', %s, '{}', '', '', 2, 1, %s, now(), '', '', '{}', '')""",
        [str(uuid.uuid4()), projects[1].pk, month, version.pk, month],
    )  # not committed: the worker's insert for K-B waits on it
    first = start_worker(tmp_path / "first.log", queue, broker, **fast)
    second = None
    try:
        assert not ReclamationCase.objects.exists()
        Celery(broker=broker).send_task("monitoring.tasks.run_monthly_check", args=[month.isoformat()], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = CheckRun.objects.filter(month=month, projects_checked=1).first()
            if run is not None:
                break
            time.sleep(0.3)
        else:
            pytest.fail("The first worker did not get to the second project:\n" + (tmp_path / "first.log").read_text()[-3000:])
        time.sleep(1)  # the worker is now blocked on K-B's case
        first.kill()
        first.wait(timeout=15)
        rival.rollback()
        rival.close()
        run.refresh_from_db()
        assert run.finished_at is None and run.runs == 1
        assert list(ReclamationCase.objects.filter(month=month).values_list("project__code", flat=True)) == ["K-A"]

        time.sleep(3.5)  # past the visibility timeout: the unacknowledged task is handed out again
        second = start_worker(tmp_path / "second.log", queue, broker, **fast)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.finished_at is not None:
                break
            time.sleep(0.5)
        else:
            pytest.fail("The month was not finished after the crash:\n" + (tmp_path / "second.log").read_text()[-3000:])
        assert run.runs == 2 and not run.errors
        codes = sorted(ReclamationCase.objects.filter(month=month).values_list("project__code", flat=True))
        assert codes == ["K-A", "K-B", "K-C"]
    finally:
        if not rival.closed:
            rival.rollback()
            rival.close()
        if first.poll() is None:
            first.kill()
        if second is not None:
            stop(second)
