"""Redistribution (재배분): reserve, idle and free GPUs proposed to queued short-term requests (in
the lending ranking order) and to projects that asked for more servers. Nothing moves until an
MSIT admin approves a proposal, and every approval re-checks the capacity."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit
from allocation_portal.errors import (
    CapacityConflict,
    NotPermitted,
    PortalError,
    StateConflict,
)
from allocation_portal.limits import REASON_MAX, checked_text
from allocation_portal.messages import msg
from allocation_portal.models import NotificationKind
from allocation_portal.notifications import msit_admins, notify
from gpus import services as ledger
from gpus.availability import LendingIndex, day_start, programme_pool, servers_for_projects
from gpus.models import GPUS_PER_SERVER, AllocationGpu, Gpu, HolderKind, Layer
from gpus.selectors import servers_held_by_project
from lending import services as lending
from lending.models import RequestState
from lending.selectors import propose, request_queue, request_window
from projects.models import GpuRequestState, Project, ProjectGpuRequest
from projects.services import usage_plan_scale_future

from .models import ProposalKind, ProposalState, RedistributionProposal


class TargetDecided(StateConflict):
    """The request a proposal was made for has been decided some other way."""


def open_proposals():
    """Proposals still waiting for an MSIT admin: their target is still undecided (a request
    approved, rejected or withdrawn some other way takes its proposal off the board)."""
    return (
        RedistributionProposal.objects.filter(state=ProposalState.PROPOSED)
        .filter(Q(loan_request__isnull=True) | Q(loan_request__state=RequestState.SUBMITTED))
        .filter(Q(gpu_request__isnull=True) | Q(gpu_request__state=GpuRequestState.OPEN))
    )


def proposals_sharing(gpu_ids, *, loan_request_id=None) -> list[RedistributionProposal]:
    """Open proposals for another target that count on any of these GPUs."""
    wanted = {int(g) for g in gpu_ids}
    found = open_proposals().select_related("loan_request__organisation", "gpu_request__project").order_by("rank")
    return [p for p in found if p.loan_request_id != loan_request_id and wanted & {int(g) for g in p.gpu_ids}]


def _proposal_target(proposal: RedistributionProposal) -> str:
    if proposal.loan_request is not None:
        return proposal.loan_request.organisation.name
    return proposal.gpu_request.project.code if proposal.gpu_request is not None else "?"


def loan_approval_preview(*, loan_request, gpu_ids) -> list[str]:
    """For a loan approval's confirm step: the pending proposals whose servers it would take."""
    return [
        _("Pending redistribution proposal #%(rank)s for %(target)s counts on %(servers)s: this approval takes "
          "them, and that proposal is then marked stale.")
        % {"rank": p.rank, "target": _proposal_target(p), "servers": ", ".join(p.servers[:8])}
        for p in proposals_sharing(gpu_ids, loan_request_id=loan_request.pk)
    ]


def proposals_after_loan_approval(*, actor, loan_request, gpu_ids) -> None:
    """In the approval's transaction: proposals that counted on these GPUs are stale, with why."""
    now = timezone.now()
    sharing = [p.pk for p in proposals_sharing(gpu_ids, loan_request_id=loan_request.pk)]
    # A proposal being approved right now holds its row (and waits for the servers this approval
    # holds): skip it rather than wait, or the two would deadlock. Its own approval then fails on
    # the capacity and marks it stale itself.
    free = list(RedistributionProposal.objects.select_for_update(skip_locked=True)
                .filter(pk__in=sharing, state=ProposalState.PROPOSED).order_by("pk"))
    for proposal in free:
        message = _("Its servers were lent to %(org)s by a direct approval.") % {"org": loan_request.organisation.name}
        RedistributionProposal.objects.filter(pk=proposal.pk).update(
            state=ProposalState.STALE, note=message, decided_at=now, decided_by=actor
        )
        audit.record(actor=actor, action="redistribution.stale", obj=proposal, after={"note": message})


def _project_window(project: Project, now) -> tuple[dt.datetime, dt.datetime]:
    return now, day_start(project.end_date + dt.timedelta(days=1))


