"""Where a simulated year runs: never on the portal's data. Each run gets its own PostgreSQL database,
`CREATE DATABASE portal_sim_<id> TEMPLATE portal_sim_template_<hash>`, copied from a template that
is migrated and loaded with the programme (`load_programme_2026`, the loader a fresh machine uses)
once per migration state (the hash is of the migration files and the programme's data, so a new
migration makes a new template). The run itself is a subprocess whose DATABASE_URL points at the
copy, so every service uses its default connection unchanged and the clock travels only there; it
prints its progress and, at the end, its figures as JSON lines that the parent reads. The copy is
dropped at the end unless kept.

The subprocess gets an in-memory Celery broker and e-mail backend: a notice it makes queues no task
on the portal's broker (whose worker would run it against the portal's database) and sends no mail."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psycopg2
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from . import simulation

PREFIX = "portal_sim_"
TEMPLATE_PREFIX = f"{PREFIX}template_"
# What the template is made of: every migration, and the programme the loader loads.
TEMPLATE_SOURCES = ("*/migrations/*.py", "projects/programme_2026.py", "projects/loader.py")
BUILD_LOCK = 0x51_4D_20_26  # pg_advisory_lock key: one template build at a time
TIMEOUT_SECONDS = 3600


class SimulationFailed(RuntimeError):
    """The subprocess stopped without figures; the message is the end of what it said."""


def template_name(base: Path | None = None) -> str:
    base = base or Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for pattern in TEMPLATE_SOURCES:
        for path in sorted(base.glob(pattern)):
            if ".venv" in path.parts:
                continue
            digest.update(str(path.relative_to(base)).encode())
            digest.update(path.read_bytes())
    digest.update(inspect.getsource(simulation.programme_before_starts).encode())
    return f"{TEMPLATE_PREFIX}{digest.hexdigest()[:12]}"


def _params() -> dict:
    s = connection.settings_dict
    return {"host": s.get("HOST") or "127.0.0.1", "port": s.get("PORT") or 5432, "user": s.get("USER") or "postgres",
            "password": s.get("PASSWORD") or ""}


def _admin():
    """A connection to the server's maintenance database (CREATE/DROP DATABASE need autocommit)."""
    p = _params()
    conn = psycopg2.connect(dbname="postgres", host=p["host"], port=p["port"], user=p["user"], password=p["password"] or None)
    conn.autocommit = True
    return conn


def database_url(name: str) -> str:
    p = _params()
    auth = quote(p["user"]) + (f":{quote(p['password'])}" if p["password"] else "")
    return f"postgres://{auth}@{p['host']}:{p['port']}/{name}"


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def _drop(cursor, name: str) -> None:
    assert name.startswith(PREFIX) and name != connection.settings_dict["NAME"]  # never the portal's database
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _child_env(name: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url(name), "CELERY_BROKER_URL": "memory://",
           "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "CELERY_TASK_ALWAYS_EAGER": "0"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "allocation_portal.settings")
    return env


def _manage(*args: str, name: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args], env=_child_env(name),
                            cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=stderr, text=True)


def _finish(process: subprocess.Popen, what: str) -> str:
    out, err = process.communicate(timeout=TIMEOUT_SECONDS)
    if process.returncode != 0:
        raise SimulationFailed(f"{what}: {(err or out).strip()[-2000:]}")
    return out


def _template(cursor) -> str:
    """The template for today's migrations, built when missing; older templates are dropped. The
    caller holds BUILD_LOCK."""
    name = template_name()
    if _exists(cursor, name):
        return name
    building = f"{PREFIX}building_{uuid.uuid4().hex[:8]}"
    cursor.execute(f'CREATE DATABASE "{building}"')
    try:
        _finish(_manage("migrate", "--noinput", name=building), "migrate")
        _finish(_manage("simulation_world", "prepare", name=building), "load_programme_2026")
        cursor.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    except BaseException:
        _drop(cursor, building)
        raise
    cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s", [f"{TEMPLATE_PREFIX}%", name])
    for (old,) in cursor.fetchall():
        _drop(cursor, old)
    return name


def _locked(cursor, work: Callable[[], str]) -> str:
    """`work` under BUILD_LOCK: a template is built once, and copied by one run at a time
    (PostgreSQL refuses to copy a template another session is using)."""
    cursor.execute("SELECT pg_advisory_lock(%s)", [BUILD_LOCK])
    try:
        return work()
    finally:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [BUILD_LOCK])


def ensure_template() -> str:
    """The template for today's migrations, built when missing (a second caller waits for the first's build)."""
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            return _locked(cursor, lambda: _template(cursor))
    finally:
        conn.close()


def run(*, first: str, months: int, seed: int, behaviour: dict, policy: dict, keep: bool = False,
        on_progress: Callable[[int], None] | None = None) -> dict:
    """Replay the months on a fresh copy of the programme; returns the subprocess's result
    (outcomes.simulation.Result.to_dict(), with the `database` it ran on and whether it was `kept`)."""
    name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    conn = _admin()
    try:
        with conn.cursor() as cursor:
            def copy() -> str:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template(cursor)}"')
                return name
            _locked(cursor, copy)
        result = None
        # What the subprocess logs goes to a file: a full pipe nobody reads would stop it.
        with tempfile.TemporaryFile("w+") as log:
            process = _manage("simulation_world", "run", "--from", first, "--months", str(months), "--seed", str(seed),
                              "--behaviour-json", json.dumps(behaviour), "--policy-json", json.dumps(policy), name=name,
                              stderr=log)
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("PROGRESS ") and on_progress is not None:
                    on_progress(int(line.split()[1]))
                elif line.startswith("RESULT "):
                    result = json.loads(line[len("RESULT "):])
            process.wait(timeout=TIMEOUT_SECONDS)
            log.seek(0)
            err = log.read()
        if process.returncode != 0 or result is None:
            raise SimulationFailed(err.strip()[-2000:] or _("The simulation stopped without figures."))
        result["database"], result["kept"] = name, keep
        return result
    finally:
        if not keep:
            with conn.cursor() as cursor:
                _drop(cursor, name)
        conn.close()
