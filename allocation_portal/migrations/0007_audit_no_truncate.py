"""Audit events survive TRUNCATE: a statement-level trigger refuses it (row triggers, 0003, do
not fire for TRUNCATE). Superusers, who can disable any trigger anyway, are let through: the test
suite's flush between transactional tests truncates every table as one. The portal itself never
connects as a superuser (README: the two database roles)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (TRUNCATE refused)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON allocation_portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON allocation_portal_auditevent;
DROP FUNCTION IF EXISTS audit_event_no_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("allocation_portal", "0006_notifications_move_to_the_core")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
