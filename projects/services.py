"""Writes for ministries and projects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from allocation_portal import audit, hooks, months
from allocation_portal import policy as programme_policy
from allocation_portal.errors import CapacityConflict, NotPermitted, StateConflict, ValidationFailed
from allocation_portal.formatting import GPU_HOURS_DECIMALS, format_number
from allocation_portal.messages import Message, msg
from gpus.availability import day_start, period
from gpus.awards import lock_free_servers, project_take_over
from gpus.models import (
    GPUS_PER_SERVER,
    Allocation,
    AllocationGpu,
    Cluster,
    Gpu,
    HolderKind,
    Layer,
)
from gpus.services import allocation_award, lock_project_for_award, lock_servers_of

from .access import can_change_project
from .models import Domain, GpuRequestState, Project, ProjectGpuRequest, ProjectStatus, UsagePlan


def project_award_servers(
    *,
    actor,
    project: Project,
    cluster: Cluster,
    server_count: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str | Message,
) -> Allocation:
    """Award `server_count` whole servers of `cluster`, from the project's pool, for the period.

    The project row is locked first, so concurrent awards to one project queue on the check that
    they fit its award; candidate servers are locked with SKIP LOCKED, so awards to different
    projects pick different servers instead of queueing; the exclusion constraints have the final
    word. A project's first award also gives it the default usage plan (ramp-up, then flat)."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin can change the allocation ledger."))
    if server_count is None or server_count < 1:
        raise ValidationFailed(_("Award at least one server."), fields={"server_count": [_("At least 1.")]})
    with transaction.atomic():
        locked = lock_project_for_award(project, gpu_count=server_count * GPUS_PER_SERVER, starts_at=starts_at,
                                        ends_at=ends_at)
        servers = lock_free_servers(project=locked, cluster=cluster, count=server_count, starts_at=starts_at,
                                    ends_at=ends_at)
        if len(servers) < server_count:
            raise CapacityConflict(
                _("Only %(free)s servers of %(cluster)s in the programme's pool are free for that whole period; "
                  "%(asked)s were asked for.") % {"free": len(servers), "cluster": cluster.name, "asked": server_count},
                fields={"server_count": [_("Not enough free servers.")]},
            )
        allocation = allocation_award(
            actor=actor, holder_kind=HolderKind.PROJECT, project=locked, gpus=Gpu.objects.filter(server__in=servers),
            starts_at=starts_at, ends_at=ends_at, reason=reason,
        )
        usage_plan_create_default(actor=actor, project=locked)
        return allocation


# Default plan: a short ramp-up, then flat, as a share of the awarded GPUs' hours in each month.
DEFAULT_PLAN_RAMP = (Decimal("0.3"), Decimal("0.6"))
DEFAULT_PLAN_FLAT = Decimal("0.8")


def plan_start_of(project: Project) -> dt.date:
    """The start a project's usage plan counts from: the one it was made or last re-based for."""
    return project.plan_start or project.actual_start or project.expected_start or project.planned_start


def _first_month_share(start: dt.date) -> Decimal:
    """The share of its month that a start on `start` leaves (1 from the first day)."""
    month = months.first_day(start)
    days = (months.next_month(month) - month).days
    return Decimal(days - start.day + 1) / Decimal(days)


def usage_plan_default(project: Project, start: dt.date | None = None) -> dict[dt.date, Decimal]:
    """Planned GPU-hours per month from the start to the end: 30%, 60%, then 80% of the awarded
    GPUs' hours; the first month counts only the days from the start."""
    start = start or plan_start_of(project)
    plan = {}
    for index, month in enumerate(months.months_between(start, project.end_date)):
        share = DEFAULT_PLAN_RAMP[index] if index < len(DEFAULT_PLAN_RAMP) else DEFAULT_PLAN_FLAT
        hours = Decimal(project.gpus_awarded * months.hours_in(month)) * share
        if index == 0:
            hours = hours * _first_month_share(start)
        plan[month] = hours.quantize(Decimal("1"))
    return plan


