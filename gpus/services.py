"""Writes to the inventory and the allocation ledger.

Every function here runs in one transaction, checks what it changes while holding locks, and writes
its audit event in that same transaction. The exclusion constraint on AllocationGpu is the last
word on double booking: the Python pre-checks only make the error message friendlier."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation_portal import audit
from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed

from .models import (
    GPUS_PER_SERVER,
    Allocation,
    AllocationGpu,
    Gpu,
    HolderKind,
    Layer,
    Server,
    ServerStatus,
)

EXCLUSION_VIOLATION = "23P01"


def _require_admin(actor, check: bool = True) -> None:
    # `actor=None` is the system itself (a management command or a scheduled job). `check=False`
    # is for services that have already checked their own rule (an applicant returning a loan).
    if check and actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin can change the allocation ledger."))


def _period(starts_at: dt.datetime, ends_at: dt.datetime) -> DateTimeTZRange:
    return DateTimeTZRange(starts_at, ends_at, "[)")


def lock_servers_of(gpu_ids) -> None:
    """Lock the server rows of these GPUs, in id order. Every approval that hands GPUs out (a loan,
    redistribution of reserve servers to a project) takes these locks first, so they queue instead
    of both passing their checks."""
    server_ids = Gpu.objects.filter(pk__in=list(gpu_ids)).values("server_id")
    list(Server.objects.select_for_update().filter(pk__in=server_ids).order_by("pk").values_list("pk", flat=True))


def allocation_snapshot(allocation: Allocation) -> dict:
    return {
        "holder_kind": allocation.holder_kind,
        "project": allocation.project.code if allocation.project_id else None,
        "loan": str(allocation.loan.public_id) if getattr(allocation, "loan_id", None) else None,
        "cluster": allocation.cluster.code,
        "gpu_count": allocation.gpu_count,
        "servers": sorted({row.gpu.server.hostname for row in allocation.gpu_rows.select_related("gpu__server")}),
        "starts_at": allocation.starts_at.isoformat(),
        "ends_at": allocation.ends_at.isoformat(),
        "released_at": allocation.released_at.isoformat() if allocation.released_at else None,
    }


def _conflicts(gpu_ids: Sequence[int], layer: str, starts_at, ends_at, exclude_allocation=None):
    qs = AllocationGpu.objects.filter(
        gpu_id__in=gpu_ids, layer=layer, period__overlap=_period(starts_at, ends_at)
    ).select_related("allocation", "allocation__project", "gpu__server")
    if exclude_allocation is not None:
        qs = qs.exclude(allocation=exclude_allocation)
    return list(qs[:20])


def _conflict_error(rows) -> CapacityConflict:
    servers = sorted({row.gpu.server.hostname for row in rows})
    holders = sorted({row.allocation.holder_label for row in rows})
    return CapacityConflict(
        _("These GPUs are already promised for part of that period (servers %(servers)s, held by %(holders)s).")
        % {"servers": ", ".join(servers[:8]) or "-", "holders": ", ".join(holders[:5]) or "-"},
        fields={"gpus": [_("Already held for an overlapping period.")]},
    )


def allocation_award(
    *,
    actor,
    holder_kind: str,
    gpus: Iterable[Gpu],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    project=None,
    loan=None,
    parent: Allocation | None = None,
    check_permission: bool = True,
) -> Allocation:
    """Promise `gpus` to one holder for [starts_at, ends_at)."""
    _require_admin(actor, check_permission)
    gpus = list(gpus)
    if not reason or not reason.strip():
        raise ValidationFailed(_("A reason is required for every ledger entry."), fields={"reason": [_("Required.")]})
    if not gpus:
        raise ValidationFailed(_("Choose at least one GPU."), fields={"gpus": [_("Required.")]})
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("Ledger periods must be timezone-aware.")
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."), fields={"ends_at": [_("Must be after the start.")]})
    if len({g.pk for g in gpus}) != len(gpus):
        raise ValidationFailed(_("The same GPU was listed twice."), fields={"gpus": [_("Duplicate GPU.")]})

    layer = Layer.LOAN if holder_kind == HolderKind.LOAN else Layer.AWARD
    if holder_kind == HolderKind.PROJECT and project is None:
        raise ValueError("A project award needs its project.")

    gpu_rows = list(Gpu.objects.filter(pk__in=[g.pk for g in gpus]).select_related("server__cluster"))
    clusters = {g.server.cluster_id for g in gpu_rows}
    if len(clusters) != 1:
        raise ValidationFailed(
            _("One ledger entry holds GPUs of one cluster; split the award per cluster."), fields={"gpus": [_("Mixed clusters.")]}
        )
    in_maintenance = sorted({g.server.hostname for g in gpu_rows if g.server.status == ServerStatus.MAINTENANCE})
    if in_maintenance:
        raise ValidationFailed(
            _("Servers in maintenance cannot be promised: %(servers)s.") % {"servers": ", ".join(in_maintenance)},
            fields={"gpus": [_("Server in maintenance.")]},
        )
    if holder_kind in (HolderKind.PROJECT, HolderKind.RESERVE):
        per_server = Counter(g.server_id for g in gpu_rows)
        if any(count != GPUS_PER_SERVER for count in per_server.values()):
            raise ValidationFailed(
                _("National projects and the MSIT reserve hold whole servers of 8 GPUs."),
                fields={"gpus": [_("Not whole servers.")]},
            )

    gpu_ids = [g.pk for g in gpu_rows]
    with transaction.atomic():
        conflicts = _conflicts(gpu_ids, layer, starts_at, ends_at)
        if conflicts:
            raise _conflict_error(conflicts)
        allocation = Allocation.objects.create(
            holder_kind=holder_kind,
            layer=layer,
            project=project,
            cluster_id=clusters.pop(),
            gpu_count=len(gpu_rows),
            starts_at=starts_at,
            ends_at=ends_at,
            planned_ends_at=ends_at,
            reason=reason.strip(),
            parent=parent,
            created_by=actor,
            **({"loan": loan} if loan is not None else {}),
        )
        try:
            # A savepoint, so that losing a race leaves the outer transaction usable for the error.
            with transaction.atomic():
                AllocationGpu.objects.bulk_create(
                    AllocationGpu(allocation=allocation, gpu_id=gpu_id, layer=layer, period=_period(starts_at, ends_at))
                    for gpu_id in gpu_ids
                )
        except IntegrityError as exc:
            if getattr(exc.__cause__, "pgcode", None) == EXCLUSION_VIOLATION:
                raise _conflict_error(_conflicts(gpu_ids, layer, starts_at, ends_at, exclude_allocation=allocation)) from exc
            raise
        audit.record(
            actor=actor,
            action="allocation.award",
            obj=allocation,
            after=allocation_snapshot(allocation),
            reason=reason,
        )
    return allocation


def allocation_release(
    *,
    actor,
    allocation: Allocation,
    reason: str,
    at: dt.datetime | None = None,
    gpus: Iterable[Gpu] | None = None,
    action: str = "allocation.release",
    check_permission: bool = True,
) -> Allocation | None:
    """End a holding at `at` (default now). With `gpus`, only those are released: the entry ends and
    a continuation holds the rest until the original end. Returns the continuation, if any."""
    _require_admin(actor, check_permission)
    if not reason or not reason.strip():
        raise ValidationFailed(_("A reason is required to release GPUs."), fields={"reason": [_("Required.")]})
    at = at or timezone.now()
    with transaction.atomic():
        locked = (
            Allocation.objects.select_for_update(of=("self",))
            .select_related("project", "cluster")
            .get(pk=allocation.pk)
        )
        if locked.released_at is not None:
            raise StateConflict(_("This ledger entry was already released."))
        if at >= locked.ends_at:
            raise StateConflict(_("This ledger entry has already ended."))
        before = allocation_snapshot(locked)
        release_at = max(at, locked.starts_at)
        held_ids = list(locked.gpu_rows.values_list("gpu_id", flat=True))
        keep_ids: list[int] = []
        if gpus is not None:
            release_ids = {g.pk for g in gpus}
            unknown = release_ids - set(held_ids)
            if unknown or not release_ids:
                raise ValidationFailed(
                    _("Only GPUs of this entry can be released from it."), fields={"gpus": [_("Not in this entry.")]}
                )
            keep_ids = [gpu_id for gpu_id in held_ids if gpu_id not in release_ids]
        original_end = locked.ends_at
        locked.ends_at = release_at
        locked.released_at = timezone.now()
        locked.released_by = actor
        locked.release_reason = reason.strip()
        locked.save(update_fields=["ends_at", "released_at", "released_by", "release_reason"])
        AllocationGpu.objects.filter(allocation=locked).update(period=_period(locked.starts_at, release_at))
        continuation = None
        if keep_ids:
            continuation = Allocation.objects.create(
                holder_kind=locked.holder_kind,
                layer=locked.layer,
                project=locked.project,
                cluster=locked.cluster,
                gpu_count=len(keep_ids),
                starts_at=release_at,
                ends_at=original_end,
                planned_ends_at=locked.planned_ends_at,
                reason=_("Continues %(entry)s after a partial release.") % {"entry": locked.public_id},
                parent=locked,
                created_by=actor,
                **({"loan_id": locked.loan_id} if getattr(locked, "loan_id", None) else {}),
            )
            AllocationGpu.objects.bulk_create(
                AllocationGpu(
                    allocation=continuation, gpu_id=gpu_id, layer=locked.layer, period=_period(release_at, original_end)
                )
                for gpu_id in keep_ids
            )
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            before=before,
            after={
                **allocation_snapshot(locked),
                "continuation": str(continuation.public_id) if continuation else None,
                "kept_gpus": len(keep_ids),
            },
            reason=reason,
        )
    allocation.refresh_from_db()
    return continuation


def allocation_change_end(
    *, actor, allocation: Allocation, ends_at: dt.datetime, reason: str, check_permission: bool = True
) -> Allocation:
    """Move the end of a holding (a renewal or an early end). Extending it must still fit."""
    _require_admin(actor, check_permission)
    if not reason or not reason.strip():
        raise ValidationFailed(_("A reason is required."), fields={"reason": [_("Required.")]})
    with transaction.atomic():
        locked = Allocation.objects.select_for_update(of=("self",)).select_related("project", "cluster").get(pk=allocation.pk)
        if locked.released_at is not None:
            raise StateConflict(_("This ledger entry was already released."))
        if ends_at <= locked.starts_at:
            raise ValidationFailed(_("The end must be after the start."), fields={"ends_at": [_("Must be after the start.")]})
        before = allocation_snapshot(locked)
        old_end = locked.ends_at
        gpu_ids = list(locked.gpu_rows.values_list("gpu_id", flat=True))
        if ends_at > old_end:
            conflicts = _conflicts(gpu_ids, locked.layer, old_end, ends_at, exclude_allocation=locked)
            if conflicts:
                raise _conflict_error(conflicts)
        locked.ends_at = ends_at
        locked.planned_ends_at = max(locked.planned_ends_at, ends_at)
        locked.save(update_fields=["ends_at", "planned_ends_at"])
        try:
            with transaction.atomic():
                AllocationGpu.objects.filter(allocation=locked).update(period=_period(locked.starts_at, ends_at))
        except IntegrityError as exc:
            if getattr(exc.__cause__, "pgcode", None) == EXCLUSION_VIOLATION:
                raise _conflict_error(_conflicts(gpu_ids, locked.layer, old_end, ends_at, exclude_allocation=locked)) from exc
            raise
        audit.record(
            actor=actor,
            action="allocation.change",
            obj=locked,
            before=before,
            after=allocation_snapshot(locked),
            reason=reason,
        )
    allocation.refresh_from_db()
    return allocation


def server_set_status(*, actor, server: Server, status: str, reason: str) -> Server:
    _require_admin(actor)
    if status not in ServerStatus.values:
        raise ValidationFailed(_("Unknown server status."), fields={"status": [_("Unknown.")]})
    with transaction.atomic():
        locked = Server.objects.select_for_update().get(pk=server.pk)
        if locked.status == status:
            return locked
        before = {"status": locked.status}
        locked.status = status
        locked.save(update_fields=["status"])
        audit.record(actor=actor, action="server.status", obj=locked, before=before, after={"status": status}, reason=reason)
    return locked


def _lock_free_servers(*, cluster, count: int, starts_at, ends_at, layer: str = Layer.AWARD) -> list[Server]:
    """Lock up to `count` servers free for the period. SKIP LOCKED lets concurrent awards take
    different servers; each candidate is re-checked after its lock is held, because a rival may
    have committed a holding on it after our statement's snapshot."""
    from .selectors import free_servers

    chosen: list[Server] = []
    passed_over: set[int] = set()
    while len(chosen) < count:
        candidates = list(
            free_servers(cluster=cluster, starts_at=starts_at, ends_at=ends_at, layer=layer)
            .exclude(pk__in=passed_over | {s.pk for s in chosen})
            .select_for_update(skip_locked=True, of=("self",))[: count - len(chosen)]
        )
        if not candidates:
            break
        busy_now = set(
            AllocationGpu.objects.filter(
                gpu__server__in=candidates, layer=layer, period__overlap=_period(starts_at, ends_at)
            ).values_list("gpu__server_id", flat=True)
        )
        chosen += [s for s in candidates if s.pk not in busy_now]
        passed_over |= busy_now
    return chosen


