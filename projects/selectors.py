"""Reads of ministries and projects. Each function runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from allocation_portal import policy as programme_policy
from gpus.models import AllocationGpu, HolderKind, Layer

from .models import Ministry, Project, ProjectStatus


def with_gpus_held(queryset, at: dt.datetime | None = None):
    """Annotate `gpus_held`: GPUs each project holds in the ledger at `at` (one subquery)."""
    at = at or timezone.now()
    held = (
        AllocationGpu.objects.filter(allocation__project=OuterRef("pk"), allocation__holder_kind=HolderKind.PROJECT,
                                     layer=Layer.AWARD, period__contains=at)
        .order_by()
        .values("allocation__project")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(gpus_held=Coalesce(Subquery(held, output_field=IntegerField()), 0))


def project_list(queryset):
    return with_gpus_held(queryset.select_related("ministry")).order_by("code")


def programme_summary(projects=None) -> dict:
    """Headline numbers of the programme (or of a user's scope of it). Two queries."""
    projects = Project.objects.all() if projects is None else projects
    today = timezone.localdate()
    delayed_before = today - dt.timedelta(days=programme_policy.current().delay_flag_days)
    return projects.aggregate(
        projects=Count("id"),
        ministries=Count("ministry", distinct=True),
        gpus_awarded=Coalesce(Sum("gpus_awarded"), 0),
        started=Count("id", filter=Q(actual_start__isnull=False)),
        not_started=Count("id", filter=Q(actual_start__isnull=True)),
        delayed=Count("id", filter=Q(actual_start__isnull=True, planned_start__lt=delayed_before)),
        suspended=Count("id", filter=Q(status=ProjectStatus.SUSPENDED)),
        sample=Count("id", filter=Q(is_sample=True)),
    )


def ministry_list(queryset=None):
    queryset = Ministry.objects.all() if queryset is None else queryset
    return queryset.annotate(
        project_count=Count("projects", distinct=True),
        gpus_awarded=Coalesce(Sum("projects__gpus_awarded"), 0),
        started=Count("projects", filter=Q(projects__actual_start__isnull=False), distinct=True),
    ).order_by("name_ko")
