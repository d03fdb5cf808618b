"""Inventory and the allocation ledger: providers, clusters, servers of eight GPUs, pools, and the
entries that promise GPUs to a holder for a period."""

from __future__ import annotations

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from allocation_portal.messages import render

GPUS_PER_SERVER = 8


class GpuModel(models.TextChoices):
    B200 = "B200", "NVIDIA B200"
    H200 = "H200", "NVIDIA H200"


class Provider(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    source_note = models.CharField(_("source"), max_length=200, blank=True)
    # Where the provider's Prometheus answers (DCGM exporter metrics): pulled daily when set.
    prometheus_url = models.URLField(_("Prometheus address"), max_length=300, blank=True)
    # How a borrower reaches the GPUs (VPN, SSH gateway, scheduler account...): the provider's own
    # steps, kept by MSIT admins in both languages and shown on every loan of the provider's servers.
    access_steps_ko = models.TextField(_("access steps (Korean)"), blank=True)
    access_steps_en = models.TextField(_("access steps (English)"), blank=True)
    support_contact = models.CharField(_("support contact"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko

    @property
    def access_steps(self) -> str:
        """The steps in the reader's language, or in the other one when only that is written."""
        english = (get_language() or "ko").startswith("en")
        first, second = (self.access_steps_en, self.access_steps_ko) if english else (self.access_steps_ko, self.access_steps_en)
        return first or second


class Cluster(models.Model):
    provider = models.ForeignKey(Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="clusters")
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices)
    data_centre = models.CharField(_("data centre"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["provider__code", "code"]

    def __str__(self):
        return f"{self.name} ({self.gpu_model})"


class PoolKind(models.TextChoices):
    PROGRAMME = "programme", _("National AI programme")
    OTHER = "other", _("Other government GPUs")


class Pool(models.Model):
    """A programme's capacity. The 2026 national AI projects' pool is the 354 servers awarded to
    them plus the MSIT reserve their reclaimed servers feed; the government's other GPUs belong to
    other pools (other calls). A programme awards, lends and redistributes only within its pool."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ko = models.CharField(_("name (Korean)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=PoolKind.choices)
    opens_on = models.DateField(
        _("awards from"), null=True, blank=True, help_text=_("The first day the programme's projects can hold GPUs.")
    )
    published_gpus = models.PositiveIntegerField(
        _("GPUs published"), null=True, blank=True, help_text=_("The programme's GPUs as announced.")
    )

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        ordering = ["kind", "code"]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko

    @property
    def is_programme(self) -> bool:
        return self.kind == PoolKind.PROGRAMME


class ServerStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    MAINTENANCE = "maintenance", _("In maintenance")


class Server(models.Model):
    """A node of eight GPUs. National projects hold whole servers."""

    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="servers")
    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="servers")
    hostname = models.CharField(_("hostname"), max_length=60, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=ServerStatus.choices, default=ServerStatus.IN_SERVICE)

    class Meta:
        verbose_name = _("server")
        verbose_name_plural = _("servers")
        ordering = ["hostname"]
        indexes = [
            models.Index(fields=["cluster", "status"], name="server_cluster_status_idx"),
            models.Index(fields=["pool", "status"], name="server_pool_status_idx"),
        ]

    def __str__(self):
        return self.hostname


class Gpu(models.Model):
    server = models.ForeignKey(Server, verbose_name=_("server"), on_delete=models.PROTECT, related_name="gpus")
    index = models.PositiveSmallIntegerField(_("slot"))

    class Meta:
        verbose_name = _("GPU")
        verbose_name_plural = _("GPUs")
        ordering = ["server_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["server", "index"], name="gpu_unique_slot"),
            models.CheckConstraint(name="gpu_slot_in_server", condition=Q(index__gte=0) & Q(index__lt=GPUS_PER_SERVER)),
        ]

    def __str__(self):
        return f"{self.server.hostname}/gpu{self.index}"


class HolderKind(models.TextChoices):
    PROJECT = "project", _("National project")
    SUSPENDED = "suspended", _("Suspended (off-purpose case)")
    RESERVE = "reserve", _("MSIT reserve")
    LOAN = "loan", _("Short-term loan")


class Layer(models.TextChoices):
    """Awards (to projects or the MSIT reserve) say who a GPU belongs to; loans say who borrows it.

    A loan may sit on GPUs awarded to a project that has not started (that is what "idle" means),
    or on the MSIT reserve, so the two layers are separate. Within each layer a GPU has at most one
    holder at any moment; across the layers, at most one holder *uses* it (see AllocationGpu)."""

    AWARD = "award", _("Award")
    LOAN = "loan", _("Loan")


class Allocation(models.Model):
    """One ledger entry: a holder holds these GPUs from `starts_at` to `ends_at`.

    Entries are not rewritten: a release shortens `ends_at` (and records who and why); a partial
    release ends the entry and opens a continuation for the GPUs that stay."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder_kind = models.CharField(_("holder"), max_length=20, choices=HolderKind.choices)
    layer = models.CharField(_("layer"), max_length=10, choices=Layer.choices)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
    )
    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.PROTECT, related_name="allocations")
    gpu_count = models.PositiveIntegerField(_("GPUs"))
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    planned_ends_at = models.DateTimeField(_("planned until"))
    reason = models.TextField(_("reason"))
    # A reason the portal wrote itself, as a message code (allocation_portal.messages); `reason`
    # holds its Korean rendering, or what an MSIT admin typed. The same for the release reason.
    reason_msg = models.JSONField(_("reason (message)"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("continues"), on_delete=models.PROTECT, null=True, blank=True, related_name="continuations"
    )
    created_by = models.ForeignKey(
        "allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        "allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.TextField(_("release reason"), blank=True)
    release_reason_msg = models.JSONField(_("release reason (message)"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(name="allocation_period_ordered", condition=Q(ends_at__gte=F("starts_at"))),
            models.CheckConstraint(name="allocation_has_gpus", condition=Q(gpu_count__gt=0)),
            models.CheckConstraint(
                name="allocation_holder_matches",
                condition=(
                    Q(holder_kind="project", project__isnull=False, loan__isnull=True, layer="award")
                    | Q(holder_kind="suspended", project__isnull=False, loan__isnull=True, layer="award")
                    | Q(holder_kind="reserve", project__isnull=True, loan__isnull=True, layer="award")
                    | Q(holder_kind="loan", project__isnull=True, loan__isnull=False, layer="loan")
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["project", "starts_at"], name="allocation_project_idx"),
            models.Index(fields=["holder_kind", "ends_at"], name="allocation_holder_end_idx"),
        ]

    def __str__(self):
        if self.holder_kind == HolderKind.PROJECT:
            return f"{self.get_holder_kind_display()} {self.holder_label} · {self.gpu_count} GPU"
        return f"{self.holder_label} · {self.gpu_count} GPU"

    @property
    def holder_label(self) -> str:
        if self.holder_kind == HolderKind.PROJECT and self.project_id:
            return self.project.code
        if self.holder_kind == HolderKind.LOAN and self.loan_id:
            return f"{self.get_holder_kind_display()} · {self.loan.organisation.name}"
        return str(self.get_holder_kind_display())

    @property
    def reason_text(self) -> str:
        return render(self.reason_msg) if self.reason_msg else self.reason

    @property
    def release_reason_text(self) -> str:
        return render(self.release_reason_msg) if self.release_reason_msg else self.release_reason

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


def in_use_period():
    """The part of a held GPU's period in which its holder uses it: all of a loan's period; an
    award's from `in_use_from` (a started project from its start, or once the loans on the GPU
    have ended; a suspension at once); never for the MSIT reserve or an idle project."""
    return Case(
        When(layer=Layer.LOAN, then=F("period")),
        When(
            in_use_from__isnull=False,
            then=Func(
                F("period"),
                Func(F("in_use_from"), Value(None), Value("[)"), function="tstzrange", output_field=DateTimeRangeField()),
                function="range_intersect",
                output_field=DateTimeRangeField(),
            ),
        ),
        default=None,
        output_field=DateTimeRangeField(),
    )


class AllocationGpu(models.Model):
    """One GPU of a ledger entry, with the entry's period copied so PostgreSQL can refuse overlaps.

    Two exclusion constraints are the invariant of the whole portal, whatever races the
    application loses: within a layer, no GPU is promised to two holders for overlapping time;
    and across both layers no GPU is *used* by two holders at overlapping times. `occupied` is
    the used part of the period (computed by PostgreSQL from `layer`, `period` and
    `in_use_from`): a loan uses its whole period, a started project its award from the moment
    it took the GPU over, so a loan and a started project can never hold the same GPU at once."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="gpu_rows")
    gpu = models.ForeignKey(Gpu, on_delete=models.PROTECT, related_name="holdings")
    layer = models.CharField(max_length=10, choices=Layer.choices)
    period = DateTimeRangeField()
    in_use_from = models.DateTimeField(null=True, blank=True)
    occupied = models.GeneratedField(expression=in_use_period(), output_field=DateTimeRangeField(), db_persist=True)

    class Meta:
        verbose_name = _("held GPU")
        verbose_name_plural = _("held GPUs")
        constraints = [
            ExclusionConstraint(
                name="gpu_never_double_booked",
                expressions=[
                    ("gpu", RangeOperators.EQUAL),
                    ("layer", RangeOperators.EQUAL),
                    ("period", RangeOperators.OVERLAPS),
                ],
            ),
            ExclusionConstraint(
                name="gpu_never_used_twice",
                expressions=[("gpu", RangeOperators.EQUAL), ("occupied", RangeOperators.OVERLAPS)],
                condition=Q(occupied__isnull=False),
            ),
            models.UniqueConstraint(fields=["allocation", "gpu"], name="allocation_gpu_once"),
            models.CheckConstraint(
                name="allocation_gpu_in_use_only_for_awards", condition=Q(layer="award") | Q(in_use_from__isnull=True)
            ),
        ]
        indexes = [models.Index(fields=["allocation"], name="allocation_gpu_alloc_idx")]

    def __str__(self):
        return f"{self.gpu_id} {self.layer} {self.period}"
