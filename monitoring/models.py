from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from allocation_portal.models import Compliance, Notification, NotificationKind  # noqa: F401 - kept importable here


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


# --- Reclamation (회수) --------------------------------------------------------------------------


class CaseKind(models.TextChoices):
    UNDER_USE = "under_use", _("Under plan")
    OFF_PURPOSE = "off_purpose", _("Off-purpose use")


class CaseState(models.TextChoices):
    OPEN = "open", _("Waiting for the ministry")
    RESPONDED = "responded", _("Responded")
    APPROVED = "approved", _("Reclamation approved")
    EXEMPTED = "exempted", _("Exemption granted")
    REJECTED = "rejected", _("Rejected (no reclamation)")
    RESOLVED = "resolved", _("Resolved: the project meets its plan")


DECIDED_STATES = (CaseState.APPROVED, CaseState.EXEMPTED, CaseState.REJECTED, CaseState.RESOLVED)


class ResponseKind(models.TextChoices):
    EXPLANATION = "explanation", _("Explanation")
    EXEMPTION = "exemption", _("Request for exemption")


def case_evidence_path(instance, filename: str) -> str:
    return f"cases/{instance.project.code}/{uuid.uuid4().hex[:8]}-{filename}"


class ReclamationCase(models.Model):
    """A proposal to reclaim a project's servers, its evidence, the ministry's response and MSIT's
    decision. One per project, month and kind (a database constraint), so the check never opens
    the same case twice."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="cases")
    month = models.DateField(_("month checked"))
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    state = models.CharField(_("state"), max_length=20, choices=CaseState.choices, default=CaseState.OPEN)
    policy = models.ForeignKey("allocation_portal.Policy", verbose_name=_("policy"), on_delete=models.PROTECT, related_name="cases")
    evidence = models.JSONField(_("evidence"), default=dict)
    evidence_note = models.TextField(_("evidence note"), blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to=case_evidence_path, blank=True, max_length=300)
    source_report = models.ForeignKey(UsageReport, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    servers_held = models.PositiveIntegerField(_("servers held"))
    proposed_servers = models.PositiveIntegerField(_("servers proposed"))
    response_due = models.DateField(_("response due"))
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    opened_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    response_kind = models.CharField(_("response"), max_length=20, choices=ResponseKind.choices, blank=True)
    response_text = models.TextField(_("response text"), blank=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    responded_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_servers = models.PositiveIntegerField(_("servers reclaimed"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    suspended_at = models.DateTimeField(_("GPUs suspended"), null=True, blank=True)
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)

    class Meta:
        verbose_name = _("reclamation case")
        verbose_name_plural = _("reclamation cases")
        ordering = ["-month", "project__code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month", "kind"], name="case_once_per_project_month_kind"),
            models.CheckConstraint(name="case_month_first_day", condition=Q(month__day=1)),
            models.CheckConstraint(
                name="case_decided_has_decider",
                condition=~Q(state__in=["approved", "exempted", "rejected", "resolved"]) | Q(decided_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["state", "month"], name="case_state_month_idx")]

    def __str__(self):
        return f"{self.project.code} {self.month:%Y-%m} {self.get_kind_display()}"

    @property
    def decided(self) -> bool:
        return self.state in DECIDED_STATES


class CheckRun(models.Model):
    """One monthly check (scheduled or on demand): what it covered and how far it got. A re-run
    of the same month continues it. A run beats (`heartbeat_at`) after each project; an unfinished
    run whose beat stopped was left by a worker that died, and the next attempt takes it over."""

    month = models.DateField(_("month"), unique=True)
    started_at = models.DateTimeField(_("started"))
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    forced = models.BooleanField(_("forced before the reports were due"), default=False)
    force_reason = models.TextField(_("reason for forcing"), blank=True)
    requested_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    projects_checked = models.PositiveIntegerField(default=0)
    cases_opened = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("monthly check run")
        verbose_name_plural = _("monthly check runs")
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"


# --- Redistribution (재배분) -----------------------------------------------------------------------


class ProposalKind(models.TextChoices):
    LOAN_REQUEST = "loan_request", _("Short-term request")
    PROJECT_INCREASE = "project_increase", _("Project asking for more GPUs")


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    STALE = "stale", _("Capacity gone")
    SUPERSEDED = "superseded", _("Superseded")


class RedistributionProposal(models.Model):
    """A proposed assignment of reserve, idle or free GPUs to a queued request; nothing moves until
    an MSIT admin approves it, and the approval re-checks the capacity."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ProposalKind.choices)
    loan_request = models.ForeignKey("lending.LoanRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="proposals")
    gpu_request = models.ForeignKey("projects.ProjectGpuRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="proposals")
    rank = models.PositiveIntegerField(_("rank"))
    gpu_ids = models.JSONField(_("GPUs"), default=list)
    servers = models.JSONField(_("servers"), default=list)
    sources = models.JSONField(_("sources"), default=dict)
    state = models.CharField(_("state"), max_length=20, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("redistribution proposal")
        verbose_name_plural = _("redistribution proposals")
        ordering = ["rank", "created_at"]
        constraints = [
            models.CheckConstraint(
                name="proposal_has_one_target",
                condition=(Q(kind="loan_request", loan_request__isnull=False, gpu_request__isnull=True)
                           | Q(kind="project_increase", loan_request__isnull=True, gpu_request__isnull=False)),
            ),
            # At most one open proposal per target.
            models.UniqueConstraint(fields=["loan_request"], condition=Q(state="proposed"), name="one_open_proposal_per_request"),
            models.UniqueConstraint(fields=["gpu_request"], condition=Q(state="proposed"), name="one_open_proposal_per_gpu_request"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.rank}"
