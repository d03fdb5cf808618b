"""Which reports a user may see. Every view and endpoint fetches reports through here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from projects.access import projects_for_user

from .models import UsageReport


def reports_for_user(user):
    if not user.is_authenticated:
        return UsageReport.objects.none()
    if user.reads_everything:
        return UsageReport.objects.all()
    if user.is_official:
        return UsageReport.objects.filter(project__in=projects_for_user(user))
    return UsageReport.objects.none()


def get_report_for_user(user, public_id) -> UsageReport:
    try:
        return reports_for_user(user).select_related("project__ministry").get(public_id=public_id)
    except (UsageReport.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such report.") from None


def cases_for_user(user):
    from .models import ReclamationCase

    if not user.is_authenticated:
        return ReclamationCase.objects.none()
    if user.reads_everything:
        return ReclamationCase.objects.all()
    if user.is_official:
        return ReclamationCase.objects.filter(project__in=projects_for_user(user))
    return ReclamationCase.objects.none()


def get_case_for_user(user, public_id):
    from .models import ReclamationCase

    try:
        return cases_for_user(user).select_related("project__ministry", "policy").get(public_id=public_id)
    except (ReclamationCase.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such case.") from None