def usage_plan_create_default(*, actor, project: Project) -> int:
    """Make the default plan for a project that has none (on award). Returns months created."""
    with transaction.atomic():
        if UsagePlan.objects.filter(project=project).exists():
            return 0
        start = plan_start_of(project)
        plan = usage_plan_default(project, start)
        UsagePlan.objects.bulk_create(
            UsagePlan(project=project, month=month, planned_gpu_hours=hours) for month, hours in plan.items()
        )
        Project.objects.filter(pk=project.pk).update(plan_start=start)
        project.plan_start = start
        audit.record(
            actor=actor,
            action="usage_plan.default",
            obj=project,
            after={months.label(m): str(h) for m, h in plan.items()},
            reason=msg(gettext_noop("Default plan made on award: ramp-up, then flat.")),
        )
    return len(plan)


def usage_plan_rebase(*, actor, project: Project, start: dt.date, reason: str | Message) -> int:
    """Move the usage plan with the project's start: the month that was the plan's first becomes
    the new start's month, and so on, each month keeping its share of the awarded GPUs' hours (the
    first month counts the days from the start). Months after the project's end are dropped; if
    the start moved earlier, the last months repeat the plan's last share. Returns months changed.
    The caller holds the project's row lock."""
    rows = {p.month: p for p in UsagePlan.objects.select_for_update().filter(project=project)}
    old_start = project.plan_start or (min(rows) if rows else project.expected_start or project.planned_start)
    if old_start == start and rows:
        return 0
    old_first, new_first = months.first_day(old_start), months.first_day(start)
    last = months.first_day(project.end_date)
    awarded_share = {}  # months since the start -> share of that month's awarded GPU-hours
    for month, row in sorted(rows.items()):
        index = (month.year - old_first.year) * 12 + month.month - old_first.month
        if index < 0:
            continue
        full = Decimal(project.gpus_awarded * months.hours_in(month)) or Decimal(1)
        share = row.planned_gpu_hours / full
        if index == 0:
            first_share = _first_month_share(old_start)
            share = share / first_share if first_share else share
        awarded_share[index] = share
    new_plan: dict[dt.date, Decimal] = {}
    if not awarded_share:
        new_plan = usage_plan_default(project, start)
    else:
        tail = awarded_share[max(awarded_share)]
        for index, month in enumerate(months.months_between(new_first, last)):
            share = awarded_share.get(index, tail if index > max(awarded_share) else Decimal(0))
            hours = Decimal(project.gpus_awarded * months.hours_in(month)) * share
            if index == 0:
                hours *= _first_month_share(start)
            new_plan[month] = min(hours, Decimal(project.gpus_awarded * months.hours_in(month))).quantize(Decimal("0.1"))
    before = {months.label(m): str(r.planned_gpu_hours) for m, r in sorted(rows.items())}
    UsagePlan.objects.filter(project=project).delete()
    UsagePlan.objects.bulk_create(UsagePlan(project=project, month=m, planned_gpu_hours=h) for m, h in new_plan.items())
    Project.objects.filter(pk=project.pk).update(plan_start=start)
    project.plan_start = start
    audit.record(actor=actor, action="usage_plan.rebase", obj=project, before={"plan_start": old_start.isoformat(), **before},
                 after={"plan_start": start.isoformat(), **{months.label(m): str(h) for m, h in new_plan.items()}},
                 reason=reason)
    return len(new_plan)


def usage_plan_scale_future(project: Project, *, held_before: int, held_after: int) -> None:
    """Months after this one are planned for the servers the project holds from now on (after a
    reclamation or a redistribution). The caller holds the transaction."""
    if held_before <= 0:
        return
    factor = Decimal(held_after) / Decimal(held_before)
    for plan in UsagePlan.objects.select_for_update().filter(project=project, month__gt=months.current()):
        plan.planned_gpu_hours = (plan.planned_gpu_hours * factor).quantize(Decimal("0.1"))
        plan.save(update_fields=["planned_gpu_hours", "updated_at"])