def project_award_servers(
    *,
    actor,
    project,
    cluster,
    server_count: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
) -> Allocation:
    """Award `server_count` whole servers of `cluster` to a national project for the period.

    Candidate servers are locked with SKIP LOCKED, so concurrent awards pick different servers
    instead of queueing on the same ones; the exclusion constraint still has the final word."""
    _require_admin(actor)
    if server_count < 1:
        raise ValidationFailed(_("Award at least one server."), fields={"server_count": [_("At least 1.")]})
    with transaction.atomic():
        held = sum(
            Allocation.objects.filter(
                project=project, layer=Layer.AWARD, starts_at__lt=ends_at, ends_at__gt=starts_at
            ).values_list("gpu_count", flat=True)
        )
        if held + server_count * GPUS_PER_SERVER > project.gpus_awarded:
            raise ValidationFailed(
                _("%(project)s is awarded %(awarded)s GPUs and already holds %(held)s in that period.")
                % {"project": project.code, "awarded": project.gpus_awarded, "held": held},
                fields={"server_count": [_("More than the project's award.")]},
            )
        servers = _lock_free_servers(cluster=cluster, count=server_count, starts_at=starts_at, ends_at=ends_at)
        if len(servers) < server_count:
            raise CapacityConflict(
                _("Only %(free)s servers of %(cluster)s are free for that whole period; %(asked)s were asked for.")
                % {"free": len(servers), "cluster": cluster.name, "asked": server_count},
                fields={"server_count": [_("Not enough free servers.")]},
            )
        gpus = Gpu.objects.filter(server__in=servers)
        allocation = allocation_award(
            actor=actor,
            holder_kind=HolderKind.PROJECT,
            project=project,
            gpus=gpus,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
        )
        # A project's first award also gives it the default usage plan (ramp-up, then flat).
        from projects.services import usage_plan_create_default

        usage_plan_create_default(actor=actor, project=project)
        return allocation
