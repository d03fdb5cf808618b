import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from .labels import action_label, object_type_label
from .messages import render


class Role(models.TextChoices):
    ADMIN = "msit_admin", _("MSIT admin")
    OFFICIAL = "official", _("Ministry official")
    APPLICANT = "applicant", _("Applicant")
    AUDITOR = "auditor", _("Auditor")
    PROVIDER = "provider_operator", _("Provider operator")
    # An external expert: sees only the proposals assigned to them (calls); their organisation, when
    # set, is their affiliation (a conflict of interest with that organisation's proposals).
    REVIEWER = "reviewer", _("Expert reviewer")


class Compliance(models.TextChoices):
    """An answer to a compliance checklist item (reports and short-term requests)."""

    YES = "yes", _("Yes, complied")
    NO = "no", _("No")
    NOT_APPLICABLE = "na", _("Not applicable")


class User(AbstractUser):
    """A portal user. The role decides what they may see; officials are bound to one ministry and
    applicants to one organisation, and the database refuses a role without its binding."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # 개인정보 수집·이용 동의: when this person agreed, and to which version of the privacy notice.
    privacy_consent_at = models.DateTimeField(_("privacy consent given"), null=True, blank=True)
    privacy_notice_version = models.CharField(_("privacy notice version"), max_length=20, blank=True)
    # When the second factor was last enrolled or reset: part of the session hash, so either signs the
    # account out everywhere else (allocation_portal.second_factor), as a password change does.
    second_factor_changed_at = models.DateTimeField(_("second factor changed"), null=True, blank=True, editable=False)
    ministry = models.ForeignKey(
        "projects.Ministry",
        verbose_name=_("ministry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
    )
    organisation = models.ForeignKey(
        "lending.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    provider = models.ForeignKey(
        "gpus.Provider",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operators",
    )
    # An applicant organisation's managing member (its first member, and whom they name): invites,
    # deactivates and reactivates the organisation's members (allocation_portal.people).
    manages_members = models.BooleanField(
        _("manages the organisation's members"), default=False,
        help_text=_("Invites the organisation's colleagues and deactivates them (applicants only)."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_official_has_ministry",
                condition=~Q(role="official") | Q(ministry__isnull=False),
            ),
            models.CheckConstraint(
                name="user_provider_operator_has_provider",
                condition=~Q(role="provider_operator") | Q(provider__isnull=False),
            ),
            models.CheckConstraint(
                name="user_applicant_has_organisation",
                condition=~Q(role="applicant") | Q(organisation__isnull=False) | Q(is_superuser=True),
            ),
            models.CheckConstraint(
                name="user_manages_members_is_applicant",
                condition=Q(manages_members=False) | Q(role="applicant"),
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

    def _get_session_auth_hash(self, secret=None):
        """Django's HMAC of the password hash, with the second factor's last change mixed in: sessions
        opened before an enrolment or a reset no longer verify. Unchanged for accounts that never
        enrolled, so their sessions survive the upgrade."""
        if self.second_factor_changed_at is None:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "allocation_portal.User.session_auth_hash",
            f"{self.password}|{self.second_factor_changed_at.isoformat()}",
            secret=secret, algorithm="sha256",
        ).hexdigest()

    @property
    def needs_second_factor(self) -> bool:
        """MSIT admins and provider operators must sign in with a second factor."""
        return self.is_msit_admin or self.is_provider_operator

    @property
    def is_msit_admin(self) -> bool:
        return self.is_active and (self.role == Role.ADMIN or self.is_superuser)

    @property
    def is_official(self) -> bool:
        return self.is_active and self.role == Role.OFFICIAL and self.ministry_id is not None

    @property
    def is_applicant(self) -> bool:
        return self.is_active and self.role == Role.APPLICANT and self.organisation_id is not None

    @property
    def is_auditor(self) -> bool:
        return self.is_active and self.role == Role.AUDITOR

    @property
    def is_provider_operator(self) -> bool:
        """A provider's operator: sees that provider's servers and what they measured, sends usage."""
        return self.is_active and self.role == Role.PROVIDER and self.provider_id is not None

    @property
    def is_reviewer(self) -> bool:
        return self.is_active and self.role == Role.REVIEWER

    @property
    def sees_programme(self) -> bool:
        """Everyone but a provider's operator, who sees only the provider's servers and their use."""
        return self.reads_everything or self.is_official or self.is_applicant

    @property
    def reads_everything(self) -> bool:
        """MSIT admins and auditors see the whole programme; auditors change nothing."""
        return self.is_msit_admin or self.is_auditor

    @property
    def sees_people(self) -> bool:
        """The People area (allocation_portal.people): MSIT admins and auditors see everyone,
        officials their ministry's officials, applicants their organisation's members."""
        return self.reads_everything or self.is_official or self.is_applicant

    @property
    def manages_organisation_members(self) -> bool:
        return self.is_applicant and self.manages_members


class Invitation(models.Model):
    """An e-mailed link that lets an invited person set their password, which activates their
    account (made, inactive, with the role and scope below, when they were invited). Only the
    SHA-256 of the link's token is kept. A new invitation for the same person replaces the open one
    (`replaced_at`); at most one is open per person."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    ministry = models.ForeignKey("projects.Ministry", verbose_name=_("ministry"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    organisation = models.ForeignKey("lending.Organisation", verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    provider = models.ForeignKey("gpus.Provider", verbose_name=_("provider"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    invited_by = models.ForeignKey(User, verbose_name=_("invited by"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("invited"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    replaced_at = models.DateTimeField(_("replaced or withdrawn"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    # Not stored: whether this request's e-mail of the link went (None before the commit sent it).
    email_sent: bool | None = None

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(used_at__isnull=True, replaced_at__isnull=True),
                                    name="invitation_one_open_per_user"),
            models.CheckConstraint(name="invitation_expires_after_created", condition=Q(expires_at__gt=F("created_at"))),
        ]

    def __str__(self):
        return self.email


