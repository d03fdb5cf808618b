"""Writes for ministries and projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from allocation_portal import audit, months
from allocation_portal.errors import NotPermitted, StateConflict, ValidationFailed
from gpus.models import GPUS_PER_SERVER, Allocation, Cluster, Gpu, Provider, Server, ServerStatus
from gpus.selectors import day_start
from gpus.services import project_award_servers

from . import programme_2026 as data
from .models import Ministry, Project, ProjectStatus, UsagePlan


def _sync(model, lookup: dict, values: dict):
    """get_or_create, then update only fields that differ, so a second load writes nothing."""
    obj, created = model.objects.get_or_create(**lookup, defaults=values)
    if created:
        return obj, True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return obj, bool(changed)


def _load_inventory() -> dict[str, Cluster]:
    clusters = {}
    for p in data.PROVIDERS:
        provider, _created = _sync(
            Provider,
            {"code": p["code"]},
            {"name_ko": p["name_ko"], "name_en": p["name_en"], "source_note": p["source_note"]},
        )
        for c in p["clusters"]:
            cluster, _created = _sync(
                Cluster,
                {"code": c["code"]},
                {"provider": provider, "name": c["name"], "gpu_model": c["gpu_model"], "data_centre": ""},
            )
            clusters[cluster.code] = cluster
            if not cluster.servers.exists():
                servers = Server.objects.bulk_create(
                    Server(
                        cluster=cluster,
                        hostname=f"{c['code']}-{n:04d}",
                        # The last servers of a cluster start in maintenance, for the demo.
                        status=ServerStatus.MAINTENANCE if n > c["servers"] - c["maintenance"] else ServerStatus.IN_SERVICE,
                    )
                    for n in range(1, c["servers"] + 1)
                )
                Gpu.objects.bulk_create(Gpu(server=s, index=i) for s in servers for i in range(GPUS_PER_SERVER))
    return clusters


def _project_rows():
    ministries = {code: name for code, name, *_ in data.MINISTRIES}
    assert len(ministries) == data.PROGRAMME_MINISTRIES
    for named in data.NAMED_PROJECTS:
        yield {
            "code": f"NAI-2026-{named['rank']:02d}",
            "ministry": named["ministry"],
            "rank": named["rank"],
            "title_ko": named["title_ko"],
            "title_en": named["title_en"],
            "domain": named["domain"],
            "purpose": named["purpose"],
            "gpus_awarded": named["gpus"],
            "planned_start": named["planned_start"],
            "actual_start": named["actual_start"],
            "expected_start": named.get("expected_start"),
            "is_sample": False,
        }
    for index, (ministry, domain, servers, title_ko, title_en) in enumerate(data.SAMPLE_PROJECTS):
        schedule = data.sample_schedule(index)
        yield {
            "code": f"NAI-2026-{index + 8:02d}",
            "ministry": ministry,
            "rank": None,
            "title_ko": title_ko,
            "title_en": title_en,
            "domain": domain,
            "purpose": f"[예시 데이터] {title_ko} (sample data: {title_en}).",
            "gpus_awarded": servers * GPUS_PER_SERVER,
            **schedule,
            "is_sample": True,
        }


def programme_2026_load() -> dict[str, int]:
    """Load the 2026 programme: 25 ministries, 52 projects, the providers' inventory and one
    award of whole servers per project. Idempotent: a second run changes nothing."""
    changed = 0
    # Texts stored in the ledger are written in the portal's first language, whoever runs this.
    with translation.override("ko"), transaction.atomic():
        ministries = {}
        for code, name_ko, name_en, is_sample in data.MINISTRIES:
            ministry, was_changed = _sync(
                Ministry, {"code": code}, {"name_ko": name_ko, "name_en": name_en, "is_sample": is_sample}
            )
            ministries[code] = ministry
            changed += was_changed
        clusters = _load_inventory()
        b200_clusters = [clusters["nhn-b200-a"], clusters["nhn-b200-b"], clusters["kakao-b200"]]
        for index, row in enumerate(_project_rows()):
            ministry = ministries[row.pop("ministry")]
            code = row.pop("code")
            row["status"] = ProjectStatus.ACTIVE if row["actual_start"] else ProjectStatus.PLANNED
            row["end_date"] = data.end_of_project(row["planned_start"])
            project, created = Project.objects.get_or_create(code=code, defaults={"ministry": ministry, **row})
            changed += created
            if Allocation.objects.filter(project=project).exists():
                changed += bool(usage_plan_create_default(actor=None, project=project))
                continue
            # Awards date from the announcement: until a project starts its servers are idle (lendable).
            cluster = b200_clusters[index % len(b200_clusters)] if index >= 7 else b200_clusters[index % 2]
            project_award_servers(
                actor=None,
                project=project,
                cluster=cluster,
                server_count=project.gpus_awarded // GPUS_PER_SERVER,
                starts_at=day_start(data.ANNOUNCED_ON),
                ends_at=day_start(project.end_date + dt.timedelta(days=1)),
                reason=_("2026 national AI project award (MSIT announcement of 7 April 2026)."),
            )
            changed += 1
    return {
        "ministries": Ministry.objects.count(),
        "projects": Project.objects.count(),
        "gpus_awarded": sum(Project.objects.values_list("gpus_awarded", flat=True)),
        "servers": Server.objects.count(),
        "gpus": Gpu.objects.count(),
        "changed": changed,
    }


# Default plan: a short ramp-up, then flat, as a share of the awarded GPUs' hours in each month.
DEFAULT_PLAN_RAMP = (Decimal("0.3"), Decimal("0.6"))
DEFAULT_PLAN_FLAT = Decimal("0.8")


def usage_plan_default(project: Project) -> dict[dt.date, Decimal]:
    """Planned GPU-hours per month from the (expected) start to the end: 30%, 60%, then 80% of
    the awarded GPUs' hours; the first month counts only the days from the start."""
    start = project.actual_start or project.expected_start or project.planned_start
    plan = {}
    for index, month in enumerate(months.months_between(start, project.end_date)):
        share = DEFAULT_PLAN_RAMP[index] if index < len(DEFAULT_PLAN_RAMP) else DEFAULT_PLAN_FLAT
        hours = Decimal(project.gpus_awarded * months.hours_in(month)) * share
        if index == 0 and start.day > 1:
            days = (months.next_month(month) - month).days
            hours = hours * Decimal(days - start.day + 1) / Decimal(days)
        plan[month] = hours.quantize(Decimal("1"))
    return plan


