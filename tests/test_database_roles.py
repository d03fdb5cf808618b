"""The audit log survives TRUNCATE, and the runtime database role cannot empty, change or unguard
it: it gets DML only (the audit log SELECT and INSERT), owns nothing and is no superuser.

Roles are created inside the test's transaction, so they vanish with it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from allocation_portal import audit
from allocation_portal.models import AuditEvent

pytestmark = pytest.mark.django_db

AUDIT = "allocation_portal_auditevent"


def run(statement: str, params=None, *, role: str | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # The test's own inserts leave deferred foreign-key checks pending, and PostgreSQL will
        # not TRUNCATE or ALTER a table with pending trigger events: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if role:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(statement, params)
        cursor.execute("RESET ROLE")


def refused(statement: str, *, role: str | None = None) -> str:
    with pytest.raises(DatabaseError) as caught:
        run(statement, role=role)
    return str(caught.value)


@pytest.fixture
def an_event(world):
    with transaction.atomic():
        return audit.record(actor=world.admin, action="test.event", obj=world.project_a, reason="kept")


def make_role(name: str, *options: str) -> str:
    run(f'CREATE ROLE "{name}" NOLOGIN {" ".join(options)}')
    return name


def test_a_non_superuser_allowed_to_truncate_is_still_refused_by_the_trigger(an_event):
    role = make_role("portal_test_truncater")
    run(f'GRANT TRUNCATE, SELECT ON {AUDIT} TO "{role}"')
    assert "append-only (TRUNCATE refused)" in refused(f"TRUNCATE {AUDIT}", role=role)
    assert AuditEvent.objects.filter(pk=an_event.pk).exists()


def test_the_owner_of_the_table_cannot_truncate_it_without_first_disabling_the_trigger(an_event):
    role = make_role("portal_test_owner")
    run(f'ALTER TABLE {AUDIT} OWNER TO "{role}"')
    assert "append-only (TRUNCATE refused)" in refused(f"TRUNCATE {AUDIT}", role=role)
    assert "append-only" in refused(f"DELETE FROM {AUDIT}", role=role)
    assert AuditEvent.objects.filter(pk=an_event.pk).exists()


def test_the_runtime_role_gets_dml_and_the_audit_log_select_and_insert_only(an_event):
    role = make_role("portal_test_runtime")
    call_command("grant_runtime_role", role, stdout=open("/dev/null", "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        def may(table, privilege):
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            return cursor.fetchone()[0]

        assert may(AUDIT, "SELECT") and may(AUDIT, "INSERT")
        assert not may(AUDIT, "UPDATE") and not may(AUDIT, "DELETE") and not may(AUDIT, "TRUNCATE")
        for table in ("projects_project", "gpus_allocation", "monitoring_usagereport", "authtoken_token"):
            assert all(may(table, p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")), table
            assert not may(table, "TRUNCATE") and not may(table, "TRIGGER"), table
    # What an attacker with the runtime role's connection would try:
    for statement in (
        f"TRUNCATE {AUDIT}",
        f"UPDATE {AUDIT} SET reason = 'gone'",
        f"DELETE FROM {AUDIT}",
        f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
        f"DROP TRIGGER audit_event_no_truncate ON {AUDIT}",
        "SET session_replication_role = replica",
        "TRUNCATE projects_project CASCADE",
    ):
        message = refused(statement, role=role)
        assert "permission denied" in message or "must be owner" in message, (statement, message)
    run(f"SELECT count(*) FROM {AUDIT}", role=role)
    an_event.refresh_from_db()
    assert an_event.reason == "kept"


def test_the_grant_command_refuses_roles_that_could_disable_triggers(world):
    superuser = make_role("portal_test_super", "SUPERUSER")
    owner = make_role("portal_test_table_owner")
    run(f'ALTER TABLE projects_project OWNER TO "{owner}"')
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_runtime_role", superuser)
    with pytest.raises(CommandError, match="owns tables"):
        call_command("grant_runtime_role", owner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
    with pytest.raises(CommandError):
        call_command("grant_runtime_role", me)
    with pytest.raises(CommandError, match="no database role"):
        call_command("grant_runtime_role", "portal_test_nobody")
