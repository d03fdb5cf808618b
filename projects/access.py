"""Which ministries and projects a user may see, and whether they may act for them. Every view and
endpoint fetches through here, and services ask `can_change_project` for the same rule, so it is
written once: officials act for their own ministry's projects, MSIT admins for every project,
auditors read everything and change nothing, and outside a user's scope a project does not exist."""

from __future__ import annotations

from django.http import Http404

from .models import Ministry, Project


def ministries_for_user(user):
    if not user.is_authenticated:
        return Ministry.objects.none()
    if user.reads_everything:
        return Ministry.objects.all()
    if user.is_official:
        return Ministry.objects.filter(pk=user.ministry_id)
    return Ministry.objects.none()


def projects_for_user(user):
    if not user.is_authenticated:
        return Project.objects.none()
    if user.reads_everything:
        return Project.objects.all()
    if user.is_official:
        return Project.objects.filter(ministry_id=user.ministry_id)
    return Project.objects.none()


def can_change_project(user, project: Project) -> bool:
    """Officials act for their own ministry's projects; MSIT admins for every project."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_msit_admin:
        return True
    return bool(user.is_official and project.ministry_id == user.ministry_id)


def get_project_for_user(user, code: str) -> tuple[Project, bool]:
    """(the project, whether the user may act for it); 404 outside the user's scope."""
    try:
        project = projects_for_user(user).select_related("ministry", "pool").get(code=code)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    return project, can_change_project(user, project)


def get_ministry_for_user(user, code: str) -> Ministry:
    try:
        return ministries_for_user(user).get(code=code)
    except Ministry.DoesNotExist:
        raise Http404("No such ministry.") from None
