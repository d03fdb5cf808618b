"""Calls for GPUs (공모) and their rounds: the national project call and the rolling short-term call
for idle GPUs. A call says who may apply (eligibility), how proposals are scored (criteria with
weights and a rubric), what it offers (capacity per GPU model) and how the selection is balanced
(portfolio rules). Every proposal belongs to a call and a round; a short-term request (lending's
LoanRequest, a floor below) is a proposal of the rolling call, its fields and checklist kept there."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from gpus.models import GpuModel, Pool
from lending.models import LoanRequest, Organisation, OrganisationKind, Region
from projects.models import Domain, Ministry, Project


def _english() -> bool:
    return (get_language() or "ko").startswith("en")


class CallKind(models.TextChoices):
    NATIONAL = "national", _("National project call")
    ROLLING = "rolling", _("Rolling short-term call")


class Call(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CallKind.choices)
    name_ko = models.CharField(_("name (Korean)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=200)
    opens_on = models.DateField(_("opens on"))
    # The rolling call closes a round every `round_days` days from `opens_on` (a round per cut-off).
    round_days = models.PositiveSmallIntegerField(_("days per round"), null=True, blank=True)
    # Eligibility: empty means anyone of that dimension.
    eligible_kinds = ArrayField(models.CharField(max_length=20, choices=OrganisationKind.choices), default=list,
                                blank=True, verbose_name=_("eligible organisation types"))
    eligible_regions = ArrayField(models.CharField(max_length=20, choices=Region.choices), default=list,
                                  blank=True, verbose_name=_("eligible regions"))
    eligible_ministries = models.ManyToManyField(Ministry, blank=True, related_name="+",
                                                 verbose_name=_("eligible ministries"))
    # Portfolio rules.
    cap_gpu_months = models.PositiveIntegerField(_("cap per proposal (GPUs × months)"), null=True, blank=True)
    # Percent of the capacity per organisation type, e.g. {"industry": 50, "academia": 30, "research": 20}.
    shares = models.JSONField(_("shares by organisation type (%)"), default=dict, blank=True)
    limit_per_organisation = models.PositiveSmallIntegerField(_("proposals selected per organisation"),
                                                              null=True, blank=True)
    prefers_non_capital = models.BooleanField(_("prefers applicants outside the capital region"), default=False)
    # Review.
    min_reviews = models.PositiveSmallIntegerField(_("reviews needed per proposal"), default=3)
    review_days = models.PositiveSmallIntegerField(_("days to review"), default=14)
    # A national call: the pool its selected proposals' projects are awarded from, what it says of
    # itself, and when the selection was made and announced.
    pool = models.ForeignKey(Pool, verbose_name=_("pool awarded from"), on_delete=models.PROTECT, null=True,
                             blank=True, related_name="calls")
    summary_ko = models.TextField(_("about the call (Korean)"), blank=True)
    summary_en = models.TextField(_("about the call (English)"), blank=True)
    decided_on = models.DateField(_("selection decided on"), null=True, blank=True)
    announced_on = models.DateField(_("selection announced on"), null=True, blank=True)
    is_sample = models.BooleanField(_("sample data"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-opens_on", "code"]
        constraints = [
            models.CheckConstraint(name="call_rolling_has_period",
                                   condition=~Q(kind="rolling") | Q(round_days__gte=1)),
            models.CheckConstraint(name="call_review_numbers",
                                   condition=Q(min_reviews__gte=1, min_reviews__lte=20, review_days__gte=1,
                                               review_days__lte=90)),
            models.CheckConstraint(name="call_round_days_range",
                                   condition=Q(round_days__isnull=True) | Q(round_days__gte=1, round_days__lte=366)),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_ko

    @property
    def summary(self) -> str:
        return (self.summary_en or self.summary_ko) if _english() else self.summary_ko


class Round(models.Model):
    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("cut-off"))

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["call", "number"]
        constraints = [
            models.UniqueConstraint(fields=["call", "number"], name="round_number_unique"),
            models.UniqueConstraint(fields=["call", "closes_on"], name="round_cutoff_unique"),
            models.CheckConstraint(name="round_period_ordered", condition=Q(closes_on__gte=F("opens_on"))),
        ]

    def __str__(self):
        return f"{self.call.code} #{self.number}"


class Criterion(models.Model):
    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name_ko = models.CharField(_("name (Korean)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=200)
    weight = models.PositiveSmallIntegerField(_("weight (%)"))
    # The rubric: a list of levels, best first: {"score": 5, "ko": "...", "en": "..."}.
    rubric = models.JSONField(_("rubric"), default=list)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["call", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="criterion_code_unique"),
            models.CheckConstraint(name="criterion_weight_range", condition=Q(weight__gte=1, weight__lte=100)),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_ko

    @property
    def levels(self) -> list[tuple[int, str]]:
        key = "en" if _english() else "ko"
        return [(int(level["score"]), level.get(key) or level.get("ko", "")) for level in self.rubric]


class Capacity(models.Model):
    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="capacity")
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices)
    gpus = models.PositiveIntegerField(_("GPUs offered"))
    months = models.PositiveSmallIntegerField(_("months"), default=12)

    class Meta:
        verbose_name = _("capacity offered")
        verbose_name_plural = _("capacity offered")
        ordering = ["call", "gpu_model"]
        constraints = [models.UniqueConstraint(fields=["call", "gpu_model"], name="capacity_model_unique")]

    def __str__(self):
        return f"{self.gpu_model} ×{self.gpus} · {self.months}"


class Stage(models.Model):
    """A stage of a call's selection, in order (the 2026 national call: pre-screening by the review
    committee, per-project expert interviews, the coordination committee). A proposal records the
    last stage it reached; it passed every stage before that one."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="stages")
    code = models.SlugField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("order"))
    name_ko = models.CharField(_("name (Korean)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=200)
    body_ko = models.CharField(_("held by (Korean)"), max_length=300, blank=True)
    body_en = models.CharField(_("held by (English)"), max_length=300, blank=True)
    # Empty where the dates were not published.
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("selection stage")
        verbose_name_plural = _("selection stages")
        ordering = ["call", "position"]
        constraints = [
            models.UniqueConstraint(fields=["call", "code"], name="stage_code_unique"),
            models.UniqueConstraint(fields=["call", "position"], name="stage_position_unique"),
            models.CheckConstraint(name="stage_period_ordered",
                                   condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True)
                                   | Q(ends_on__gte=F("starts_on"))),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if _english() else self.name_ko

    @property
    def body(self) -> str:
        return self.body_en if _english() else self.body_ko


class ProposalState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    REVISION = "revision", _("Revision asked for")
    SELECTED = "selected", _("Selected")
    NOT_SELECTED = "not_selected", _("Not selected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Proposal(models.Model):
    """A proposal to a call, in one round. A short-term proposal is one LoanRequest (its fields, its
    checklist and its offer flow stay there); a national proposal names its ministry, and, once
    selected, the project it became."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="proposals")
    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="proposals")
    loan_request = models.OneToOneField(LoanRequest, verbose_name=_("short-term request"), on_delete=models.CASCADE,
                                        null=True, blank=True, related_name="proposal")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="proposals")
    ministry = models.ForeignKey(Ministry, verbose_name=_("ministry"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="proposals")
    project = models.OneToOneField(Project, verbose_name=_("project"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="proposal")
    title = models.CharField(_("title"), max_length=200)
    # A national proposal: its English title, field, summary and planned start, which its project takes.
    title_en = models.CharField(_("title (English)"), max_length=250, blank=True)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    starts_on = models.DateField(_("planned start"), null=True, blank=True)
    gpu_model = models.CharField(_("GPU model"), max_length=10, choices=GpuModel.choices)
    gpu_count = models.PositiveIntegerField(_("GPUs"))
    months = models.PositiveSmallIntegerField(_("months"))
    state = models.CharField(_("state"), max_length=20, choices=ProposalState.choices,
                             default=ProposalState.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"))
    # The decision: the panel's rank and reason (a committee decision), or what to revise.
    rank = models.PositiveSmallIntegerField(_("panel's rank"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    revision_note = models.TextField(_("what to revise"), blank=True)
    decided_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The last stage of the call's selection the proposal reached (it passed those before it), and
    # the GPUs the decision awarded (the project's award may shrink later, by reclamation).
    stage_reached = models.ForeignKey(Stage, verbose_name=_("last stage reached"), on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="proposals")
    award_gpus = models.PositiveIntegerField(_("GPUs awarded"), null=True, blank=True)
    is_sample = models.BooleanField(_("sample data"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["round", "submitted_at"]
        constraints = [
            models.CheckConstraint(name="proposal_size", condition=Q(gpu_count__gte=1, months__gte=1)),
            models.CheckConstraint(name="proposal_award_only_selected",
                                   condition=Q(award_gpus__isnull=True) | Q(state="selected")),
        ]
        indexes = [models.Index(fields=["call", "state"], name="proposal_call_state_idx")]

    def __str__(self):
        return self.title

    @property
    def gpu_months(self) -> int:
        return self.gpu_count * self.months


class Conflict(models.Model):
    """A reviewer's declared relationship with an organisation (advice, a joint project, family...):
    they are never assigned its proposals. Their own organisation is a conflict without a declaration."""

    reviewer = models.ForeignKey("allocation_portal.User", verbose_name=_("reviewer"), on_delete=models.CASCADE,
                                 related_name="conflicts")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
                                     related_name="+")
    relationship = models.CharField(_("relationship"), max_length=300)
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        ordering = ["reviewer", "organisation"]
        constraints = [models.UniqueConstraint(fields=["reviewer", "organisation"], name="conflict_once")]

    def __str__(self):
        return f"{self.reviewer} · {self.organisation}"


class Assignment(models.Model):
    """A reviewer assigned to a proposal, with a deadline; their review is its scores."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    proposal = models.ForeignKey(Proposal, verbose_name=_("proposal"), on_delete=models.CASCADE,
                                 related_name="assignments")
    reviewer = models.ForeignKey("allocation_portal.User", verbose_name=_("reviewer"), on_delete=models.PROTECT,
                                 related_name="review_assignments")
    assigned_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    due_on = models.DateField(_("review due"))
    reminded_on = models.DateField(_("last reminded"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("review submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review assignment")
        verbose_name_plural = _("review assignments")
        ordering = ["due_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["proposal", "reviewer"], name="assignment_once")]
        indexes = [models.Index(fields=["reviewer", "submitted_at"], name="assignment_reviewer_idx")]

    def __str__(self):
        return f"{self.reviewer} · {self.proposal}"


class Score(models.Model):
    """One criterion of one review: a rubric level and the reviewer's comment."""

    assignment = models.ForeignKey(Assignment, verbose_name=_("review"), on_delete=models.CASCADE,
                                   related_name="scores")
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"))

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["assignment", "criterion__position"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "criterion"], name="score_once"),
            models.CheckConstraint(name="score_range", condition=Q(score__gte=0, score__lte=100)),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.score}"
