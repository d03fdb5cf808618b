"""Benchmarks at national scale: pages and list endpoints served by gunicorn as in production, a
bare view as the framework's floor, and the monthly check, the redistribution proposal and a
500-row report upload. Prints one table and writes the figures as JSON.

    bin/bench [--regenerate] [--requests 40] [--json benchmarks/results/latest.json] [--only "monthly status board"]

Uses the database `allocation_portal_bench` (or BENCH_DB) (made and filled with `generate_scale_data` when it
is empty) on the PostgreSQL of DATABASE_URL's server, and Redis from REDIS_URL for the cache."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB", "allocation_portal_bench")
TARGET_MS = 100
TARGET_QUERIES = 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env() -> dict:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allocation_portal")
    parts = urlsplit(base)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=parts._replace(path=f"/{BENCH_DB}").geturl(),
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "benchmark-only-secret"),
        DJANGO_DEBUG="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        CACHE_KEY_PREFIX="bench",
        LOG_LEVEL="WARNING",
        DJANGO_STATIC_ROOT=str(ROOT / "var" / "bench-static"),
        # The benchmark measures latency, not the throttles: eight clients on one token would hit them.
        PORTAL_THROTTLE_ANON="1000000/minute",
        PORTAL_THROTTLE_USER="1000000/minute",
    )
    return env


def ensure_database(env: dict, regenerate: bool) -> None:
    import psycopg2

    parts = urlsplit(env["DATABASE_URL"])
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    admin.close()
    run = lambda *args: subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: E731
    run("migrate", "--noinput", "-v", "0")
    run("collectstatic", "--noinput", "-v", "0")
    os.environ.update(env)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allocation_portal.settings")
    django.setup()
    from projects.models import Project

    if regenerate or not Project.objects.filter(code__startswith="SCL-").exists():
        run("generate_scale_data", "--reset", "--force")


def start_gunicorn(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    workers = env.get("GUNICORN_WORKERS", "3")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "allocation_portal.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", workers, "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def login_cookie(port: int, username: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    body = response.read().decode()
    csrf = response.getheader("Set-Cookie").split("csrftoken=")[1].split(";")[0]
    token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "POST", "/accounts/login/", f"username={username}&password={password}&csrfmiddlewaretoken={token}",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
         "Referer": f"http://127.0.0.1:{port}/accounts/login/"},
    )
    response = conn.getresponse()
    response.read()
    cookies = response.getheaders()
    session = [v.split(";")[0] for k, v in cookies if k.lower() == "set-cookie" and v.startswith("sessionid=")]
    if response.status != 302 or not session:
        raise RuntimeError(f"login failed for {username}: {response.status}")
    return f"csrftoken={csrf}; {session[0]}"


def timed_get(port: int, path: str, headers: dict) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status}")
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure(port: int, path: str, headers: dict, clients: int, requests: int) -> dict:
    for _ in range(3):
        timed_get(port, path, headers)
    samples: list[float] = []
    lock = threading.Lock()
    per_client = max(requests // clients, 5) if clients > 1 else requests

    def work():
        mine = [timed_get(port, path, headers) for _ in range(per_client)]
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 95), 1),
            "n": len(samples), "rps": round(len(samples) / wall, 1)}


def count_queries(path: str, user, token: str | None) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Token {token}"
    else:
        client.force_login(user)
    client.get(path, **headers)  # warm caches as the server's would be
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code}")
    return len(ctx.captured_queries)


def timed_job(function) -> dict:
    """Run a write job inside a transaction that is rolled back, so the data stays as generated."""
    from django.db import transaction

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    result = None
    try:
        with transaction.atomic():
            result = function()
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return {"seconds": round(elapsed, 2), "result": result}


def jobs() -> dict:
    from allocation_portal import months
    from allocation_portal.models import User
    from monitoring.reclamation import latest_checkable_month, monthly_check_run
    from monitoring.redistribution import redistribution_propose
    from monitoring.services import reports_upload
    from projects.models import Project

    admin = User.objects.get(username="scale-admin")
    last = latest_checkable_month()
    upload_month = months.add_months(months.current(), -1)

    def check():
        run = monthly_check_run(month=last)
        return {"projects_checked": run.projects_checked, "cases": run.cases_opened, "errors": len(run.errors)}

    def propose():
        return {"proposals": len(redistribution_propose(actor=admin))}

    def upload():
        # 500 project-months the projects held GPUs in: corrections where a report exists.
        rows = []
        for month in (upload_month, months.add_months(upload_month, -1), months.add_months(upload_month, -2)):
            for p in Project.objects.filter(actual_start__lt=month, end_date__gte=months.next_month(month)).order_by("code"):
                if len(rows) < 500:
                    rows.append({"project": p.code, "month": months.label(month), "gpu_hours_used": "100",
                                 "peak_gpus_busy": "1", "within_purpose": "Y", "ai_basic_act": "Y",
                                 "personal_information": "NA", "training_data_copyright": "Y", "notes": ""})
        started = time.perf_counter()
        saved = reports_upload(actor=admin, rows=rows)
        return {"rows": len(rows), "saved": len(saved), "upload_seconds": round(time.perf_counter() - started, 2)}

    results = {"monthly_check": timed_job(check), "redistribution_proposal": timed_job(propose)}
    upload_result = timed_job(upload)
    upload_result["seconds"] = upload_result["result"]["upload_seconds"]
    results["report_upload_500_rows"] = upload_result
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--requests", type=int, default=40, help="requests per page and client setting")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--skip-pages", action="store_true", help="only the jobs")
    parser.add_argument("--only", action="append", metavar="PAGE",
                        help="measure only this page (its name in the table; repeatable; the floor is always measured)")
    parser.add_argument("--metering", action="store_true",
                        help="also measured usage at national scale (benchmarks/metering.py: a few minutes)")
    args = parser.parse_args()

    env = bench_env()
    ensure_database(env, args.regenerate)
    from rest_framework.authtoken.models import Token

    from allocation_portal import months
    from allocation_portal.models import User
    from monitoring.models import ReclamationCase
    from outcomes import store
    from projects.models import Project

    if not ReclamationCase.objects.exists():
        from monitoring.reclamation import monthly_check_run

        for back in (3, 2):  # some decided history for the case list
            monthly_check_run(month=months.add_months(months.current(), -back))
    # What production's daily job (outcomes.tasks.keep_outcome_months, 04:00) has done by the time anyone
    # reads: the ended months' outcome figures kept. The server measured here runs no Celery worker.
    store.keep()
    admin = User.objects.get(username="scale-admin")
    Token.objects.filter(user=admin).delete()  # a fresh token: an old one may have expired
    token = Token.objects.create(user=admin)
    project = Project.objects.filter(actual_start__isnull=False).order_by("actual_start").first()
    pages = [
        ("bare view (floor)", "/ping", False),
        ("programme overview", "/programme/", False),
        ("project list", "/projects/", False),
        ("project list, page 15", "/projects/?page=15", False),
        ("project detail", f"/projects/{project.code}/", False),
        ("monthly status board", "/monitoring/board/", False),
        ("lending queue", "/lending/queue/", False),
        ("reclamation cases", "/monitoring/cases/", False),
        ("API projects", "/api/v1/projects/", True),
        ("API projects, page 8", "/api/v1/projects/?page=8", True),
        ("API status board", "/api/v1/board/", True),
        ("API lending queue", "/api/v1/loan-requests/?ranked=1", True),
        ("API cases", "/api/v1/cases/", True),
        ("API reports", "/api/v1/reports/", True),
        ("API loans", "/api/v1/loans/", True),
        ("outcomes dashboard", "/programme/outcomes/", False),
        ("API outcomes, 36 months", f"/api/v1/programme/outcomes/?from={months.label(months.add_months(months.current(), -35))}", True),
        ("API forecast", "/api/v1/programme/forecast/", True),
    ]
    if args.only:
        unknown = set(args.only) - {name for name, _path, _api in pages}
        if unknown:
            parser.error(f"no such page: {', '.join(sorted(unknown))}")
        pages = [page for page in pages if page[0] in args.only or page[0] == "bare view (floor)"]
    results = {"pages": {}, "jobs": {}, "targets": {"p95_ms": TARGET_MS, "queries": TARGET_QUERIES,
                                                      "monthly_check_s": 5, "redistribution_s": 2, "upload_s": 3}}
    if not args.skip_pages:
        server, port = start_gunicorn(env)
        try:
            cookie = login_cookie(port, "scale-admin", "scale-data-password")
            for name, path, is_api in pages:
                headers = {"Authorization": f"Token {token.key}"} if is_api else {"Cookie": cookie}
                row = {"path": path}
                row["one_client"] = measure(port, path, headers, 1, args.requests)
                row["eight_clients"] = measure(port, path, headers, 8, args.requests * 2)
                row["queries"] = 0 if path == "/ping" else count_queries(path, admin, token.key if is_api else None)
                results["pages"][name] = row
                print(f"  {name}: p95 {row['one_client']['p95_ms']} ms, {row['queries']} queries", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=15)
    floor = results["pages"]["bare view (floor)"]["one_client"]["p50_ms"] if results["pages"] else 1
    for row in results["pages"].values():
        row["ratio_to_floor"] = round(row["one_client"]["p50_ms"] / floor, 1)
    if not args.skip_jobs:
        print("  jobs: monthly check, redistribution proposal, 500-row upload ...", flush=True)
        results["jobs"] = jobs()
    if args.metering:
        from benchmarks import metering

        print("  metering: a month of sacct (2 million job rows), of telemetry (37 million points), reconciliation ...",
              flush=True)
        results.setdefault("jobs", {}).update(metering.run(User.objects.get(username="scale-admin")))

    print(f"\n{'page / endpoint':<26}{'p50':>8}{'p95':>8}{'p50×8':>8}{'p95×8':>8}{'rps×8':>8}{'queries':>9}{'×floor':>8}  target")
    for name, row in results["pages"].items():
        one, eight = row["one_client"], row["eight_clients"]
        ok = one["p95_ms"] <= TARGET_MS and row["queries"] <= TARGET_QUERIES
        print(f"{name:<26}{one['p50_ms']:>8}{one['p95_ms']:>8}{eight['p50_ms']:>8}{eight['p95_ms']:>8}{eight['rps']:>8}"
              f"{row['queries']:>9}{row['ratio_to_floor']:>8}  {'ok' if ok else 'MISSED'}")
    limits = {"monthly_check": 5, "redistribution_proposal": 2, "report_upload_500_rows": 3, "sacct_month": 60,
              "telemetry_month": 60, "reconciliation_all_projects": 5}
    for name, job in results.get("jobs", {}).items():
        print(f"{name:<26}{job['seconds']:>8} s  (target ≤ {limits[name]} s: {'ok' if job['seconds'] <= limits[name] else 'MISSED'})"
              f"  {json.dumps(job['result'], ensure_ascii=False)}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
