"""Which reports and cases a user may see, and whether they may act on them. Every view and
endpoint fetches through here; the rule is the project's (projects.access.can_change_project)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from projects.access import can_change_project, projects_for_user

from .models import ReclamationCase, UsageReport


def reports_for_user(user):
    if not user.is_authenticated:
        return UsageReport.objects.none()
    if user.reads_everything:
        return UsageReport.objects.all()
    if user.is_official:
        return UsageReport.objects.filter(project__in=projects_for_user(user))
    return UsageReport.objects.none()


def get_report_for_user(user, public_id) -> tuple[UsageReport, bool]:
    """(the report, whether the user may act for its project); 404 outside the user's scope."""
    try:
        report = reports_for_user(user).select_related("project__ministry").get(public_id=public_id)
    except (UsageReport.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such report.") from None
    return report, can_change_project(user, report.project)


def cases_for_user(user):
    if not user.is_authenticated:
        return ReclamationCase.objects.none()
    if user.reads_everything:
        return ReclamationCase.objects.all()
    if user.is_official:
        return ReclamationCase.objects.filter(project__in=projects_for_user(user))
    return ReclamationCase.objects.none()


def get_case_for_user(user, public_id) -> tuple[ReclamationCase, bool]:
    """(the case, whether the user may act on it); 404 outside the user's scope."""
    try:
        case = cases_for_user(user).select_related("project__ministry", "policy").get(public_id=public_id)
    except (ReclamationCase.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such case.") from None
    return case, can_change_project(user, case.project)
