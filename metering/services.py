"""Receiving measured usage from a provider: read, attribute to the ledger's holders, store.

Idempotent: the same figures for the same provider, source and period change nothing; different
figures for a period already received replace the earlier ones (audited, with both totals)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, ValidationFailed
from allocation_portal.messages import label, msg
from gpus.models import Provider, Server

from . import sacct
from .attribution import Holder, Timelines
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
    if check_permission and not may_send_usage(actor, provider):
        raise NotPermitted(_("Only the provider's operators and MSIT admins send its measured usage."))
    now = now or timezone.now()
    period_start, period_end = _period(month, now)
    if period_start >= now:
        raise ValidationFailed(_("That month has not begun."), fields={"month": [_("A month that has begun.")]})
    counted_until = min(period_end, now)  # a running job counts up to now, or the month's end
    servers = dict(Server.objects.filter(cluster__provider=provider).values_list("hostname", "id"))
    runs, records, provisional = [], 0, 0
    try:
        for run in sacct.parse(_lines(file), period_start=period_start, period_end=counted_until,
                               max_rows=MAX_SACCT_ROWS):
            runs.append(run)
            provisional += run.running
    except sacct.SacctError as exc:
        raise ValidationFailed(_("The sacct file cannot be read: %(error)s") % {"error": exc},
                               fields={"file": [str(exc)]}) from None
    except UnicodeDecodeError:
        raise ValidationFailed(_("The sacct file is not UTF-8 text."), fields={"file": [_("Not UTF-8 text.")]}) from None
    records = len(runs)
    timelines = Timelines((servers[n] for r in runs for n in r.nodes if n in servers), period_start, period_end)
    totals: dict[tuple[int, dt.date, Holder], float] = defaultdict(float)
    unknown: dict[str, float] = defaultdict(float)
    for run in runs:
        for node, piece in sacct.node_pieces(run):
            server_id = servers.get(node)
            if server_id is None:
                unknown[node] += piece.gpu_seconds
            else:
                timelines.attribute(server_id, piece.start, piece.end, piece.gpus, totals)
    return _store(actor=actor, provider=provider, source=Source.SCHEDULER, period=(period_start, period_end),
                  totals=totals, unknown=unknown, file_name=file_name, records=records, runs=len(runs),
                  provisional=provisional)


def _digest(totals: dict, unknown: dict) -> str:
    h = hashlib.sha256()
    for (server_id, day, holder), seconds in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]))):
        h.update(f"{server_id}|{day}|{holder}|{round(seconds)}\n".encode())
    for node, seconds in sorted(unknown.items()):
        h.update(f"?{node}|{round(seconds)}\n".encode())
    return h.hexdigest()


def _store(*, actor, provider, source, period, totals, unknown, file_name, records, runs, provisional,
           covered: dict | None = None) -> Received:
    digest = _digest(totals, unknown)
    by_holder: dict[str, float] = defaultdict(float)
    for (_server, _day, (kind, _p, _l)), seconds in totals.items():
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
            gpu_seconds=sum(totals.values()) + sum(unknown.values()),
            unknown_nodes=[{"node": n, "gpu_seconds": round(s)} for n, s in
                           sorted(unknown.items(), key=lambda kv: -kv[1])[:UNKNOWN_NODES_KEPT]],
            received_by=actor if getattr(actor, "pk", None) else None, current=True,
        )
        MeasuredUsage.objects.bulk_create(
            (MeasuredUsage(batch=batch, source=source, server_id=server_id, day=day, holder_kind=kind,
                           project_id=project_id, loan_id=loan_id, gpu_seconds=seconds,
                           covered_seconds=(covered or {}).get((server_id, day, (kind, project_id, loan_id))))
             for (server_id, day, (kind, project_id, loan_id)), seconds in totals.items() if seconds > 0),
            batch_size=5000,
        )
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
