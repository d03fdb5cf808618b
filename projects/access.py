"""Which ministries and projects a user may see. Every view and endpoint fetches through here."""

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


def get_project_for_user(user, code: str, *, for_update: bool = False) -> Project:
    qs = projects_for_user(user).select_related("ministry")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(code=code)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None


def get_ministry_for_user(user, code: str) -> Ministry:
    try:
        return ministries_for_user(user).get(code=code)
    except Ministry.DoesNotExist:
        raise Http404("No such ministry.") from None


def can_act_for_project(user, project: Project) -> bool:
    """Officials act for their own ministry's projects; MSIT admins for every project."""
    if user.is_msit_admin:
        return True
    return user.is_official and project.ministry_id == user.ministry_id