class PortalSession(AbstractBaseSession):
    """A login session (Django's database sessions) that knows whose it is, so deactivating a
    person ends all their sessions at once (allocation_portal.sessions keeps `user` up to date)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta(AbstractBaseSession.Meta):
        db_table = "portal_session"

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Who did what to which object, with the state before and after, and why.

    Append-only: the model refuses updates and deletes, and a database trigger (migration 0002)
    refuses them for any client that bypasses the ORM."""

    id = models.BigAutoField(primary_key=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    # A reason the portal wrote itself, as a message code with parameters (allocation_portal.messages);
    # `reason` holds its Korean rendering, or what a person typed.
    reason_msg = models.JSONField(_("reason (message)"), null=True, blank=True)
    # The object's name in both languages at the time ({"ko": ..., "en": ...}); `object_repr` holds the Korean.
    object_repr_i18n = models.JSONField(_("object (both languages)"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def reason_text(self) -> str:
        return render(self.reason_msg) if self.reason_msg else self.reason

    @property
    def object_repr_text(self) -> str:
        names = self.object_repr_i18n or {}
        language = "en" if (get_language() or "ko").startswith("en") else "ko"
        return names.get(language) or self.object_repr

    @property
    def action_text(self) -> str:
        return action_label(self.action)

    @property
    def object_type_text(self) -> str:
        return object_type_label(self.object_type)

    @property
    def actor_role_text(self) -> str:
        if self.actor_role in Role.values:
            return str(Role(self.actor_role).label)
        return gettext("system") if self.actor_role in ("", "system") else self.actor_role


# --- Notifications ---------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    REPORT_DUE_SOON = "report_due_soon", _("Report due in 3 days")
    REPORT_DUE_TODAY = "report_due_today", _("Report due today")
    REPORT_OVERDUE = "report_overdue", _("Report overdue")
    REPORT_RETURNED = "report_returned", _("Report returned")
    CASE_OPENED = "case_opened", _("Reclamation case opened")
    CASE_RESPONDED = "case_responded", _("Case response")
    CASE_DECIDED = "case_decided", _("Case decided")
    CASE_UPDATED = "case_updated", _("Case evidence updated")
    PROJECT_DELAYED = "project_delayed", _("Project start delayed")
    PROPOSALS_READY = "proposals_ready", _("Redistribution proposals")
    REQUEST_DECIDED = "request_decided", _("Request decided")
    REQUEST_CHANGES = "request_changes", _("Changes requested")
    LOAN_STARTED = "loan_started", _("Loan started")
    LOAN_ENDING = "loan_ending", _("Loan ending soon")
    LOAN_ENDED = "loan_ended", _("Loan ended")
    REVIEW_ASSIGNED = "review_assigned", _("Proposal to review")
    REVIEW_DUE = "review_due", _("Review due")
    LOAN_RECALLED = "loan_recalled", _("Loan recalled")
    LOAN_RENEWAL = "loan_renewal", _("Renewal")
    GENERAL = "general", _("Notice")


class Notification(models.Model):
    """An in-portal notice to one user, also e-mailed once. Every app notifies, so notices live in
    the core (the table keeps the name it had in the monitoring app). `dedup_key` makes a scheduled notice
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
    # The title and message as message codes with parameters (allocation_portal.messages), rendered
    # in the reader's language; `title` and `body` hold their Korean rendering.
    title_msg = models.JSONField(_("title (message)"), null=True, blank=True)
    body_msg = models.JSONField(_("message (message)"), null=True, blank=True)

    class Meta:
        db_table = "monitoring_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedup_key"], name="notification_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.title

    @property
    def title_text(self) -> str:
        return render(self.title_msg) if self.title_msg else self.title

    @property
    def body_text(self) -> str:
        return render(self.body_msg) if self.body_msg else self.body


# --- Programme policy ---------------------------------------------------------------------------


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down to whole servers")
    NEAREST = "nearest", _("Round to the nearest whole server")


class CheckBasis(models.TextChoices):
    """Which GPU-hours the monthly check counts as a project's use."""

    REPORTED = "reported", _("What the ministry reported")
    MEASURED = "measured", _("What was measured, where the data is complete (else reported)")
    LOWER = "lower", _("The lower of reported and measured")


class Policy(models.Model):
    """The programme's numbers (DOMAIN.md's defaults). Never edited in place: each change is a new
    version, audited with its reason, and each reclamation case records the version it was judged
    by. The table keeps the name it had when it held only the reclamation thresholds."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    # The monthly check (reclamation).
    grace_days = models.PositiveSmallIntegerField(
        _("grace days after the actual start"), default=60,
        help_text=_("No month is checked that ends before this many days after the project's actual start."),
    )
    tier1_below = models.DecimalField(_("tier 1: cumulative use of plan below"), max_digits=4, decimal_places=3, default=Decimal("0.30"))
    tier1_share = models.DecimalField(_("tier 1: share of the unused servers reclaimed"), max_digits=4, decimal_places=3, default=Decimal("0.50"))
    tier2_below = models.DecimalField(_("tier 2: cumulative use of plan below"), max_digits=4, decimal_places=3, default=Decimal("0.60"))
    tier2_share = models.DecimalField(_("tier 2: share of the unused servers reclaimed"), max_digits=4, decimal_places=3, default=Decimal("0.25"))
    response_days = models.PositiveSmallIntegerField(_("days to respond"), default=7)
    rounding = models.CharField(_("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.DOWN)
    floor_servers = models.PositiveSmallIntegerField(_("servers a project always keeps"), default=1)
    # Monthly reporting.
    report_due_day = models.PositiveSmallIntegerField(_("reports due on this day of the next month"), default=5)
    under_plan_below = models.DecimalField(
        _("flag as under plan below this share of the cumulative plan"), max_digits=4, decimal_places=3, default=Decimal("0.60")
    )
    # Starts.
    delay_flag_days = models.PositiveSmallIntegerField(_("flag a project not started this many days after its planned start"), default=30)
    start_backdate_days = models.PositiveSmallIntegerField(_("a start can be recorded up to this many days back"), default=14)
    # Short-term loans.
    loan_max_months = models.PositiveSmallIntegerField(_("longest loan (months)"), default=3)
    loan_renewals = models.PositiveSmallIntegerField(_("renewals per loan"), default=1)
    recall_notice_hours = models.PositiveSmallIntegerField(_("recall notice (hours)"), default=72)
    check_basis = models.CharField(_("use counted by the monthly check"), max_length=10, choices=CheckBasis.choices,
                                   default=CheckBasis.REPORTED)
    measured_difference_above = models.DecimalField(
        _("flag a report that differs from measured use by more than"), max_digits=4, decimal_places=3,
        default=Decimal("0.10"),
    )
    offer_lapse_hours = models.PositiveSmallIntegerField(
        _("an unanswered loan offer lapses after (hours)"), default=48,
        help_text=_("The GPUs of an offer the applicant has not accepted by then go back to the pool."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("allocation_portal.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        db_table = "monitoring_reclamationpolicy"
        verbose_name = _("programme policy")
        verbose_name_plural = _("programme policies")
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(name="policy_tiers_ordered", condition=Q(tier1_below__lte=F("tier2_below"))),
            models.CheckConstraint(name="policy_tier1_range", condition=Q(tier1_below__gte=0, tier1_below__lte=1, tier1_share__gte=0, tier1_share__lte=1)),
            models.CheckConstraint(name="policy_tier2_range", condition=Q(tier2_below__gte=0, tier2_below__lte=1, tier2_share__gte=0, tier2_share__lte=1)),
            models.CheckConstraint(name="policy_response_days", condition=Q(response_days__gte=1)),
            models.CheckConstraint(name="policy_due_day", condition=Q(report_due_day__gte=1, report_due_day__lte=28)),
            models.CheckConstraint(name="policy_under_plan_range", condition=Q(under_plan_below__gte=0, under_plan_below__lte=1)),
            models.CheckConstraint(name="policy_loan_months", condition=Q(loan_max_months__gte=1, loan_max_months__lte=12)),
            models.CheckConstraint(name="policy_measured_difference_range",
                                   condition=Q(measured_difference_above__gte=0, measured_difference_above__lte=1)),
        ]

    def __str__(self):
        return f"v{self.version}"
