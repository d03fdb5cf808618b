import uuid

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "msit_admin", _("MSIT admin")
    OFFICIAL = "official", _("Ministry official")
    APPLICANT = "applicant", _("Applicant")
    AUDITOR = "auditor", _("Auditor")


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
    ministry = models.ForeignKey(
        "projects.Ministry",
        verbose_name=_("ministry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
    )
    organisation = models.ForeignKey(
        "gpus.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
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
                name="user_applicant_has_organisation",
                condition=~Q(role="applicant") | Q(organisation__isnull=False) | Q(is_superuser=True),
            ),
        ]

    def __str__(self):
        return self.display_name or self.username

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
    def reads_everything(self) -> bool:
        """MSIT admins and auditors see the whole programme; auditors change nothing."""
        return self.is_msit_admin or self.is_auditor


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
