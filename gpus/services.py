"""Writes to the inventory and the allocation ledger.

Every function here runs in one transaction, checks what it changes while holding locks, and writes
its audit event in that same transaction. The two exclusion constraints on AllocationGpu are the
last word on double booking (within a layer) and double use (across both layers): the Python
pre-checks only make the error message friendlier."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit
from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from allocation_portal.limits import REASON_MAX, checked_text
from allocation_portal.messages import Message, is_message, msg, plain

from .availability import day_start
from .availability import period as _period
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
# A release "now" computed a moment before the transaction is still now; anything earlier is the past.
CLOCK_SKEW = dt.timedelta(seconds=60)


def _require_admin(actor, check: bool = True) -> None:
    # `actor=None` is the system itself (a management command or a scheduled job). `check=False`
    # is for services that have already checked their own rule (an applicant returning a loan).
    if check and actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin can change the allocation ledger."))


def lock_servers_of(gpu_ids) -> None:
    """Lock the server rows of these GPUs, in id order. Every change that hands GPUs to a user (a
    loan, a project's start, redistribution of reserve servers to a project) takes these locks
    first, so they queue instead of both passing their checks."""
    server_ids = Gpu.objects.filter(pk__in=list(gpu_ids)).values("server_id")
    list(Server.objects.select_for_update().filter(pk__in=server_ids).order_by("pk").values_list("pk", flat=True))


def project_period(project) -> tuple[dt.datetime | None, dt.datetime]:
    """The period in which a project can hold GPUs: from its programme's first award day to the
    end of its last day."""
    opens_on = project.pool.opens_on if project.pool_id else None
    return (day_start(opens_on) if opens_on else None), day_start(project.end_date + dt.timedelta(days=1))


def project_in_use_from(project, starts_at: dt.datetime) -> dt.datetime | None:
    """When a project uses GPUs awarded to it from `starts_at`: from its start, once started."""
    if project.actual_start is None:
        return None
    return max(starts_at, day_start(project.actual_start))


def most_held(project, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude=()) -> int:
    """The most GPUs the project holds (or has suspended) at any one moment of the period."""
    entries = list(
        Allocation.objects.filter(
            project=project, layer=Layer.AWARD, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exclude(pk__in=list(exclude)).values_list("starts_at", "ends_at", "gpu_count")
    )
    moments = {starts_at} | {lo for lo, _hi, _n in entries if lo > starts_at}
    return max((sum(n for lo, hi, n in entries if lo <= t < hi) for t in moments), default=0)


def lock_project_for_award(project, *, gpu_count: int, starts_at: dt.datetime, ends_at: dt.datetime):
    """Lock the project row and check that `gpu_count` more GPUs fit its award and its period.
    Concurrent awards to one project queue here, so they cannot all pass the check."""
    locked = type(project)._default_manager.select_for_update(of=("self",)).select_related("pool").get(pk=project.pk)
    first, last = project_period(locked)
    if (first is not None and starts_at < first) or ends_at > last:
        raise ValidationFailed(
            _("%(project)s can hold GPUs only from %(first)s to %(last)s.")
            % {"project": locked.code, "first": timezone.localtime(first).date() if first else "-",
               "last": locked.end_date},
            fields={"ends_at" if ends_at > last else "starts_at": [_("Outside the project's period.")]},
        )
    held = most_held(locked, starts_at, ends_at)
    if held + gpu_count > locked.gpus_awarded:
        raise ValidationFailed(
            _("%(project)s is awarded %(awarded)s GPUs and already holds %(held)s in that period.")
            % {"project": locked.code, "awarded": locked.gpus_awarded, "held": held},
            fields={"server_count": [_("More than the project's award.")]},
        )
    return locked


def allocation_snapshot(allocation: Allocation) -> dict:
    return {
        "holder_kind": allocation.holder_kind,
        "project": allocation.project.code if allocation.project else None,
        "loan": str(allocation.loan.public_id) if allocation.loan else None,
        "cluster": allocation.cluster.code,
        "gpu_count": allocation.gpu_count,
        "servers": sorted({row.gpu.server.hostname for row in allocation.gpu_rows.select_related("gpu__server")}),
        "starts_at": allocation.starts_at.isoformat(),
        "ends_at": allocation.ends_at.isoformat(),
        "released_at": allocation.released_at.isoformat() if allocation.released_at else None,
    }


def _conflicts(gpu_ids: Sequence[int], layer: str, starts_at, ends_at, exclude_allocation=None, in_use_from=None):
    """Holdings that stand in the way: the same layer over the period, or, for a holder that uses
    the GPUs (a loan; a started project from `in_use_from`), anyone using them meanwhile."""
    clash = Q(layer=layer, period__overlap=_period(starts_at, ends_at))
    uses_from = starts_at if layer == Layer.LOAN else in_use_from
    if uses_from is not None and uses_from < ends_at:
        clash |= Q(occupied__overlap=_period(uses_from, ends_at))
    qs = AllocationGpu.objects.filter(clash, gpu_id__in=gpu_ids).select_related(
        "allocation", "allocation__project", "allocation__loan__organisation", "gpu__server"
    )
    if exclude_allocation is not None:
        qs = qs.exclude(allocation=exclude_allocation)
    return list(qs[:20])


def _conflict_error(rows) -> CapacityConflict:
    servers = sorted({row.gpu.server.hostname for row in rows})
    holders = sorted({row.allocation.holder_label for row in rows})
    return CapacityConflict(
        _("These GPUs are already promised or in use for part of that period (servers %(servers)s, held by %(holders)s).")
        % {"servers": ", ".join(servers[:8]) or "-", "holders": ", ".join(holders[:5]) or "-"},
        fields={"gpus": [_("Already held for an overlapping period.")]},
    )


def _insert_rows(allocation: Allocation, rows: list[AllocationGpu], *, conflict) -> None:
    """Insert an entry's GPU rows; losing a race to the exclusion constraints becomes the friendly
    conflict error (inside a savepoint, so the outer transaction stays usable for it)."""
    try:
        with transaction.atomic():
            AllocationGpu.objects.bulk_create(rows)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "pgcode", None) == EXCLUSION_VIOLATION:
            raise _conflict_error(conflict()) from exc
        raise


def allocation_award(
    *,
    actor,
    holder_kind: str,
    gpus: Iterable[Gpu],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str | Message,
    project=None,
    loan=None,
    parent: Allocation | None = None,
    check_permission: bool = True,
) -> Allocation:
    """Promise `gpus` to one holder for [starts_at, ends_at).

    A project's award is checked against its award and period with the project row locked; a
    started project (and a suspension) uses the GPUs at once, so nobody else may use them then."""
    _require_admin(actor, check_permission)
    gpus = list(gpus)
    if not is_message(reason) and not (reason or "").strip():
        raise ValidationFailed(_("A reason is required for every ledger entry."), fields={"reason": [_("Required.")]})
    reason_text = plain(reason) if is_message(reason) else checked_text(reason, field="reason", max_length=REASON_MAX)
    if not gpus:
        raise ValidationFailed(_("Choose at least one GPU."), fields={"gpus": [_("Required.")]})
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("Ledger periods must be timezone-aware.")
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."), fields={"ends_at": [_("Must be after the start.")]})
    if len({g.pk for g in gpus}) != len(gpus):
        raise ValidationFailed(_("The same GPU was listed twice."), fields={"gpus": [_("Duplicate GPU.")]})

    layer = Layer.LOAN if holder_kind == HolderKind.LOAN else Layer.AWARD
    if holder_kind in (HolderKind.PROJECT, HolderKind.SUSPENDED) and project is None:
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
    if holder_kind != HolderKind.LOAN:
        per_server = Counter(g.server_id for g in gpu_rows)
        if any(count != GPUS_PER_SERVER for count in per_server.values()):
            raise ValidationFailed(
                _("National projects and the MSIT reserve hold whole servers of 8 GPUs."),
                fields={"gpus": [_("Not whole servers.")]},
            )
    pool_id = project.pool_id if project is not None else (loan.request.pool_id if loan is not None else None)
    outside = sorted({g.server.hostname for g in gpu_rows if pool_id is not None and g.server.pool_id != pool_id})
    if outside:
        raise ValidationFailed(
            _("These servers are not in the programme's pool: %(servers)s.") % {"servers": ", ".join(outside[:8])},
            fields={"gpus": [_("Outside the pool.")]},
        )

    gpu_ids = [g.pk for g in gpu_rows]
    with transaction.atomic():
        in_use_from = None
        if holder_kind == HolderKind.PROJECT:
            project = lock_project_for_award(project, gpu_count=len(gpu_rows), starts_at=starts_at, ends_at=ends_at)
            in_use_from = project_in_use_from(project, starts_at)
        elif holder_kind == HolderKind.SUSPENDED:
            in_use_from = starts_at
        conflicts = _conflicts(gpu_ids, layer, starts_at, ends_at, in_use_from=in_use_from)
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
            reason=reason_text,
            reason_msg=reason if is_message(reason) else None,
            parent=parent,
            created_by=actor,
            **({"loan": loan} if loan is not None else {}),
        )
        _insert_rows(
            allocation,
            [AllocationGpu(allocation=allocation, gpu_id=gpu_id, layer=layer, period=_period(starts_at, ends_at),
                           in_use_from=in_use_from) for gpu_id in gpu_ids],
            conflict=lambda: _conflicts(gpu_ids, layer, starts_at, ends_at, exclude_allocation=allocation,
                                        in_use_from=in_use_from),
        )
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
    reason: str | Message,
    at: dt.datetime | None = None,
    gpus: Iterable[Gpu] | None = None,
    action: str = "allocation.release",
    check_permission: bool = True,
) -> Allocation | None:
    """End a holding at `at` (default now; never in the past: history that reports were checked
    against does not change). With `gpus`, only those are released: the entry ends and a
    continuation holds the rest until the original end. Returns the continuation, if any."""
    _require_admin(actor, check_permission)
    if not is_message(reason) and not (reason or "").strip():
        raise ValidationFailed(_("A reason is required to release GPUs."), fields={"reason": [_("Required.")]})
    reason_text = plain(reason) if is_message(reason) else checked_text(reason, field="reason", max_length=REASON_MAX)
    now = timezone.now()
    if at is not None and at < now - CLOCK_SKEW:
        raise ValidationFailed(
            _("A release takes effect now or later, never in the past."), fields={"at": [_("In the past.")]}
        )
    at = at or now
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
        held = dict(locked.gpu_rows.values_list("gpu_id", "in_use_from"))
        keep_ids: list[int] = []
        if gpus is not None:
            release_ids = {g.pk for g in gpus}
            unknown = release_ids - set(held)
            if unknown or not release_ids:
                raise ValidationFailed(
                    _("Only GPUs of this entry can be released from it."), fields={"gpus": [_("Not in this entry.")]}
                )
            keep_ids = [gpu_id for gpu_id in held if gpu_id not in release_ids]
        original_end = locked.ends_at
        locked.ends_at = release_at
        locked.released_at = timezone.now()
        locked.released_by = actor
        locked.release_reason = reason_text
        locked.release_reason_msg = reason if is_message(reason) else None
        locked.save(update_fields=["ends_at", "released_at", "released_by", "release_reason", "release_reason_msg"])
        AllocationGpu.objects.filter(allocation=locked).update(period=_period(locked.starts_at, release_at))
        continuation = None
        if keep_ids:
            continues = msg(gettext_noop("Continues %(entry)s after a partial release."), entry=str(locked.public_id))
            continuation = Allocation.objects.create(
                holder_kind=locked.holder_kind,
                layer=locked.layer,
                project=locked.project,
                cluster=locked.cluster,
                gpu_count=len(keep_ids),
                starts_at=release_at,
                ends_at=original_end,
                planned_ends_at=locked.planned_ends_at,
                reason=plain(continues),
                reason_msg=continues,
                parent=locked,
                created_by=actor,
                **({"loan_id": locked.loan_id} if getattr(locked, "loan_id", None) else {}),
            )
            AllocationGpu.objects.bulk_create(
                AllocationGpu(
                    allocation=continuation, gpu_id=gpu_id, layer=locked.layer, period=_period(release_at, original_end),
                    in_use_from=held[gpu_id],
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
    *, actor, allocation: Allocation, ends_at: dt.datetime, reason: str | Message, check_permission: bool = True
) -> Allocation:
    """Move the end of a holding (a renewal or an early end). Extending it must still fit."""
    _require_admin(actor, check_permission)
    if not is_message(reason) and not (reason or "").strip():
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
        in_use_from = locked.gpu_rows.exclude(in_use_from__isnull=True).order_by("in_use_from").values_list(
            "in_use_from", flat=True).first()
        uses_from = None if in_use_from is None else max(in_use_from, old_end)

        def conflict():
            return _conflicts(gpu_ids, locked.layer, old_end, ends_at, exclude_allocation=locked, in_use_from=uses_from)

        if ends_at > old_end:
            conflicts = conflict()
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
                raise _conflict_error(conflict()) from exc
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
