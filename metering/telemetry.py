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


@dataclass
class Series:
    """One GPU's points over a day from one metric: `ends[i]` (Unix seconds) closes the step that
    was busy for the fraction `values[i]`."""

    host: str
    gpu: int
    metric: str
    ends: list[float]
    values: list[float]


def _series(result: list[dict], metric: str) -> Iterator[Series]:
    for series in result:
        labels = series.get("metric") or {}
        host, gpu = labels.get("Hostname"), labels.get("gpu")
        if not host or gpu is None or not str(gpu).isdigit():
            continue
        ends, values = [], []
        for stamp, raw in series.get("values") or []:
            try:
                value = float(raw)
            except (TypeError, ValueError):
                continue
            if math.isnan(value) or math.isinf(value):
                continue
            ends.append(float(stamp))
            values.append(min(max(value, 0.0), 1.0))
        if ends:
            yield Series(host=host, gpu=int(gpu), metric=metric, ends=ends, values=values)


def day_series(url: str, day_start: dt.datetime, day_end: dt.datetime, step_s: int = 3600) -> list[Series]:
    """Every GPU's busy fraction per step over [day_start, day_end): the primary metric, and the
    fallback for the (host, GPU, step) the primary does not cover."""
    window = f"{step_s}s"
    first, last = day_start + dt.timedelta(seconds=step_s), day_end
    found = list(_series(query_range(url, QUERIES[PRIMARY].format(window=window), first, last, step_s), PRIMARY))
    seen: dict[tuple[str, int], set[float]] = {}
    for series in found:
        seen.setdefault((series.host, series.gpu), set()).update(series.ends)
    for series in _series(query_range(url, QUERIES[FALLBACK].format(window=window), first, last, step_s), FALLBACK):
        taken = seen.get((series.host, series.gpu), set())
        kept = [(t, v) for t, v in zip(series.ends, series.values, strict=True) if t not in taken]
        if kept:
            found.append(Series(series.host, series.gpu, FALLBACK, [t for t, _v in kept], [v for _t, v in kept]))
    return found


def day_samples(url: str, day_start: dt.datetime, day_end: dt.datetime, step_s: int = 3600) -> Iterator[Sample]:
    """The same points one by one (for reading them, not for storing)."""
    step = dt.timedelta(seconds=step_s)
    for series in day_series(url, day_start, day_end, step_s):
        for stamp, value in zip(series.ends, series.values, strict=True):
            end = dt.datetime.fromtimestamp(stamp, tz=KST)
            yield Sample(host=series.host, gpu=series.gpu, start=end - step, end=end, busy=value, metric=series.metric)
