"""What the providers' schedulers and GPUs measured, per server, KST day and ledger holder.

Slurm accounting gives *scheduled* GPU time (a job held the GPUs); GPU telemetry gives *busy* GPU
time (the GPUs worked). Both are kept as a roll-up per (server, day, holder): the holder of each GPU
at that time in the ledger — a loan, a started project, a project that had not started (idle), the
MSIT reserve, or nobody (unattributed use, listed for MSIT)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    SCHEDULER = "sacct", _("Scheduler accounting (Slurm)")
    TELEMETRY = "telemetry", _("GPU telemetry (DCGM through Prometheus)")


class UsageHolder(models.TextChoices):
    PROJECT = "project", _("National project")
    IDLE = "idle", _("Project not started (idle)")
    LOAN = "loan", _("Short-term loan")
    RESERVE = "reserve", _("MSIT reserve")
    UNATTRIBUTED = "unattributed", _("Nobody (unattributed use)")


class UsageBatch(models.Model):
    """One delivery of measured usage for one provider, source and period. A later batch for the
    same period replaces the figures of the earlier one (which stays, superseded, for the record)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey("gpus.Provider", verbose_name=_("provider"), on_delete=models.PROTECT,
                                 related_name="usage_batches")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("until"))
    digest = models.CharField(_("digest of the figures"), max_length=64)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    records = models.PositiveIntegerField(_("records read"), default=0)
    runs = models.PositiveIntegerField(_("job runs counted"), default=0)
    provisional = models.PositiveIntegerField(_("runs still running"), default=0)
    gpu_seconds = models.FloatField(_("GPU-seconds"), default=0)
    unknown_nodes = models.JSONField(_("nodes not in the inventory"), default=list, blank=True)
    received_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    current = models.BooleanField(_("current"), default=True)
    superseded_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("measured usage delivery")
        verbose_name_plural = _("measured usage deliveries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(name="usage_batch_period_ordered", condition=Q(period_end__gt=models.F("period_start"))),
            models.UniqueConstraint(fields=["provider", "source", "period_start", "period_end"],
                                    condition=Q(current=True), name="usage_batch_one_current"),
        ]

    def __str__(self):
        return f"{self.provider.code} {self.get_source_display()} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"


class MeasuredUsage(models.Model):
    """GPU-seconds measured on one server on one KST day, for one holder."""

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(UsageBatch, on_delete=models.CASCADE, related_name="rows")
    source = models.CharField(max_length=20, choices=Source.choices)
    server = models.ForeignKey("gpus.Server", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    holder_kind = models.CharField(max_length=20, choices=UsageHolder.choices)
    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gpu_seconds = models.FloatField()
    # Telemetry only: the GPU-seconds that had data (missing data is not zero use).
    covered_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("measured usage")
        verbose_name_plural = _("measured usage")
        indexes = [
            models.Index(fields=["project", "source", "day"], name="usage_project_day_idx"),
            models.Index(fields=["loan", "source", "day"], name="usage_loan_day_idx"),
            models.Index(fields=["batch"], name="usage_batch_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="usage_not_negative", condition=Q(gpu_seconds__gte=0)),
        ]

    def __str__(self):
        return f"{self.server_id} {self.day} {self.holder_kind}: {self.gpu_seconds / 3600:.2f} GPU-h"