def usage_plan_errors(
    *, actor, project: Project, hours_by_month: Mapping[dt.date, Decimal | None], reason: str = "",
) -> dict[str, list[str]]:
    """Every error of a plan change, by month label ('2026-10') and `reason`; empty when it is
    valid. The plan page shows them beside its own (a value that is no number) all at once."""
    this_month = months.current()
    first = months.first_day(project.planned_start)
    last = months.first_day(project.end_date)
    errors: dict[str, list[str]] = {}
    for month, hours in hours_by_month.items():
        key = months.label(month)
        capacity = project.gpus_awarded * months.hours_in(month)
        if month < first or month > last:
            errors[key] = [_("Outside the project's period (%(first)s to %(last)s).")
                           % {"first": months.label(first), "last": months.label(last)}]
        elif month <= this_month and not actor.is_msit_admin:
            errors[key] = [_("This month has begun: only an MSIT admin can change its plan.")]
        elif hours is not None and not Decimal(hours).is_finite():
            errors[key] = [_("Enter a number of GPU-hours.")]
        elif hours is None or hours < 0:
            errors[key] = [_("Enter zero or more GPU-hours.")]
        elif hours > capacity:
            errors[key] = [_("More than the awarded GPUs can give in this month (%(max)s GPU-hours).")
                           % {"max": format_number(capacity, GPU_HOURS_DECIMALS)}]
    if any(m <= this_month for m in hours_by_month) and not (reason or "").strip():
        errors["reason"] = [_("Required.")]
    return errors


def usage_plan_update(*, actor, project: Project, hours_by_month: dict[dt.date, Decimal], reason: str = "") -> int:
    """Set planned GPU-hours for some months. Officials change future months only; months that
    have begun are locked except for MSIT admins, whose change is audited with its reason."""
    if not can_change_project(actor, project):
        raise NotPermitted(_("You cannot change this project's plan."))
    errors = usage_plan_errors(actor=actor, project=project, hours_by_month=hours_by_month, reason=reason)
    if list(errors) == ["reason"]:
        raise ValidationFailed(_("Changing a month that has begun needs a reason."), fields=errors)
    if errors:
        raise ValidationFailed(_("Some months of the plan are invalid."), fields=errors)
    with transaction.atomic():
        existing = {p.month: p for p in UsagePlan.objects.select_for_update().filter(project=project)}
        before, after = {}, {}
        for month, hours in sorted(hours_by_month.items()):
            hours = Decimal(hours).quantize(Decimal("0.1"))
            row = existing.get(month)
            if row is not None and row.planned_gpu_hours == hours:
                continue
            before[months.label(month)] = str(row.planned_gpu_hours) if row else None
            after[months.label(month)] = str(hours)
            if row is None:
                UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=hours)
            else:
                row.planned_gpu_hours = hours
                row.save(update_fields=["planned_gpu_hours", "updated_at"])
        if after:
            audit.record(actor=actor, action="usage_plan.update", obj=project, before=before, after=after, reason=reason)
    return len(after)


