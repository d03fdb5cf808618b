"""What monitoring adds to pages of the floors below it, through the core's page hooks: a project's
plan vs actual on its page, and the month's status board of a ministry's projects on its page."""

from __future__ import annotations

from .board_views import board_context
from .charts import usage_chart
from .selectors import project_usage


def project_usage_context(*, request, project) -> dict:
    usage = project_usage(project)
    return {"usage": usage, "usage_chart": usage_chart(usage), "usage_measured": any(r.measured for r in usage)}


def ministry_board_context(*, request, ministry) -> dict:
    return board_context(request, ministry.projects.all())