def redistribution_propose(*, actor=None, now=None) -> list[RedistributionProposal]:
    """Make fresh proposals within the programme's pool: open ones are superseded, projects asking
    for more come first (whole servers from the MSIT reserve, then the pool's free servers), then
    short-term requests in ranking order (idle GPUs first, then the reserve)."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin makes redistribution proposals."))
    now = now or timezone.now()
    made: list[RedistributionProposal] = []
    claimed: set[int] = set()
    with transaction.atomic():
        RedistributionProposal.objects.filter(state=ProposalState.PROPOSED).update(
            state=ProposalState.SUPERSEDED, decided_at=now
        )
        rank = 0
        for gpu_request in ProjectGpuRequest.objects.filter(state=GpuRequestState.OPEN).select_related("project").order_by("created_at"):
            starts_at, ends_at = _project_window(gpu_request.project, now)
            picks = servers_for_projects(gpu_request.project.pool, starts_at, ends_at, exclude_gpus=claimed)[: gpu_request.servers]
            if len(picks) < gpu_request.servers:
                continue
            gpu_ids = list(Gpu.objects.filter(server__in=[s for s, _src in picks]).values_list("id", flat=True))
            claimed.update(gpu_ids)
            rank += 1
            made.append(RedistributionProposal.objects.create(
                kind=ProposalKind.PROJECT_INCREASE, gpu_request=gpu_request, rank=rank, gpu_ids=gpu_ids,
                servers=[s.hostname for s, _src in picks],
                sources={
                    src: GPUS_PER_SERVER * sum(1 for _s, source in picks if source == src)
                    for src in {source for _s, source in picks}
                },
            ))
        pool = programme_pool()
        queued = list(request_queue().filter(state=RequestState.SUBMITTED, pool=pool)) if pool else []
        indexes = {}
        if pool is not None:
            for gpu_model in {r.gpu_model for r in queued}:
                windows = [request_window(r, now) for r in queued if r.gpu_model == gpu_model]
                indexes[gpu_model] = LendingIndex(gpu_model, min(w[0] for w in windows), max(w[1] for w in windows),
                                                  pool=pool)
        for index in indexes.values():
            # The servers proposed to projects above are not lent in the same round.
            index.claim([g for g in claimed if g in index.server_of], now, now + dt.timedelta(days=3650))
        pending = []
        for loan_request in queued:
            starts_at, ends_at = request_window(loan_request, now)
            if ends_at <= starts_at:
                continue
            index = indexes[loan_request.gpu_model]
            offers = index.offers(starts_at, ends_at, loan_request.gpu_count)
            proposal = propose(loan_request.gpu_model, loan_request.gpu_count, starts_at, ends_at, offers=offers)
            if not proposal.complete:
                continue
            index.claim(proposal.gpu_ids, starts_at, ends_at)
            claimed.update(proposal.gpu_ids)
            rank += 1
            sources: dict[str, int] = defaultdict(int)
            for offer, ids in proposal.picks:
                sources[offer.source] += len(ids)
            pending.append((RedistributionProposal(
                kind=ProposalKind.LOAN_REQUEST, loan_request=loan_request, rank=rank, gpu_ids=proposal.gpu_ids,
                servers=sorted({offer.hostname for offer, _ids in proposal.picks}), sources=dict(sources),
            ), starts_at, ends_at))
        made += RedistributionProposal.objects.bulk_create([p for p, _lo, _hi in pending])
        audit.record(actor=actor, action="redistribution.propose", object_type="monitoring.redistributionproposal",
                     object_id=now.isoformat(), object_repr=timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
                     reason=msg(gettext_noop("%(count)s proposals made"), count=len(made)),
                     after={"proposals": [str(p.public_id) for p in made]})
        if made:
            notify(users=msit_admins(), kind=NotificationKind.PROPOSALS_READY,
                   title=msg(gettext_noop("%(n)s redistribution proposals are waiting for approval"), n=len(made)),
                   body=msg(gettext_noop("Approve them one by one or in bulk on the redistribution board.")),
                   url="/monitoring/redistribution/", dedup_key=f"proposals:{timezone.localdate().isoformat()}:{len(made)}")
    return made


def _mark_stale(proposal: RedistributionProposal, message: str, actor) -> None:
    with transaction.atomic():
        updated = RedistributionProposal.objects.filter(pk=proposal.pk, state=ProposalState.PROPOSED).update(
            state=ProposalState.STALE, note=message[:2000], decided_at=timezone.now(), decided_by=actor
        )
        if updated:
            audit.record(actor=actor, action="redistribution.stale", obj=proposal, after={"note": message})


def _approve_project_increase(*, actor, proposal: RedistributionProposal, now) -> None:
    if proposal.gpu_request_id is None:
        raise TargetDecided(_("This request for more GPUs has been decided meanwhile."))
    gpu_request = ProjectGpuRequest.objects.select_for_update().select_related("project").get(pk=proposal.gpu_request_id)
    if gpu_request.state != GpuRequestState.OPEN:
        raise TargetDecided(_("This request for more GPUs has been decided meanwhile."))
    gpus = list(Gpu.objects.filter(pk__in=proposal.gpu_ids).select_related("server__cluster"))
    if len(gpus) != len(proposal.gpu_ids):
        raise CapacityConflict(_("Some proposed GPUs no longer exist."))
    # The server locks a loan approval and a project's start take, in the same order (servers,
    # then the project): a loan cannot land on these servers meanwhile.
    ledger.lock_servers_of(proposal.gpu_ids)
    project = Project.objects.select_for_update().select_related("pool").get(pk=gpu_request.project_id)
    starts_at, ends_at = _project_window(project, now)
    used = AllocationGpu.objects.filter(
        gpu_id__in=proposal.gpu_ids, occupied__overlap=DateTimeTZRange(starts_at, ends_at, "[)")
    ).values_list("gpu__server__hostname", flat=True)
    if used:
        raise CapacityConflict(
            _("The capacity has gone meanwhile: %(servers)s are lent for part of that period. Nothing was written.")
            % {"servers": ", ".join(sorted(set(used))[:6])}
        )
    # Free the reserve's hold on these servers from now, then award them to the project; the
    # exclusion constraints refuse if anyone else got them meanwhile.
    reserve_rows = AllocationGpu.objects.filter(
        gpu_id__in=proposal.gpu_ids, layer=Layer.AWARD, allocation__holder_kind=HolderKind.RESERVE,
        period__contains=now,
    ).select_related("allocation")
    by_allocation = defaultdict(list)
    for row in reserve_rows:
        by_allocation[row.allocation].append(Gpu(pk=row.gpu_id))
    for allocation, reserve_gpus in by_allocation.items():
        ledger.allocation_release(actor=actor, allocation=allocation, gpus=reserve_gpus, at=now,
                                  reason=msg(gettext_noop("Redistributed to %(project)s."), project=project.code))
    held_before = len(servers_held_by_project(project, now))
    # The award grows first: the ledger refuses a project holding more than it is awarded.
    before = audit.snapshot(project, ["gpus_awarded"])
    project.gpus_awarded += len(gpus)
    usage_plan_scale_future(project, held_before=held_before, held_after=held_before + len(gpus) // GPUS_PER_SERVER)
    project.save(update_fields=["gpus_awarded", "updated_at"])
    audit.record(actor=actor, action="project.increase", obj=project, before=before,
                 after=audit.snapshot(project, ["gpus_awarded"]), reason=gpu_request.reason)
    by_cluster = defaultdict(list)
    for gpu in gpus:
        by_cluster[gpu.server.cluster_id].append(gpu)
    for cluster_gpus in by_cluster.values():
        ledger.allocation_award(actor=actor, holder_kind=HolderKind.PROJECT, project=project, gpus=cluster_gpus,
                                starts_at=starts_at, ends_at=ends_at,
                                reason=msg(gettext_noop("Redistribution: more GPUs for %(project)s."), project=project.code))
    gpu_request.state = GpuRequestState.APPROVED
    gpu_request.decided_at = now
    gpu_request.decided_by = actor
    gpu_request.save(update_fields=["state", "decided_at", "decided_by"])


def proposal_approve(*, actor, proposal: RedistributionProposal) -> RedistributionProposal:
    """Approve one proposal: it becomes ledger entries, or, if its GPUs are no longer available,
    it is marked stale with the reason and nothing is written."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin approves redistribution."))
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = RedistributionProposal.objects.select_for_update().get(pk=proposal.pk)
            if locked.state != ProposalState.PROPOSED:
                raise StateConflict(_("This proposal is %(state)s.") % {"state": locked.get_state_display()})
            if locked.kind == ProposalKind.LOAN_REQUEST and locked.loan_request is not None:
                if locked.loan_request.state not in lending.OPEN_REQUEST_STATES:
                    raise TargetDecided(_("The short-term request has been decided meanwhile."))
                lending.request_approve(actor=actor, request=locked.loan_request, gpu_ids=locked.gpu_ids,
                                        note=gettext_noop("Approved through redistribution."))
            else:
                _approve_project_increase(actor=actor, proposal=locked, now=now)
            locked.state = ProposalState.APPROVED
            locked.decided_at = now
            locked.decided_by = actor
            locked.save(update_fields=["state", "decided_at", "decided_by"])
            audit.record(actor=actor, action="redistribution.approve", obj=locked,
                         after={"kind": locked.kind, "gpus": len(locked.gpu_ids), "servers": locked.servers})
    except (CapacityConflict, TargetDecided) as exc:
        # However stale the proposal, nothing was written; it is marked so and says why.
        _mark_stale(proposal, exc.message, actor)
        raise
    proposal.refresh_from_db()
    return proposal


def proposals_approve_all(*, actor, proposals) -> list[tuple[RedistributionProposal, str | None]]:
    """Approve in rank order, each on its own; returns (proposal, error message or None)."""
    results: list[tuple[RedistributionProposal, str | None]] = []
    for proposal in sorted(proposals, key=lambda p: p.rank):
        try:
            results.append((proposal_approve(actor=actor, proposal=proposal), None))
        except PortalError as exc:
            proposal.refresh_from_db()
            results.append((proposal, exc.message))
    return results


def proposal_reject(*, actor, proposal: RedistributionProposal, note: str = "") -> RedistributionProposal:
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin rejects redistribution proposals."))
    note = checked_text(note, field="note", max_length=REASON_MAX)
    with transaction.atomic():
        locked = RedistributionProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.state != ProposalState.PROPOSED:
            raise StateConflict(_("This proposal is %(state)s.") % {"state": locked.get_state_display()})
        locked.state = ProposalState.REJECTED
        locked.note = note
        locked.decided_at = timezone.now()
        locked.decided_by = actor
        locked.save(update_fields=["state", "note", "decided_at", "decided_by"])
        audit.record(actor=actor, action="redistribution.reject", obj=locked, reason=note)
    return locked
