"""Give the portal's runtime database role what it needs and no more. Run as the owner role,
after `migrate` (docker/entrypoint.sh does both in the one-shot `migrate` service).

The runtime role (the web server, the Celery worker and beat) gets SELECT, INSERT, UPDATE and
DELETE on the portal's tables, and only SELECT and INSERT on the audit log. It owns nothing, so
it cannot ALTER a table or DISABLE a trigger; it has no TRUNCATE; it is not a superuser, so it
cannot set session_replication_role either. The command refuses a role that could."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql

AUDIT_TABLE = "allocation_portal_auditevent"


class Command(BaseCommand):
    help = "Grant the runtime database role DML on the portal's tables (audit log: SELECT, INSERT only)."

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", default=os.environ.get("PORTAL_DB_RUNTIME_ROLE", ""),
                            help="The runtime role (default: $PORTAL_DB_RUNTIME_ROLE).")

    def handle(self, *args, role: str, **options):
        if not role:
            raise CommandError("Name the runtime role (argument or PORTAL_DB_RUNTIME_ROLE).")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"There is no database role {role!r}.")
            if any(found):
                raise CommandError(f"{role!r} is a superuser or may create roles: it must not run the portal.")
            cursor.execute("SELECT current_user, pg_has_role(%s, current_user, 'MEMBER')", [role])
            owner, is_member = cursor.fetchone()
            if role == owner or is_member:
                raise CommandError(f"{role!r} is (or belongs to) the owner role {owner!r}: use a role of its own.")
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role]
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"{role!r} owns tables of the portal: it could disable their triggers.")
            name = sql.Identifier(role)
            for statement in [
                "GRANT USAGE ON SCHEMA public TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
                f"REVOKE UPDATE, DELETE ON {AUDIT_TABLE} FROM {{role}}",
                # Tables later migrations create get the same (the audit log exists already).
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
            ]:
                cursor.execute(sql.SQL(statement).format(role=name))
        self.stdout.write(f"{role}: DML on the portal's tables; the audit log SELECT and INSERT only.")