def project_record_start(*, actor, project: Project, started_on: dt.date, reason: str = "") -> Project:
    """The project has started: its servers stop being idle, every loan on them gets the recall
    notice, and from then (or, per GPU, from the end of a loan that still holds it) the project
    uses them. The start is neither in the future, nor before the project's award, nor further back
    than the policy allows; the usage plan moves with it. Officials record their own projects'
    start; MSIT admins any."""
    if not can_change_project(actor, project):
        raise NotPermitted(_("You cannot record this project's start."))
    policy = programme_policy.current()
    today = timezone.localdate()
    if started_on is None or started_on > today:
        raise ValidationFailed(_("The start cannot be in the future."), fields={"started_on": [_("Not in the future.")]})
    if started_on < today - dt.timedelta(days=policy.start_backdate_days):
        raise ValidationFailed(
            _("A start can be recorded at most %(days)s days back (policy).") % {"days": policy.start_backdate_days},
            fields={"started_on": [_("Too far back.")]},
        )
    award_gpus = AllocationGpu.objects.filter(
        allocation__project=project, allocation__holder_kind=HolderKind.PROJECT, layer=Layer.AWARD,
        period__overlap=period(day_start(started_on), None),
    ).values_list("gpu_id", flat=True)
    with transaction.atomic():
        # The same locks, in the same order, as a loan approval: servers, then projects.
        lock_servers_of(list(award_gpus))
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.actual_start is not None:
            raise StateConflict(_("This project has started already (%(day)s).") % {"day": locked.actual_start})
        first_award = (
            Allocation.objects.filter(project=locked, holder_kind=HolderKind.PROJECT).order_by("starts_at")
            .values_list("starts_at", flat=True).first()
        )
        if first_award is None:
            raise StateConflict(_("The project holds no servers yet: MSIT awards them before it can start."))
        if day_start(started_on) < first_award and timezone.localtime(first_award).date() > started_on:
            raise ValidationFailed(
                _("The start cannot be before the project's award (%(day)s).") % {"day": timezone.localtime(first_award).date()},
                fields={"started_on": [_("Before the award.")]},
            )
        before = audit.snapshot(locked, ["status", "actual_start", "expected_start"])
        locked.actual_start = started_on
        locked.status = ProjectStatus.ACTIVE
        locked.save(update_fields=["actual_start", "status", "updated_at"])
        audit.record(actor=actor, action="project.start", obj=locked, before=before,
                     after=audit.snapshot(locked, ["status", "actual_start", "expected_start"]), reason=reason)
        # Lending (a floor above) recalls the loans on the project's servers, in this transaction.
        hooks.run(
            hooks.PROJECT_STARTED, actor=actor, project=locked, notice_hours=policy.recall_notice_hours,
            reason=msg(gettext_noop("Project %(code)s, which these GPUs are reserved for, has started."), code=locked.code),
        )
        project_take_over(project=locked, at=max(day_start(started_on), first_award))
        usage_plan_rebase(actor=actor, project=locked, start=started_on,
                          reason=msg(gettext_noop("The plan moves with the recorded start (%(day)s)."), day=started_on))
    return locked


def project_set_expected_start(*, actor, project: Project, expected_start: dt.date, reason: str) -> Project:
    """The official records a new expected start for a project that has not started; the usage
    plan moves with it."""
    if not can_change_project(actor, project):
        raise NotPermitted(_("You cannot change this project's expected start."))
    errors = {}
    if expected_start is None or expected_start < timezone.localdate():
        errors["expected_start"] = [_("The expected start must be today or later.")]
    elif expected_start > project.end_date:
        errors["expected_start"] = [_("The expected start must be before the project's end (%(end)s).") % {"end": project.end_date}]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the start moves.")]
    if errors:
        raise ValidationFailed(_("The new expected start has errors."), fields=errors)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.actual_start is not None:
            raise StateConflict(_("This project has started already."))
        before = audit.snapshot(locked, ["expected_start"])
        locked.expected_start = expected_start
        locked.save(update_fields=["expected_start", "updated_at"])
        audit.record(actor=actor, action="project.expected_start", obj=locked, before=before,
                     after=audit.snapshot(locked, ["expected_start"]), reason=reason)
        if UsagePlan.objects.filter(project=locked).exists():
            usage_plan_rebase(actor=actor, project=locked, start=expected_start, reason=reason)
    return locked


