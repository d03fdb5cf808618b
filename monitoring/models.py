from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from allocation_portal.models import Compliance


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


# The compliance checklist of a monthly report: field name -> question.
COMPLIANCE_ITEMS = {
    "ai_basic_act": _("Use complied with the AI Basic Act (인공지능 기본법)."),
    "personal_information": _("Personal information was handled under the Personal Information Protection Act."),
    "training_data_copyright": _("Training data was used with the right to do so (copyright and IP)."),
}


def evidence_path(instance, filename: str) -> str:
    return f"evidence/{instance.project.code}/{instance.month:%Y-%m}/{uuid.uuid4().hex[:8]}-{filename}"


class UsageReport(models.Model):
    """A project's use of its GPUs in one month, as its ministry reports it.

    One per project and month (a database constraint). The fields hold the current version; every
    save, submission and decision is also kept as a UsageReportVersion."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="usage_reports"
    )
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=20, choices=ReportState.choices, default=ReportState.DRAFT)
    gpu_hours_used = models.DecimalField(_("GPU-hours used"), max_digits=12, decimal_places=1)
    peak_gpus_busy = models.PositiveIntegerField(_("peak GPUs busy"))
    within_purpose = models.BooleanField(
        _("used only for the approved purpose"), null=True, help_text=_("The purpose declaration.")
    )
    ai_basic_act = models.CharField(_("AI Basic Act"), max_length=4, choices=Compliance.choices)
    personal_information = models.CharField(_("personal information"), max_length=4, choices=Compliance.choices)
    training_data_copyright = models.CharField(_("training data copyright"), max_length=4, choices=Compliance.choices)
    notes = models.TextField(_("notes"), blank=True)
    evidence = models.FileField(_("evidence file"), upload_to=evidence_path, blank=True, max_length=300)
    version = models.PositiveIntegerField(_("version"), default=1)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_reason = models.TextField(_("reason for return"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("monthly usage report")
        verbose_name_plural = _("monthly usage reports")
        ordering = ["-month", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="usage_report_one_per_project_month"),
            models.CheckConstraint(name="usage_report_month_is_first_day", condition=Q(month__day=1)),
            models.CheckConstraint(name="usage_report_hours_not_negative", condition=Q(gpu_hours_used__gte=0)),
            models.CheckConstraint(
                name="usage_report_submitted_has_time",
                condition=Q(state="draft") | Q(submitted_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["month", "state"], name="usage_report_month_state_idx")]

    def __str__(self):
        return f"{self.project.code} {self.month:%Y-%m}"

    @property
    def counts(self) -> bool:
        """Submitted and accepted reports count as use; drafts and returned reports do not."""
        return self.state in (ReportState.SUBMITTED, ReportState.ACCEPTED)


class UsageReportVersion(models.Model):
    """One kept version of a report: what it said, in which state, who saved it and why."""

    report = models.ForeignKey(UsageReport, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=ReportState.choices)
    event = models.CharField(_("event"), max_length=20)
    data = models.JSONField()
    actor = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        ordering = ["report", "-id"]
        indexes = [models.Index(fields=["report", "version"], name="report_version_idx")]

    def __str__(self):
        return f"{self.report} v{self.version} {self.event}"


class NotificationKind(models.TextChoices):
    REPORT_DUE_SOON = "report_due_soon", _("Report due in 3 days")
    REPORT_DUE_TODAY = "report_due_today", _("Report due today")
    REPORT_OVERDUE = "report_overdue", _("Report overdue")
    REPORT_RETURNED = "report_returned", _("Report returned")
    REQUEST_DECIDED = "request_decided", _("Request decided")
    REQUEST_CHANGES = "request_changes", _("Changes requested")
    LOAN_STARTED = "loan_started", _("Loan started")
    LOAN_ENDING = "loan_ending", _("Loan ending soon")
    LOAN_ENDED = "loan_ended", _("Loan ended")
    LOAN_RECALLED = "loan_recalled", _("Loan recalled")
    LOAN_RENEWAL = "loan_renewal", _("Renewal")
    GENERAL = "general", _("Notice")


class Notification(models.Model):
    """An in-portal notice to one user, also e-mailed once. `dedup_key` makes a scheduled notice
    idempotent: the same notice for the same subject and day exists at most once per user."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey("allocation_portal.User", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    dedup_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedup_key"], name="notification_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.title
