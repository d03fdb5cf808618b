"""Receiving measured usage from a provider: read, attribute to the ledger's holders, store.

Idempotent: the same figures for the same provider, source and period change nothing; different
figures for a period already received replace the earlier ones (audited, with both totals)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, ValidationFailed
from allocation_portal.messages import label, msg
from gpus.models import Gpu, Provider, Server

from . import sacct, telemetry
from .attribution import Timelines, Totals, totals
from .models import MeasuredUsage, Source, UsageBatch

MAX_SACCT_ROWS = 5_000_000
UNKNOWN_NODES_KEPT = 50


@dataclass
class Received:
    batch: UsageBatch
    changed: bool
    replaced: UsageBatch | None = None
    by_holder: dict[str, float] = field(default_factory=dict)


def may_send_usage(actor, provider: Provider) -> bool:
    return bool(actor is not None and (actor.is_msit_admin or (actor.is_provider_operator
                                                                and actor.provider_id == provider.pk)))


def _check_may_send(actor, provider: Provider) -> None:
    if not may_send_usage(actor, provider):
        raise NotPermitted(_("Only the provider's operators and MSIT admins send its measured usage."))


def provider_gpus(provider: Provider) -> dict[tuple[str, int], tuple[int, int]]:
    """{(hostname, GPU index): (server id, GPU id)} of the provider's GPUs: how telemetry names a GPU."""
    return {(host, index): (server_id, gpu_id) for gpu_id, index, server_id, host in
            Gpu.objects.filter(server__cluster__provider=provider)
            .values_list("id", "index", "server_id", "server__hostname")}


def _period(month: dt.date | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The month asked for, or the last month that has ended (sacct is run after the month ends)."""
    month = month or months.add_months(months.first_day(timezone.localdate(now)), -1)
    return months.bounds(month)


def _lines(file) -> Iterator[str]:
    """The file's lines as text (UTF-8, a BOM allowed), read as they come."""
    if hasattr(file, "seek"):
        file.seek(0)
    for number, raw in enumerate(file):
        if number == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        yield raw.decode("utf-8")


def sacct_receive(*, actor, provider: Provider, file, file_name: str = "", month: dt.date | None = None,
                  now: dt.datetime | None = None, check_permission: bool = True) -> Received:
    """Slurm accounting for one provider and one KST month: each job run's allocated GPU time on each
    node, attributed to the holders of that server's GPUs at that time. (`check_permission=False`:
    the command line, whose user runs the portal's own machine.)"""
    if check_permission:
        _check_may_send(actor, provider)
    now = now or timezone.now()
    period_start, period_end = _period(month, now)
    if period_start >= now:
        raise ValidationFailed(_("That month has not begun."), fields={"month": [_("A month that has begun.")]})
    counted_until = min(period_end, now)  # a running job counts up to now, or the month's end
    servers = dict(Server.objects.filter(cluster__provider=provider).values_list("hostname", "id"))
    # Every server's holders over the month, read once; runs are then attributed as they are read.
    timelines = Timelines(servers.values(), period_start, period_end)
    measured = totals()
    unknown: dict[str, float] = defaultdict(float)
    records = provisional = 0
    try:
        for run in sacct.parse(_lines(file), period_start=period_start, period_end=counted_until,
                               max_rows=MAX_SACCT_ROWS):
            records += 1
            provisional += run.running
            for node, piece in sacct.node_pieces(run):
                server_id = servers.get(node)
                if server_id is None:
                    unknown[node] += piece.gpu_seconds
                else:
                    timelines.attribute(server_id, piece.start, piece.end, piece.gpus, measured)
    except sacct.SacctError as exc:
        raise ValidationFailed(_("The sacct file cannot be read: %(error)s") % {"error": exc},
                               fields={"file": [str(exc)]}) from None
    except UnicodeDecodeError:
        raise ValidationFailed(_("The sacct file is not UTF-8 text."), fields={"file": [_("Not UTF-8 text.")]}) from None
    return store(actor=actor, provider=provider, source=Source.SCHEDULER, period=(period_start, period_end),
                 measured=measured, unknown=unknown, file_name=file_name, records=records, runs=records,
                 provisional=provisional)


def _digest(measured: Totals, unknown: dict) -> str:
    h = hashlib.sha256()
    for (server_id, gpu_id, day, holder), (seconds, covered) in sorted(
            measured.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2], str(kv[0][3]))):
        h.update(f"{server_id}|{gpu_id}|{day}|{holder}|{round(seconds)}|{round(covered)}\n".encode())
    for node, seconds in sorted(unknown.items()):
        h.update(f"?{node}|{round(seconds)}\n".encode())
    return h.hexdigest()