def gpu_request_create(*, actor, project: Project, servers: int, reason: str) -> ProjectGpuRequest:
    """A started project's ministry asks for more servers; redistribution proposes them to MSIT."""
    if not can_change_project(actor, project):
        raise NotPermitted(_("You cannot ask for more GPUs for this project."))
    errors = {}
    if project.actual_start is None:
        errors["servers"] = [_("Only a project that has started can ask for more GPUs.")]
    elif servers is None or servers < 1:
        errors["servers"] = [_("Ask for at least one server.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why more GPUs are needed.")]
    if errors:
        raise ValidationFailed(_("The request has errors."), fields=errors)
    with transaction.atomic():
        if ProjectGpuRequest.objects.filter(project=project, state=GpuRequestState.OPEN).exists():
            raise StateConflict(_("This project already has a request for more GPUs waiting."))
        request = ProjectGpuRequest.objects.create(project=project, servers=servers, reason=reason.strip(), created_by=actor)
        audit.record(actor=actor, action="project.gpu_request", obj=request, after={"servers": servers}, reason=reason)
    return request


TITLE_KO_MAX, TITLE_EN_MAX, PURPOSE_MAX = 200, 250, 4000
PROJECT_CODE_MAX = 20


def project_create(*, actor, code: str, ministry, pool, title_ko: str, title_en: str, domain: str, purpose: str,
                   gpus_awarded: int, planned_start: dt.date, end_date: dt.date, is_sample: bool = False,
                   reason: str | Message = "") -> Project:
    """A national project, created with its award (whole servers) when a call selects it. Its servers
    are awarded in the ledger afterwards (`project_award_servers`), within that award, from its pool."""
    if actor is not None and not actor.is_msit_admin:
        raise NotPermitted(_("Only MSIT admins create projects."))
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    if not code or len(code) > PROJECT_CODE_MAX:
        errors["code"] = [_("A project code of at most %(n)s characters.") % {"n": PROJECT_CODE_MAX}]
    elif Project.objects.filter(code=code).exists():
        errors["code"] = [_("A project with this code exists already.")]
    title_ko, title_en, purpose = (title_ko or "").strip(), (title_en or "").strip(), (purpose or "").strip()
    if not title_ko or len(title_ko) > TITLE_KO_MAX:
        errors["title_ko"] = [_("A Korean title of at most %(n)s characters.") % {"n": TITLE_KO_MAX}]
    if len(title_en) > TITLE_EN_MAX:
        errors["title_en"] = [_("An English title of at most %(n)s characters.") % {"n": TITLE_EN_MAX}]
    if len(purpose) > PURPOSE_MAX:
        errors["purpose"] = [_("At most %(n)s characters.") % {"n": PURPOSE_MAX}]
    if domain not in Domain.values:
        errors["domain"] = [_("Choose one of the fields.")]
    if not gpus_awarded or gpus_awarded < GPUS_PER_SERVER or gpus_awarded % GPUS_PER_SERVER:
        errors["gpus_awarded"] = [_("National projects are awarded whole servers of %(n)s GPUs.") % {"n": GPUS_PER_SERVER}]
    if planned_start is None or end_date is None or end_date <= planned_start:
        errors["end_date"] = [_("The project ends after its planned start.")]
    if pool is None:
        errors["pool"] = [_("Name the pool the project's servers come from.")]
    if errors:
        raise ValidationFailed(_("The project has errors; nothing was saved."), fields=errors)
    with transaction.atomic():
        project = Project.objects.create(
            code=code, ministry=ministry, pool=pool, title_ko=title_ko, title_en=title_en or title_ko, domain=domain,
            purpose=purpose, gpus_awarded=gpus_awarded, planned_start=planned_start, end_date=end_date,
            status=ProjectStatus.PLANNED, is_sample=is_sample)
        audit.record(actor=actor, action="project.create", obj=project, reason=reason,
                     after=audit.snapshot(project, ["code", "ministry", "pool", "gpus_awarded", "planned_start",
                                                    "end_date"]))
    return project
