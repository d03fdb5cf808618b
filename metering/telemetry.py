"""GPU telemetry from a provider's Prometheus (NVIDIA DCGM exporter metrics), as busy GPU time per GPU.

One `query_range` per KST day with hourly steps (../shared/telemetry/TELEMETRY.md §2-3):
- the busy fraction of each GPU in each hour is `avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE[1h])`
  (activity-weighted, as XDMoD's "GPU Hours Active"); where a GPU has no such series (profiling
  metrics are missing on some Hopper/Blackwell set-ups), `DCGM_FI_DEV_GPU_UTIL / 100` instead, an
  hour with an absurd reading (above 100) left unknown; which metric each figure used is recorded;
- series are taken `max by (Hostname, gpu)`, so pod churn (a GPU continuing as a new series) and
  time-slicing never count one GPU twice, and the exporter's label `Hostname` or (from 2026) `hostname`
  are both read;
- a point at `t` covers (t − 1h, t]: the point at the day's start belongs to the day before;
- an hour with no point (the exporter or Prometheus down, a restart) is not covered: missing data is
  recorded as missing, never as idle."""

from __future__ import annotations

import datetime as dt
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from .sacct import KST

PRIMARY = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
FALLBACK = "DCGM_FI_DEV_GPU_UTIL"
HOST_LABELS = 'label_replace({expr}, "Hostname", "$1", "hostname", "(.+)")'
QUERIES = {
    PRIMARY: f"max by (Hostname, gpu) ({HOST_LABELS.format(expr='avg_over_time(' + PRIMARY + '[{window}])')})",
    # An hour with an absurd GPU_UTIL reading (up to 4294967295 is seen) is left unknown, not averaged.
    FALLBACK: "max by (Hostname, gpu) (" + HOST_LABELS.format(
        expr=f"(avg_over_time({FALLBACK}[{{window}}]) / 100) and (max_over_time({FALLBACK}[{{window}}]) <= 100)") + ")",
}
TIMEOUT_S = 120
MAX_POINTS = 11_000  # Prometheus refuses more points per series in one query_range


class PrometheusError(Exception):
    pass


@dataclass(frozen=True)
class Sample:
    host: str
    gpu: int
    start: dt.datetime
    end: dt.datetime
    busy: float  # 0..1
    metric: str


def query_range(url: str, query: str, start: dt.datetime, end: dt.datetime, step_s: int) -> list[dict]:
    """The `result` of /api/v1/query_range (a matrix), or PrometheusError with the server's words."""
    if (end - start).total_seconds() / step_s > MAX_POINTS:
        raise PrometheusError(f"more than {MAX_POINTS} points per series: use a shorter period or a longer step")
    body = urllib.parse.urlencode({"query": query, "start": f"{start.timestamp():.3f}",
                                   "end": f"{end.timestamp():.3f}", "step": str(step_s)}).encode()
    target = url.rstrip("/") + "/api/v1/query_range"
    if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
        raise PrometheusError("the Prometheus address must be http:// or https://")
    request = urllib.request.Request(target, data=body, method="POST",  # noqa: S310 (scheme checked above)
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            payload = json.load(exc)
        except ValueError:
            raise PrometheusError(f"HTTP {exc.code} from Prometheus") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise PrometheusError(f"Prometheus at {url} did not answer: {exc}") from None
    if payload.get("status") != "success":
        raise PrometheusError(f"{payload.get('errorType', 'error')}: {payload.get('error', 'unknown')}")
    data = payload.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError("Prometheus did not answer with a matrix")
    return data.get("result") or []


def _samples(result: list[dict], metric: str, step_s: int) -> Iterator[Sample]:
    step = dt.timedelta(seconds=step_s)
    for series in result:
        labels = series.get("metric") or {}
        host, gpu = labels.get("Hostname"), labels.get("gpu")
        if not host or gpu is None or not str(gpu).isdigit():
            continue
        for stamp, raw in series.get("values") or []:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                continue
            if math.isnan(value) or math.isinf(value):
                continue
            end = dt.datetime.fromtimestamp(float(stamp), tz=KST)
            yield Sample(host=host, gpu=int(gpu), start=end - step, end=end, busy=min(max(value, 0.0), 1.0),
                         metric=metric)


def day_samples(url: str, day_start: dt.datetime, day_end: dt.datetime, step_s: int = 3600) -> Iterator[Sample]:
    """Every GPU's busy fraction per step over [day_start, day_end): the primary metric, and the
    fallback for the (host, GPU, step) the primary does not cover."""
    window = f"{step_s}s"
    first, last = day_start + dt.timedelta(seconds=step_s), day_end
    seen: set[tuple[str, int, dt.datetime]] = set()
    for sample in _samples(query_range(url, QUERIES[PRIMARY].format(window=window), first, last, step_s), PRIMARY,
                           step_s):
        seen.add((sample.host, sample.gpu, sample.end))
        yield sample
    for sample in _samples(query_range(url, QUERIES[FALLBACK].format(window=window), first, last, step_s), FALLBACK,
                           step_s):
        if (sample.host, sample.gpu, sample.end) not in seen:
            yield sample
