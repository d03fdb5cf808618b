"""The monthly reclamation check: tiers, rounding, the floor, the grace period, missing reports,
idempotence, a failure on one project, and the schedule."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail

from allocation_portal.models import AuditEvent
from allocation_portal.policy import FIELDS, policy_update
from allocation_portal.policy import current as current_policy
from monitoring import reclamation
from monitoring.models import CheckRun, Notification, ReclamationCase
from monitoring.tasks import run_monthly_check
from tests.monitoring.conftest import AUG, KST

pytestmark = pytest.mark.django_db

def policy_values(**changes) -> dict:
    """Every policy number at its default, with `changes`."""
    from allocation_portal.models import Policy

    defaults = Policy()
    return {**{name: getattr(defaults, name) for name in FIELDS}, **changes}


def cases():
    return {c.project.code: c for c in ReclamationCase.objects.select_related("project")}


def test_tiers_rounding_and_the_floor(world, started, clock):
    started("C-TIER1", used_share=Decimal("0.2"))       # 20% of plan: tier 1, 50% of 8 unused servers = 4
    started("C-TIER2", used_share=Decimal("0.5"))       # 50%: tier 2, 25% of 5 unused = 1.25 -> 1
    started("C-FINE", used_share=Decimal("0.8"))        # 80%: no case
    started("C-SMALL", servers=1, used_share=Decimal("0.1"))  # one server: never below the floor
    run = reclamation.monthly_check_run(month=AUG)
    found = cases()
    assert set(found) == {"C-TIER1", "C-TIER2"}
    assert (found["C-TIER1"].proposed_servers, found["C-TIER1"].evidence["tier"]) == (4, "tier1")
    assert (found["C-TIER2"].proposed_servers, found["C-TIER2"].evidence["tier"]) == (1, "tier2")
    assert found["C-TIER1"].servers_held == 10 and found["C-TIER1"].response_due == dt.date(2026, 9, 17)
    assert Decimal(found["C-TIER1"].evidence["ratio"]) == Decimal("0.2000")
    assert found["C-TIER1"].policy.version == 1
    assert run.cases_opened == 2 and run.finished_at is not None and not run.errors


def test_rounding_to_nearest_is_a_policy_choice(world, started, clock):
    policy_update(actor=world.admin, reason="test", values={**policy_values(), "rounding": "nearest"})
    started("C-TIER2", used_share=Decimal("0.4"))  # 25% of 6 unused = 1.5 -> 2 when rounding to nearest
    reclamation.monthly_check_run(month=AUG)
    case = cases()["C-TIER2"]
    assert case.proposed_servers == 2 and case.policy.version == 2


def test_the_grace_period_and_unstarted_projects(world, started, clock):
    started("C-JULY", used_share=Decimal("0"), start=dt.date(2026, 7, 1))  # grace: 60 days, to 29 August
    reclamation.monthly_check_run(month=AUG)
    assert "C-JULY" not in cases() and "PA-002" not in cases()
    clock.move_to(dt.datetime(2026, 10, 6, 9, tzinfo=KST))
    reclamation.monthly_check_run(month=dt.date(2026, 9, 1))
    assert cases()["C-JULY"].month == dt.date(2026, 9, 1)


def test_a_missing_report_counts_as_zero_and_is_labelled(world, started, clock):
    started("C-SILENT", used_share=None)
    reclamation.monthly_check_run(month=AUG)
    case = cases()["C-SILENT"]
    assert case.evidence["ratio"] == "0.0000" and case.proposed_servers == 5
    assert all(m["missing_counted_as_zero"] for m in case.evidence["months"])


def test_running_twice_opens_nothing_and_tells_nobody_twice(world, started, clock, django_capture_on_commit_callbacks):
    started("C-TIER1", used_share=Decimal("0.2"))
    with django_capture_on_commit_callbacks(execute=True):
        run_monthly_check.delay("2026-08-01").get()
    notices, mails, events = Notification.objects.count(), len(mail.outbox), AuditEvent.objects.filter(action="case.open").count()
    assert notices >= 1 and mails >= 1 and events == 1
    with django_capture_on_commit_callbacks(execute=True):
        result = run_monthly_check.delay("2026-08-01").get()
    assert result["cases"] == 1
    assert ReclamationCase.objects.count() == 1
    assert (Notification.objects.count(), len(mail.outbox)) == (notices, mails)
    assert AuditEvent.objects.filter(action="case.open").count() == 1
    assert CheckRun.objects.get(month=AUG).runs == 2


def test_a_failure_on_one_project_leaves_the_others_complete_and_a_rerun_finishes(world, started, clock, monkeypatch):
    started("C-A", used_share=Decimal("0.2"))
    started("C-B", used_share=Decimal("0.2"))
    started("C-C", used_share=Decimal("0.2"))
    real = reclamation.check_project

    def flaky(*, project, month, policy):
        if project.code == "C-B":
            raise RuntimeError("ledger read timed out")
        return real(project=project, month=month, policy=policy)

    monkeypatch.setattr(reclamation.checks, "check_project", flaky)
    run = reclamation.monthly_check_run(month=AUG)
    assert set(cases()) == {"C-A", "C-C"}
    assert run.errors == [{"project": "C-B", "error": "RuntimeError: ledger read timed out"}]
    monkeypatch.setattr(reclamation.checks, "check_project", real)
    run = reclamation.monthly_check_run(month=AUG)
    assert set(cases()) == {"C-A", "C-B", "C-C"} and run.errors == [] and run.cases_opened == 3


def test_the_beat_schedule_runs_on_the_6th_at_0900_kst():
    import time_machine

    from allocation_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["monthly-reclamation-check"]
    assert entry["task"] == "monitoring.tasks.run_monthly_check"
    schedule = entry["schedule"]
    schedule.app = app
    assert app.conf.timezone == "Asia/Seoul"
    last_run = dt.datetime(2026, 9, 6, 9, 0, tzinfo=KST)
    with time_machine.travel(dt.datetime(2026, 10, 6, 8, 59, tzinfo=KST), tick=False):
        assert not schedule.is_due(last_run).is_due
    with time_machine.travel(dt.datetime(2026, 10, 6, 9, 0, 30, tzinfo=KST), tick=False):
        assert schedule.is_due(last_run).is_due
    with time_machine.travel(dt.datetime(2026, 10, 7, 9, 0, 30, tzinfo=KST), tick=False):
        assert not schedule.is_due(dt.datetime(2026, 10, 6, 9, 0, 5, tzinfo=KST)).is_due
    reminders = settings.CELERY_BEAT_SCHEDULE["report-reminders"]["schedule"]
    reminders.app = app
    with time_machine.travel(dt.datetime(2026, 10, 7, 9, 0, 30, tzinfo=KST), tick=False):
        assert reminders.is_due(dt.datetime(2026, 10, 6, 9, 0, 5, tzinfo=KST)).is_due


def test_the_task_defaults_to_last_month(world, started, clock):
    started("C-TIER1", used_share=Decimal("0.2"))
    assert run_monthly_check.delay().get()["month"] == "2026-08-01"


def test_policy_changes_are_versioned_audited_and_validated(world, clock):
    base = policy_values()
    with pytest.raises(Exception) as excinfo:
        policy_update(actor=world.official, values=base, reason="x")
    assert "MSIT admin" in str(excinfo.value)
    from allocation_portal.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as bad:
        policy_update(actor=world.admin, values={**base, "tier1_below": Decimal("0.7")}, reason="x")
    assert "tier1_below" in bad.value.fields
    with pytest.raises(ValidationFailed):
        policy_update(actor=world.admin, values=base, reason="")
    new = policy_update(actor=world.admin, values={**base, "response_days": 10}, reason="more time")
    assert new.version == 2 and current_policy() == new
    event = AuditEvent.objects.get(action="policy.update")
    assert event.before["response_days"] == 7 and event.after["response_days"] == 10 and event.reason == "more time"


def test_a_check_asked_for_when_the_queue_is_down_says_so(world, client_for, api_for, monkeypatch):
    from monitoring import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_monthly_check, "apply_async", down)
    response = client_for(world.admin).post("/monitoring/checks/", {"month": "2026-08", "confirmed": "1"}, follow=True)
    assert "cannot be reached" in response.content.decode()
    api = api_for(world.admin).post("/api/v1/checks/", {"month": "2026-08"}, format="json")
    assert api.status_code == 503 and "cannot be reached" in api.json()["error"]["message"]
    assert not CheckRun.objects.exists()
