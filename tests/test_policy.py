"""Every default number of the rules is policy data: MSIT admins change it as an audited new
version, the rules follow the version in force, and reading the policy never writes it."""

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation_portal import months, policy
from allocation_portal.errors import StateConflict, ValidationFailed
from allocation_portal.models import AuditEvent, Policy
from lending import services as lending
from monitoring import reclamation
from tests import factories as f
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db


def change(actor, reason="test", **values):
    current = policy.current()
    return policy.policy_update(actor=actor, values={**{n: getattr(current, n) for n in policy.FIELDS}, **values},
                                reason=reason)


def test_reading_the_policy_writes_nothing_and_the_first_write_saves_version_one(world):
    Policy.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        read = policy.current()
    assert read.version == 0 and read.pk is None and read.loan_max_months == 3
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    from django.db import transaction

    with transaction.atomic():
        saved = policy.for_write()
    assert saved.version == 1 and AuditEvent.objects.filter(action="policy.create").exists()


def test_the_migration_saves_version_one_with_its_audit_event(world):
    Policy.objects.all().delete()
    migration = importlib.import_module("allocation_portal.migrations.0005_policy_numbers")
    migration.first_version(django_apps, None)
    first = Policy.objects.get()
    assert first.version == 1 and first.grace_days == 60 and first.recall_notice_hours == 72
    assert AuditEvent.objects.filter(action="policy.create", object_repr="v1").exists()


def test_pages_that_show_the_policy_do_not_write_it(world, client_for):
    Policy.objects.all().delete()
    for url in ("/monitoring/policy/", "/monitoring/checks/", "/lending/", "/api/v1/policy/"):
        assert client_for(world.admin).get(url).status_code == 200, url
    assert not Policy.objects.exists()


def test_loan_length_and_renewals_follow_the_policy(world, clock):
    change(world.admin, loan_max_months=2, loan_renewals=0)
    with pytest.raises(ValidationFailed) as refused:
        lending.request_submit(actor=world.applicant, values=request_values(ends_on=dt.date(2026, 11, 30)))
    assert "at most 2 months" in refused.value.fields["ends_on"][0]
    loan = f.make_loan(world.org_a, gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-005"))[:1],
                       start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1))
    with pytest.raises(StateConflict, match="renewed 0 times"):
        lending.loan_request_renewal(actor=world.applicant, loan=loan, ends_on=dt.date(2026, 10, 20), reason="more")


def test_the_recall_notice_follows_the_policy(world, clock):
    change(world.admin, recall_notice_hours=24)
    from projects.services import project_record_start

    loan = f.make_loan(world.org_a, gpus=f.server_gpus(world.cluster.servers.get(hostname="clw-003"))[:2],
                       start=dt.date(2026, 9, 1), end=dt.date(2026, 11, 1))
    project_record_start(actor=world.official, project=world.project_a2, started_on=dt.date(2026, 9, 10))
    loan.refresh_from_db()
    assert loan.ends_at - loan.recall_notice_at == dt.timedelta(hours=24)


def test_the_due_day_and_the_flags_follow_the_policy(world, clock, client_for):
    change(world.admin, report_due_day=12, delay_flag_days=5, start_backdate_days=30)
    assert reclamation.check_allowed(dt.date(2026, 8, 1)) == "not_due"  # due on 12 September now
    assert months.due_date(dt.date(2026, 8, 1), policy.current().report_due_day) == dt.date(2026, 9, 12)
    late = f.make_project(world.ministry_a, gpus=8, planned_start=dt.date(2026, 9, 1))
    f.award(late, [world.cluster.servers.get(hostname="clw-006")])
    page = client_for(world.admin).get("/projects/?status=planned").content.decode()
    assert late.code in page and "Delayed" in page
    assert reclamation.delayed_projects_flag() >= 1


def test_policy_versions_through_the_api_keep_what_is_not_sent(world, api_for):
    response = api_for(world.admin).post("/api/v1/policy/", {"recall_notice_hours": 48, "reason": "shorter notice"},
                                         format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recall_notice_hours"] == 48 and body["loan_max_months"] == 3 and body["grace_days"] == 60
    bad = api_for(world.admin).post("/api/v1/policy/", {"report_due_day": 31, "reason": "x"}, format="json")
    assert bad.status_code == 400 and "report_due_day" in bad.json()["error"]["fields"]
    event = AuditEvent.objects.filter(action="policy.update").latest("at")
    assert event.before["recall_notice_hours"] != 48 and event.after["recall_notice_hours"] == 48
