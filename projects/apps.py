from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from allocation_portal.labels import register_actions

# How this app's audit actions read to people (allocation_portal.labels).
ACTION_LABELS = {
    "project.create": _("Project created with its award"),
    "project.start": _("Project start recorded"),
    "project.expected_start": _("Expected start changed"),
    "project.suspend": _("Project GPUs suspended"),
    "project.unsuspend": _("Suspension ended"),
    "project.reclaimed": _("Project servers reclaimed"),
    "project.increase": _("Project award increased"),
    "project.gpu_request": _("More GPUs requested"),
    "usage_plan.default": _("Default usage plan made"),
    "usage_plan.update": _("Usage plan changed"),
    "usage_plan.rebase": _("Usage plan moved with the start"),
}


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Ministries and projects")

    def ready(self):
        register_actions(ACTION_LABELS)

        from . import api_routes

        api_routes.register()