def usage_plan_create_default(*, actor, project: Project) -> int:
    """Make the default plan for a project that has none (on award). Returns months created."""
    with transaction.atomic():
        if UsagePlan.objects.filter(project=project).exists():
            return 0
        plan = usage_plan_default(project)
        UsagePlan.objects.bulk_create(
            UsagePlan(project=project, month=month, planned_gpu_hours=hours) for month, hours in plan.items()
        )
        audit.record(
            actor=actor,
            action="usage_plan.default",
            obj=project,
            after={months.label(m): str(h) for m, h in plan.items()},
            reason=_("Default plan made on award: ramp-up, then flat."),
        )
    return len(plan)


def usage_plan_update(*, actor, project: Project, hours_by_month: dict[dt.date, Decimal], reason: str = "") -> int:
    """Set planned GPU-hours for some months. Officials change future months only; months that
    have begun are locked except for MSIT admins, whose change is audited with its reason."""
    from .access import can_act_for_project

    if not can_act_for_project(actor, project):
        raise NotPermitted(_("You cannot change this project's plan."))
    this_month = months.current()
    first = months.first_day(project.planned_start)
    last = months.first_day(project.end_date)
    errors: dict[str, list[str]] = {}
    for month, hours in hours_by_month.items():
        key = months.label(month)
        if month < first or month > last:
            errors[key] = [_("Outside the project's period (%(first)s to %(last)s).")
                           % {"first": months.label(first), "last": months.label(last)}]
        elif month <= this_month and not actor.is_msit_admin:
            errors[key] = [_("This month has begun: only an MSIT admin can change its plan.")]
        elif hours is None or hours < 0:
            errors[key] = [_("Enter zero or more GPU-hours.")]
        elif hours > project.gpus_awarded * months.hours_in(month):
            errors[key] = [_("More than the awarded GPUs can give in this month (%(max)s GPU-hours).")
                           % {"max": project.gpus_awarded * months.hours_in(month)}]
    if errors:
        raise ValidationFailed(_("Some months of the plan are invalid."), fields=errors)
    if any(m <= this_month for m in hours_by_month) and not (reason or "").strip():
        raise ValidationFailed(
            _("Changing a month that has begun needs a reason."), fields={"reason": [_("Required.")]}
        )
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
    """The project has started: its servers stop being idle, and every loan on them gets the
    recall notice (72 hours). Officials record their own projects' start; MSIT admins any."""
    from gpus.lending_services import loans_recall_for_project

    from .access import can_act_for_project

    if not can_act_for_project(actor, project):
        raise NotPermitted(_("You cannot record this project's start."))
    if started_on is None or started_on > timezone.localdate():
        raise ValidationFailed(_("The start cannot be in the future."), fields={"started_on": [_("Not in the future.")]})
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.actual_start is not None:
            raise StateConflict(_("This project has started already (%(day)s).") % {"day": locked.actual_start})
        before = audit.snapshot(locked, ["status", "actual_start", "expected_start"])
        locked.actual_start = started_on
        locked.status = ProjectStatus.ACTIVE
        locked.save(update_fields=["actual_start", "status", "updated_at"])
        audit.record(actor=actor, action="project.start", obj=locked, before=before,
                     after=audit.snapshot(locked, ["status", "actual_start", "expected_start"]), reason=reason)
        loans_recall_for_project(
            actor=actor, project=locked,
            reason=_("Project %(code)s, which these GPUs are reserved for, has started.") % {"code": locked.code},
        )
    return locked


def project_set_expected_start(*, actor, project: Project, expected_start: dt.date, reason: str) -> Project:
    """The official records a new expected start for a project that has not started."""
    from .access import can_act_for_project

    if not can_act_for_project(actor, project):
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
    return locked
