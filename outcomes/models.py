"""Closed months' outcome figures, kept so the dashboard and the API do not recompute years of
ledger each time. A month is kept once it has ended; PostgreSQL triggers (migration 0002) mark a
kept month stale whenever a row it was computed from changes (the ledger, reports, measured use,
requests, loans, cases, organisations, projects, the policy), whoever writes it and however (a
service, an UPDATE, a bulk insert), so a kept month is never read once it is out of date."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutcomeMonth(models.Model):
    month = models.DateField(_("month"), primary_key=True)
    figures = models.JSONField(_("figures"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    # Triggers add one to `version` whenever a row the month was computed from changes; the figures
    # are of `computed_version`, so they are current only while the two are equal.
    version = models.PositiveBigIntegerField(_("version"), default=0)
    computed_version = models.PositiveBigIntegerField(_("computed at version"), null=True, blank=True)

    class Meta:
        verbose_name = _("kept outcome month")
        verbose_name_plural = _("kept outcome months")
        ordering = ["month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class SimulationState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SimulationRun(models.Model):
    """A what-if run an MSIT admin started from the simulations page or the API: the same simulated
    programme (seed, months, behaviour) under policy A (the policy in force when it was asked for)
    and policy B (A with the admin's changes), replayed by the Celery worker on throw-away
    databases (outcomes.simulation_runner); the figures of each as JSON."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=SimulationState.choices, default=SimulationState.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    first_month = models.DateField(_("first month"))
    months = models.PositiveSmallIntegerField(_("months"))
    seed = models.PositiveIntegerField(_("seed"))
    behaviour = models.JSONField(_("behaviour"), default=dict)
    policy_a = models.JSONField(_("policy A"), default=dict)
    policy_b = models.JSONField(_("policy B"), default=dict)
    policy_b_changes = models.JSONField(_("policy B's changes"), default=dict)
    result_a = models.JSONField(_("result under policy A"), null=True, blank=True)
    result_b = models.JSONField(_("result under policy B"), null=True, blank=True)
    error = models.JSONField(_("error"), null=True, blank=True)  # a message (allocation_portal.messages)
    created_at = models.DateTimeField(_("asked for at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("simulation run")
        verbose_name_plural = _("simulation runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="simulation_progress_range", condition=models.Q(progress__lte=100)),
            models.CheckConstraint(name="simulation_months_range", condition=models.Q(months__gte=1, months__lte=36)),
        ]

    def __str__(self):
        return f"{self.first_month:%Y-%m} +{self.months} #{self.seed}"
