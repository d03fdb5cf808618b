"""The programme's policy numbers: read the version in force, make a new version.

Reads never write: with no version saved yet (a database made before the first migration's data,
or emptied by a test) `current()` answers the defaults unsaved. A write that must point at a version
(a check run, a case) calls `for_write()`, which saves version 1, audited, if there is none."""

from __future__ import annotations

from contextvars import ContextVar
from decimal import Decimal, InvalidOperation

from django.core.signals import request_finished, request_started
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit
from .errors import NotPermitted, ValidationFailed
from .models import CheckBasis, Policy, Rounding

# Every number an MSIT admin edits, in the order the policy page shows them.
FIELDS = [
    "grace_days", "tier1_below", "tier1_share", "tier2_below", "tier2_share", "response_days", "rounding",
    "floor_servers", "report_due_day", "under_plan_below", "delay_flag_days", "start_backdate_days",
    "loan_max_months", "loan_renewals", "recall_notice_hours", "offer_lapse_hours", "check_basis",
    "measured_difference_above",
]
SHARES = ("tier1_below", "tier1_share", "tier2_below", "tier2_share", "under_plan_below", "measured_difference_above")
# Whole numbers with their bounds (inclusive).
COUNTS = {
    "grace_days": (0, 365), "response_days": (1, 90), "floor_servers": (0, 100), "report_due_day": (1, 28),
    "delay_flag_days": (1, 365), "start_backdate_days": (0, 90), "loan_max_months": (1, 12),
    "loan_renewals": (0, 5), "recall_notice_hours": (1, 720),
    "offer_lapse_hours": (1, 720),
}
DEFAULT_REASON = gettext_lazy("Programme defaults (DOMAIN.md).")


# Within one web request the policy is read once, however many pages' parts ask for it.
_request_cache: ContextVar[dict | None] = ContextVar("policy_request_cache", default=None)


def _open_request_cache(**_kwargs):
    _request_cache.set({})


def _close_request_cache(**_kwargs):
    _request_cache.set(None)


request_started.connect(_open_request_cache, dispatch_uid="policy-cache-open")
request_finished.connect(_close_request_cache, dispatch_uid="policy-cache-close")


def current() -> Policy:
    """The version in force (one query, once per web request). Unsaved defaults when none is saved."""
    cache = _request_cache.get()
    if cache is not None and "policy" in cache:
        return cache["policy"]
    policy = Policy.objects.order_by("-version").first() or Policy(version=0)
    if cache is not None:
        cache["policy"] = policy
    return policy


def for_write() -> Policy:
    """The version in force, saving version 1 (audited) if none exists. Call inside a write."""
    found = Policy.objects.order_by("-version").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            policy = Policy.objects.create(version=1, reason=str(DEFAULT_REASON))
            audit.record(actor=None, action="policy.create", obj=policy, after=audit.snapshot(policy, FIELDS),
                         reason=policy.reason)
    except IntegrityError:  # a concurrent write saved it first
        policy = Policy.objects.get(version=1)
    return policy


def _errors(values: dict, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the policy changes.")]
    for name in SHARES:
        try:
            value = Decimal(str(values.get(name)))
            ok = value.is_finite() and Decimal(0) <= value <= Decimal(1)
        except (InvalidOperation, ValueError):
            ok = False
        if not ok:
            errors[name] = [_("Give a share between 0 and 1 (for example 0.3 for 30%).")]
    if not errors.get("tier1_below") and not errors.get("tier2_below") and (
        Decimal(str(values["tier1_below"])) > Decimal(str(values["tier2_below"]))
    ):
        errors["tier1_below"] = [_("Tier 1 is the stricter tier: its threshold must not be above tier 2's.")]
    for name, (low, high) in COUNTS.items():
        count = values.get(name)
        if isinstance(count, bool) or not isinstance(count, int) or not (low <= count <= high):
            errors[name] = [_("A whole number from %(low)s to %(high)s.") % {"low": low, "high": high}]
    if values.get("rounding") not in Rounding.values:
        errors["rounding"] = [_("Choose how proposals are rounded.")]
    if values.get("check_basis") not in CheckBasis.values:
        errors["check_basis"] = [_("Choose which use the monthly check counts.")]
    return errors


def values_errors(values: dict) -> dict[str, list[str]]:
    """The errors of a full set of policy numbers, as the policy page checks them (without the
    reason a saved change needs): the what-if simulator checks its policy files with it."""
    errors = _errors(values, reason="-")
    errors.pop("reason", None)
    return errors


def policy_update(*, actor, values: dict, reason: str) -> Policy:
    """A new version of the numbers; the old ones stay with what was judged by them."""
    if actor is None or not actor.is_msit_admin:
        raise NotPermitted(_("Only an MSIT admin changes the policy."))
    errors = _errors(values, reason)
    if errors:
        raise ValidationFailed(_("The policy has errors."), fields=errors)
    with transaction.atomic():
        previous = Policy.objects.select_for_update().order_by("-version").first() or for_write()
        policy = Policy.objects.create(
            version=previous.version + 1, created_by=actor, reason=reason.strip(),
            **{name: values[name] for name in FIELDS},
        )
        audit.record(actor=actor, action="policy.update", obj=policy, before=audit.snapshot(previous, FIELDS),
                     after=audit.snapshot(policy, FIELDS), reason=reason)
    cache = _request_cache.get()
    if cache is not None:
        cache["policy"] = policy
    return policy
