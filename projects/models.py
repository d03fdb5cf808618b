from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Ministry(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=150)
    is_sample = models.BooleanField(
        _("sample data"), default=False, help_text=_("Invented for the demo: not part of the announcement.")
    )

    class Meta:
        verbose_name = _("ministry")
        verbose_name_plural = _("ministries")
        ordering = ["name_ko"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Not started")
    ACTIVE = "active", _("In progress")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class Domain(models.TextChoices):
    MOBILITY = "mobility", _("Mobility and autonomous driving")
    MANUFACTURING = "manufacturing", _("Manufacturing and robotics")
    STARTUP = "startup", _("Start-ups and industry AX")
    CLIMATE = "climate", _("Weather and climate")
    HEALTH = "health", _("Health and medicine")
    CONTENT = "content", _("Content and culture")
    OCEAN = "ocean", _("Oceans and polar")
    PUBLIC = "public", _("Public administration")
    SECURITY = "security", _("Defence and security")
    ENERGY = "energy", _("Energy and environment")
    AGRICULTURE = "agriculture", _("Agriculture and food")
    EDUCATION = "education", _("Education")
    SCIENCE = "science", _("Basic science")
    FINANCE = "finance", _("Finance and economy")
    LAW = "law", _("Law and safety")


class Project(models.Model):
    """A national AI project. `gpus_awarded` is the programme's decision; the ledger (gpus app)
    records which servers actually carry it."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    ministry = models.ForeignKey(Ministry, verbose_name=_("ministry"), on_delete=models.PROTECT, related_name="projects")
    pool = models.ForeignKey(
        "gpus.Pool", verbose_name=_("pool"), on_delete=models.PROTECT, related_name="projects",
        help_text=_("The programme capacity the project's servers come from."),
    )
    rank = models.PositiveSmallIntegerField(_("rank in the announcement"), null=True, blank=True)
    title_ko = models.CharField(_("title (Korean)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=250)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices)
    purpose = models.TextField(_("purpose statement"), blank=True)
    gpus_awarded = models.PositiveIntegerField(_("GPUs awarded"))
    planned_start = models.DateField(_("planned start"))
    expected_start = models.DateField(
        _("expected start"), null=True, blank=True, help_text=_("A new expected start recorded by the official.")
    )
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    plan_start = models.DateField(
        _("plan counts from"), null=True, blank=True,
        help_text=_("The start the usage plan is based on; the plan moves with the start."),
    )
    end_date = models.DateField(_("end"))
    status = models.CharField(_("status"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    is_sample = models.BooleanField(
        _("sample data"), default=False, help_text=_("Invented for the demo: not part of the announcement.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["code"]
        constraints = [
            # National projects hold whole 8-GPU servers (none once an off-purpose decision reclaimed all).
            models.CheckConstraint(
                name="project_awards_whole_servers",
                condition=Q(gpus_awarded__gte=0) & Exact(Mod(F("gpus_awarded"), 8), 0),
            ),
            models.CheckConstraint(name="project_end_after_start", condition=Q(end_date__gt=F("planned_start"))),
            models.CheckConstraint(
                name="project_started_has_start_date",
                condition=Q(status="planned") | Q(actual_start__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["ministry", "status"], name="project_ministry_status_idx"),
            models.Index(fields=["planned_start"], name="project_planned_start_idx"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "ko").startswith("en") else self.title_ko

    @property
    def servers_awarded(self) -> int:
        return self.gpus_awarded // 8

    @property
    def started(self) -> bool:
        return self.actual_start is not None

    def is_delayed(self, today: dt.date | None = None, *, flag_days: int = 30) -> bool:
        """Not started `flag_days` (a policy number) after the planned start: flagged to MSIT and
        the official."""
        today = today or timezone.localdate()
        return self.actual_start is None and today > self.planned_start + dt.timedelta(days=flag_days)


class UsagePlan(models.Model):
    """GPU-hours a project plans to use in one month (GPU-hours = GPUs busy x hours)."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="plans")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    planned_gpu_hours = models.DecimalField(_("planned GPU-hours"), max_digits=12, decimal_places=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("usage plan")
        verbose_name_plural = _("usage plans")
        ordering = ["project", "month"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="usage_plan_one_per_month"),
            models.CheckConstraint(name="usage_plan_month_is_first_day", condition=Q(month__day=1)),
            models.CheckConstraint(name="usage_plan_not_negative", condition=Q(planned_gpu_hours__gte=0)),
        ]

    def __str__(self):
        return f"{self.project.code} {self.month:%Y-%m}: {self.planned_gpu_hours}"


class GpuRequestState(models.TextChoices):
    OPEN = "open", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProjectGpuRequest(models.Model):
    """A started project asking for more servers; met by redistribution from the MSIT reserve,
    idle or free servers."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="gpu_requests")
    servers = models.PositiveIntegerField(_("more servers (8 GPUs each)"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=20, choices=GpuRequestState.choices, default=GpuRequestState.OPEN)
    created_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("request for more GPUs")
        verbose_name_plural = _("requests for more GPUs")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(name="gpu_request_servers_positive", condition=Q(servers__gte=1)),
            models.UniqueConstraint(fields=["project"], condition=Q(state="open"), name="one_open_gpu_request_per_project"),
        ]

    def __str__(self):
        return f"{self.project.code} +{self.servers}"
