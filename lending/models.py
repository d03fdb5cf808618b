"""Short-term lending of idle GPUs (단기 수요 지원): organisations, their requests, and the loans
that hold GPUs in the ledger's loan layer. The tables keep the names they had in the gpus app."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from allocation_portal.messages import render
from allocation_portal.models import Compliance
from gpus.models import GPUS_PER_SERVER, GpuModel, Pool


class OrganisationKind(models.TextChoices):
    INDUSTRY = "industry", _("Industry")
    ACADEMIA = "academia", _("Academia")
    RESEARCH = "research", _("Research institute")


class Region(models.TextChoices):
    CAPITAL = "capital", _("Capital region")
    NON_CAPITAL = "non_capital", _("Outside the capital region")


class Organisation(models.Model):
    """A company, university or research institute that applies for idle GPUs."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("type"), max_length=20, choices=OrganisationKind.choices)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices)
    registration_number = models.CharField(_("registration number"), max_length=30, unique=True)
    is_sample = models.BooleanField(_("sample data"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gpus_organisation"
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name



# What answering "no" to a request's checklist item means: shown to the applicant when they answer,
# and to MSIT in the queue and on the request.
CHECKLIST_ITEMS = ("personal_information", "training_data_copyright", "ai_basic_act")
CHECKLIST_NO_MEANING = {
    "personal_information": _(
        "The data holds personal information that is not handled under the Personal Information Protection Act. "
        "GPUs are not lent for such work until it is (for example pseudonymised, or used with the people's consent): "
        "say in the purpose how you will put it right, or MSIT will ask for changes or reject the request."
    ),
    "training_data_copyright": _(
        "You do not have the right to use all of the training data. Training on it would infringe copyright or "
        "others' IP: say in the purpose which data it is and how you will get the right, or MSIT will ask for "
        "changes or reject the request."
    ),
    "ai_basic_act": _(
        "The work does not meet the AI Basic Act's duties yet (for example transparency, or the risk management "
        "of high-impact AI). Say in the purpose what is missing and how you will meet it, or MSIT will ask for "
        "changes or reject the request."
    ),
}

# Loan length, renewals and the recall notice are policy numbers (allocation_portal.policy).
PARTIAL_SERVER_MAX_GPUS = 4  # loans take 1-4 GPUs of a server, or whole servers


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Offer declined")
    LAPSED = "lapsed", _("Offer lapsed")


class LoanRequest(models.Model):
    """An organisation's application for idle GPUs (단기 수요 신청), lent from one pool."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="requests")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="requests")
    submitted_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, related_name="+")
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices)
    gpu_count = models.PositiveIntegerField(_("GPUs"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))
    purpose = models.TextField(_("purpose"))
    expected_results = models.TextField(_("expected results"))
    personal_information = models.CharField(_("personal information"), max_length=4, choices=Compliance.choices)
    training_data_copyright = models.CharField(_("training data copyright"), max_length=4, choices=Compliance.choices)
    ai_basic_act = models.CharField(_("AI Basic Act"), max_length=4, choices=Compliance.choices)
    accepts_recall_terms = models.BooleanField(_("accepts the recall terms"), default=False)
    state = models.CharField(_("state"), max_length=20, choices=RequestState.choices, default=RequestState.SUBMITTED)
    score = models.DecimalField(_("criteria score"), max_digits=5, decimal_places=1, null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "gpus_loanrequest"
        verbose_name = _("short-term request")
        verbose_name_plural = _("short-term requests")
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(name="loan_request_period_ordered", condition=Q(ends_on__gte=F("starts_on"))),
            # 1-4 GPUs of a server, or whole servers.
            models.CheckConstraint(
                name="loan_request_size",
                condition=Q(gpu_count__gte=1, gpu_count__lte=PARTIAL_SERVER_MAX_GPUS)
                | (Q(gpu_count__gte=GPUS_PER_SERVER) & Exact(Mod(F("gpu_count"), GPUS_PER_SERVER), 0)),
            ),
            models.CheckConstraint(name="loan_request_accepts_terms", condition=Q(accepts_recall_terms=True)),
            models.CheckConstraint(name="loan_request_score_range", condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100)),
        ]
        indexes = [models.Index(fields=["state", "submitted_at"], name="loan_request_queue_idx")]

    def __str__(self):
        return f"{self.organisation} · {self.gpu_model} ×{self.gpu_count} · {self.starts_on}–{self.ends_on}"

    @property
    def checklist(self) -> list[tuple[str, str, str, str]]:
        """(item, its label, the answer, the answer's label) for each checklist item, in order."""
        return [(name, str(self._meta.get_field(name).verbose_name), getattr(self, name),
                 getattr(self, f"get_{name}_display")()) for name in CHECKLIST_ITEMS]

    @property
    def checklist_no(self) -> list[tuple[str, str]]:
        """(item label, what the "no" means) for each item answered "no"."""
        return [(label, str(CHECKLIST_NO_MEANING[name])) for name, label, answer, _display in self.checklist
                if answer == Compliance.NO]


class LoanState(models.TextChoices):
    # An approval offers the GPUs: the ledger holds them for the applicant until the offer is
    # accepted (scheduled or active), declined, or lapses (ended).
    OFFERED = "offered", _("Offered")
    SCHEDULED = "scheduled", _("Scheduled")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class LoanEnd(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    RETURNED = "returned", _("Returned early")
    RECALLED = "recalled", _("Recalled")
    DECLINED = "declined", _("Offer declined")
    LAPSED = "lapsed", _("Offer lapsed")


class RenewalState(models.TextChoices):
    NONE = "", _("Not asked")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn (the loan was returned)")


class Loan(models.Model):
    """GPUs lent to an organisation for a period; its ledger entries hold the GPUs (layer `loan`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.OneToOneField(LoanRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="loan")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="loans")
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices)
    gpu_count = models.PositiveIntegerField(_("GPUs"))
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    state = models.CharField(_("state"), max_length=20, choices=LoanState.choices, default=LoanState.SCHEDULED)
    end_reason = models.CharField(_("how it ended"), max_length=20, choices=LoanEnd.choices, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer open until"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("offer accepted at"), null=True, blank=True)
    recall_notice_at = models.DateTimeField(_("recall notice given"), null=True, blank=True)
    recall_reason = models.TextField(_("recall reason"), blank=True)
    # A recall the portal gave itself (a project started) as a message code (allocation_portal.messages).
    recall_reason_msg = models.JSONField(_("recall reason (message)"), null=True, blank=True)
    renewal_state = models.CharField(_("renewal"), max_length=20, choices=RenewalState.choices, default="", blank=True)
    renewal_ends_on = models.DateField(_("renewal until"), null=True, blank=True)
    renewals = models.PositiveSmallIntegerField(_("renewals asked for"), default=0)
    renewal_reason = models.TextField(_("renewal reason"), blank=True)
    end_report = models.TextField(_("end-of-loan report"), blank=True)
    end_report_gpu_hours = models.DecimalField(_("GPU-hours used"), max_digits=12, decimal_places=1, null=True, blank=True)
    end_report_at = models.DateTimeField(_("report filed at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "gpus_loan"
        verbose_name = _("short-term loan")
        verbose_name_plural = _("short-term loans")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(name="loan_period_ordered", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(name="loan_offer_has_expiry",
                                   condition=~Q(state="offered") | Q(offer_expires_at__isnull=False)),
            models.CheckConstraint(
                name="loan_end_reason_when_ended",
                condition=(Q(state="ended") & ~Q(end_reason="")) | (~Q(state="ended") & Q(end_reason="")),
            ),
        ]
        indexes = [
            models.Index(fields=["state", "starts_at"], name="loan_state_start_idx"),
            models.Index(fields=["state", "ends_at"], name="loan_state_end_idx"),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.gpu_model} ×{self.gpu_count}"

    @property
    def recall_reason_text(self) -> str:
        return render(self.recall_reason_msg) if self.recall_reason_msg else self.recall_reason

    @property
    def recalled(self) -> bool:
        return self.recall_notice_at is not None

    @property
    def is_offer(self) -> bool:
        return self.state == LoanState.OFFERED

    @property
    def returned_early(self) -> bool:
        return self.end_reason == LoanEnd.RETURNED

    @property
    def began(self) -> bool:
        """Whether the GPUs were ever the borrower's to use (a loan returned or recalled before its
        start, or an offer declined, never began: there is nothing to report on)."""
        if self.state in (LoanState.OFFERED, LoanState.SCHEDULED):
            return False
        return self.state == LoanState.ACTIVE or (self.ended_at is not None and self.ended_at > self.starts_at
                                                  and self.end_reason not in (LoanEnd.DECLINED, LoanEnd.LAPSED))

    @property
    def report_due(self) -> bool:
        return self.state == LoanState.ENDED and self.began and self.end_report_at is None
