"""Measured usage at national scale (issue 13), run by benchmarks/run.py inside rolled-back transactions:

- a month of Slurm accounting for every server of the scale data (50,000 GPUs), at least 2 million job
  rows, generated as `sacct --parsable2` prints them, one file per provider, received as operators send it;
- a month of hourly GPU telemetry for every GPU (50,000 × 744 = 37 million points), as the per-day
  series `pull_usage` reads from Prometheus, attributed and stored day by day (the HTTP transfer itself
  is Prometheus's, not measured here);
- the reconciliation of all projects for the month: allocated, scheduled, busy and reported side by side."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

JOB_ROWS = 2_000_000
SEED = 2026


def _month(now: dt.date) -> dt.date:
    first = now.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)


def generate_sacct(directory: Path, month: dt.date, rows: int = JOB_ROWS, seed: int = SEED) -> dict[str, Path]:
    """One sacct file per provider: `rows` allocation rows in all, 85% on one node, the rest on 2 or 4
    neighbouring nodes; a tenth of them requeued once (a second record)."""
    from gpus.models import Server

    rng = random.Random(seed)
    by_provider: dict[str, list[str]] = defaultdict(list)
    for provider, host in Server.objects.order_by("hostname").values_list("cluster__provider__code", "hostname"):
        by_provider[provider].append(host)
    total = sum(len(h) for h in by_provider.values())
    start = dt.datetime(month.year, month.month, 1)
    seconds = int(((start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - start).total_seconds())
    files = {}
    for provider, hosts in by_provider.items():
        path = directory / f"sacct-{provider}.txt"
        share = round(rows * len(hosts) / total)
        with path.open("w") as out:
            job = 0
            while job < share:
                n = 1 if rng.random() < 0.85 else rng.choice((2, 4))
                first = rng.randrange(0, len(hosts) - n + 1)
                if hosts[first].rsplit("-", 1)[0] != hosts[first + n - 1].rsplit("-", 1)[0]:
                    n = 1  # neighbours in one cluster only
                nodes = hosts[first] if n == 1 else f"{hosts[first].rsplit('-', 1)[0]}-[{hosts[first].rsplit('-', 1)[1]}-{hosts[first + n - 1].rsplit('-', 1)[1]}]"
                gpus = 8 * n if n > 1 else rng.choice((1, 2, 4, 8))
                begin = start + dt.timedelta(seconds=rng.randrange(0, seconds - 60))
                length = min(rng.randrange(600, 14_400), int((start + dt.timedelta(seconds=seconds) - begin).total_seconds()))
                end = begin + dt.timedelta(seconds=length)
                job += 1
                tres = f"billing={gpus},cpu={14 * gpus},gres/gpu:b200={gpus},gres/gpu={gpus},mem={236 * gpus}G,node={n}"
                state = "REQUEUED" if rng.random() < 0.1 and job < share else "COMPLETED"
                out.write(f"{job}|{job}|{provider}|acct{job % 500}|u{job % 997}|{state}|{begin:%Y-%m-%dT%H:%M:%S}|"
                          f"{begin:%Y-%m-%dT%H:%M:%S}|{end:%Y-%m-%dT%H:%M:%S}|{length}|{tres}|{nodes}\n")
                if state == "REQUEUED":  # the second run of the same job: another record, the same JobIDRaw
                    job += 1
                    again = end + dt.timedelta(seconds=60)
                    rest = max(60, min(length, int((start + dt.timedelta(seconds=seconds) - again).total_seconds())))
                    out.write(f"{job - 1}|{job - 1}|{provider}|acct{job % 500}|u{job % 997}|COMPLETED|"
                              f"{again:%Y-%m-%dT%H:%M:%S}|{again:%Y-%m-%dT%H:%M:%S}|"
                              f"{again + dt.timedelta(seconds=rest):%Y-%m-%dT%H:%M:%S}|{rest}|{tres}|{nodes}\n")
        files[provider] = path
    return files


def telemetry_series(gpus: list[tuple[str, int]], day_start: dt.datetime, rng: random.Random):
    """A day's hourly series for each GPU, as `metering.telemetry.day_series` returns them."""
    from metering.telemetry import PRIMARY, Series

    ends = [day_start.timestamp() + 3600 * (h + 1) for h in range(24)]
    for host, index in gpus:
        level = rng.random()
        yield Series(host=host, gpu=index, metric=PRIMARY, ends=ends, values=[level] * 24)


def run(admin) -> dict:
    """{job: {"seconds": …, "result": …}} for the three metering jobs (each rolled back)."""
    from django.db import transaction
    from django.utils import timezone

    from allocation_portal import months
    from gpus.models import Provider
    from metering.services import provider_gpus, sacct_receive, telemetry_store_day
    from monitoring.selectors import month_board
    from projects.models import Project

    class Rollback(Exception):
        pass

    month = _month(timezone.localdate())
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        files = generate_sacct(Path(folder), month)
        generated = time.perf_counter() - started
        rows = sum(sum(1 for _line in path.open()) for path in files.values())
        try:
            with transaction.atomic():
                started = time.perf_counter()
                hours = 0.0
                for code, path in files.items():
                    with path.open("rb") as handle:
                        received = sacct_receive(actor=admin, provider=Provider.objects.get(code=code), file=handle,
                                                 file_name=path.name, month=month)
                    hours += received.batch.gpu_seconds / 3600
                elapsed = time.perf_counter() - started
                results["sacct_month"] = {"seconds": round(elapsed, 2), "result": {
                    "job_rows": rows, "files": len(files), "gpu_hours": round(hours), "generated_in_s": round(generated, 1)}}

                # The reconciliation reads what was just stored: all projects' month, every source.
                started = time.perf_counter()
                board = month_board(Project.objects.all(), month)
                measured = sum(1 for r in board.rows if r.month.measured is not None)
                results["reconciliation_all_projects"] = {"seconds": round(time.perf_counter() - started, 2),
                                                          "result": {"projects": len(board.rows), "with_measured": measured}}
                raise Rollback
        except Rollback:
            pass

    rng = random.Random(SEED)
    try:
        with transaction.atomic():
            started = time.perf_counter()
            points = 0
            for provider in Provider.objects.order_by("code"):
                gpus_of = provider_gpus(provider)
                keys = sorted(gpus_of)
                day = months.start_of(month)
                while day < months.start_of(months.next_month(month)):
                    series = list(telemetry_series(keys, day, rng))
                    points += sum(len(s.values) for s in series)
                    telemetry_store_day(actor=admin, provider=provider, day_start=day, series=series, step_s=3600,
                                        source_name="benchmark", gpus=gpus_of)
                    day += dt.timedelta(days=1)
            results["telemetry_month"] = {"seconds": round(time.perf_counter() - started, 2), "result": {"points": points}}
            raise Rollback
    except Rollback:
        pass
    return results
