"""Closed months' outcome figures, kept so the dashboard and the API do not recompute years of
ledger each time. A month is kept once it has ended; PostgreSQL triggers (migration 0002) mark a
kept month stale whenever a row it was computed from changes (the ledger, reports, measured use,
requests, loans, cases, organisations, projects, the policy), whoever writes it and however (a
service, an UPDATE, a bulk insert), so a kept month is never read once it is out of date."""

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