COPY_SQL = ("COPY metering_measuredusage (batch_id, source, server_id, gpu_id, day, holder_kind, project_id, loan_id, "
            "gpu_seconds, covered_seconds) FROM STDIN WITH (FORMAT csv, NULL '')")


def _copy_rows(batch: UsageBatch, measured: Totals) -> None:
    """The delivery's rows in one COPY (a national month is hundreds of thousands of rows). Covered
    seconds exist for telemetry only."""
    source = batch.source
    telemetry_source = source == Source.TELEMETRY
    buffer = io.StringIO()
    out = csv.writer(buffer)
    for (server_id, gpu_id, day, (kind, project_id, loan_id)), (seconds, covered) in measured.items():
        if seconds > 0 or (telemetry_source and covered > 0):
            out.writerow([batch.pk, source, server_id, gpu_id or "", day.isoformat(), kind, project_id or "",
                          loan_id or "", repr(seconds), repr(covered) if telemetry_source else ""])
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(COPY_SQL, buffer)


def store(*, actor, provider, source, period, measured: Totals, unknown: dict, file_name: str = "", records: int = 0,
          runs: int = 0, provisional: int = 0, details: dict | None = None) -> Received:
    """Keep one delivery's figures: unchanged if the same as the current ones for the period, else
    they become current and the earlier ones are removed (their totals stay in the audit trail)."""
    digest = _digest(measured, unknown)
    by_holder: dict[str, float] = defaultdict(float)
    for (_server, _gpu, _day, (kind, _p, _l)), (seconds, _covered) in measured.items():
        by_holder[kind] += seconds
    with transaction.atomic():
        # One delivery per provider at a time: two uploads of the same period never both become current.
        Provider.objects.select_for_update().get(pk=provider.pk)
        current = UsageBatch.objects.filter(provider=provider, source=source, period_start=period[0],
                                            period_end=period[1], current=True).first()
        if current is not None and current.digest == digest:
            return Received(batch=current, changed=False, by_holder=dict(by_holder))
        if current is not None:
            current.current = False
            current.save(update_fields=["current"])
        batch = UsageBatch.objects.create(
            provider=provider, source=source, period_start=period[0], period_end=period[1], digest=digest,
            file_name=(file_name or "")[:200], records=records, runs=runs, provisional=provisional,
            gpu_seconds=sum(v[0] for v in measured.values()) + sum(unknown.values()),
            unknown_nodes=[{"node": n, "gpu_seconds": round(s)} for n, s in
                           sorted(unknown.items(), key=lambda kv: -kv[1])[:UNKNOWN_NODES_KEPT]],
            received_by=actor if getattr(actor, "pk", None) else None, current=True, details=details or {},
        )
        _copy_rows(batch, measured)
        if current is not None:
            MeasuredUsage.objects.filter(batch=current).delete()
            current.superseded_by = batch
            current.save(update_fields=["superseded_by"])
        summary = {"gpu_hours": round(batch.gpu_seconds / 3600, 2), "runs": runs, "provisional": provisional,
                   "by_holder": {k: round(v / 3600, 2) for k, v in sorted(by_holder.items())}}
        audit.record(
            actor=actor, action="metering.replace" if current else "metering.ingest", obj=batch,
            before=({"gpu_hours": round(current.gpu_seconds / 3600, 2), "batch": str(current.public_id)}
                    if current else None),
            after=summary,
            reason=msg(gettext_noop("%(source)s for %(month)s from %(provider)s"),
                       source=label(Source(source).label),
                       month=timezone.localtime(period[0]).strftime("%Y-%m"), provider=provider.code),
        )
    return Received(batch=batch, changed=True, replaced=current, by_holder=dict(by_holder))


def telemetry_pull(*, actor, provider: Provider, first_day: dt.date, last_day: dt.date, url: str | None = None,
                   step_s: int = 3600, check_permission: bool = True) -> list[Received]:
    """GPU telemetry from the provider's Prometheus (`url`, or the address MSIT keeps for the provider)
    for each KST day from `first_day` to `last_day` (inclusive), one delivery per day: busy and covered
    GPU-seconds per GPU, attributed to the GPU's holder at that time. A day pulled again with the same
    figures changes nothing."""
    if check_permission:
        _check_may_send(actor, provider)
    url = url or provider.prometheus_url
    if not url:
        raise ValidationFailed(_("No Prometheus address is kept for this provider."),
                               fields={"provider": [_("MSIT sets the provider's Prometheus address.")]})
    if last_day < first_day or (last_day - first_day).days > 366:
        raise ValidationFailed(_("Pull at most a year, from a day to a later day."),
                               fields={"to": [_("On or after the first day, within a year.")]})
    if step_s < 1 or 86400 % step_s:
        raise ValidationFailed(_("The step must divide a day."), fields={"step": [_("For example 3600.")]})
    today = timezone.localdate()
    if last_day >= today:
        raise ValidationFailed(_("Only days that have ended can be pulled."), fields={"to": [_("Yesterday at the latest.")]})
    gpus = provider_gpus(provider)
    received = []
    day = first_day
    while day <= last_day:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), telemetry.KST)
        try:
            series = telemetry.day_series(url, start, start + dt.timedelta(days=1), step_s)
        except telemetry.PrometheusError as exc:
            raise ValidationFailed(_("Prometheus refused or did not answer: %(error)s") % {"error": exc},
                                   code="upstream", fields={"prometheus": [str(exc)]}) from None
        received.append(telemetry_store_day(actor=actor, provider=provider, day_start=start, series=series,
                                            step_s=step_s, source_name=url, gpus=gpus))
        day += dt.timedelta(days=1)
    return received


def telemetry_store_day(*, actor, provider: Provider, day_start: dt.datetime, series: list[telemetry.Series], step_s: int,
                        source_name: str = "", gpus: dict[tuple[str, int], tuple[int, int]] | None = None) -> Received:
    """One KST day of a provider's telemetry: each GPU's busy and covered seconds to its holder. A GPU
    whose holder did not change that day is summed at once; otherwise each step goes to its holder."""
    if gpus is None:
        gpus = provider_gpus(provider)
    day_end = day_start + dt.timedelta(days=1)
    timelines = Timelines({gpus[(s.host, s.gpu)][0] for s in series if (s.host, s.gpu) in gpus}, day_start, day_end)
    measured = totals()
    unknown: dict[str, float] = defaultdict(float)
    by_metric: dict[str, float] = defaultdict(float)
    step = dt.timedelta(seconds=step_s)
    day = timezone.localtime(day_start, telemetry.KST).date()
    points = 0
    for one in series:
        points += len(one.values)
        found = gpus.get((one.host, one.gpu))
        if found is None:
            unknown[f"{one.host}/gpu{one.gpu}"] += sum(one.values) * step_s
            continue
        server_id, gpu_id = found
        by_metric[one.metric] += len(one.values) * step_s
        holder = timelines.holder_through(server_id, gpu_id, day_start, day_end)
        if holder is not None:
            cell = measured[(server_id, gpu_id, day, holder)]
            cell[0] += sum(one.values) * step_s
            cell[1] += len(one.values) * step_s
            continue
        for stamp, value in zip(one.ends, one.values, strict=True):
            end = dt.datetime.fromtimestamp(stamp, tz=telemetry.KST)
            timelines.attribute_gpu(server_id, gpu_id, end - step, end, value, measured)
    return store(
        actor=actor, provider=provider, source=Source.TELEMETRY, period=(day_start, day_end), measured=measured,
        unknown=unknown, file_name=source_name[:200], records=points,
        details={"step_s": step_s, "covered_gpu_seconds_by_metric": {k: round(v) for k, v in by_metric.items()}},
    )
