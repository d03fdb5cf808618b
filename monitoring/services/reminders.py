"""The daily reminders of reports that are due or overdue."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.messages import both, msg
from allocation_portal.models import Role, User
from allocation_portal.notifications import msit_admins, notify
from projects.models import Project

from ..models import (
    NotificationKind,
    ReportState,
    UsageReport,
)

logger = logging.getLogger(__name__)


# --- Reminders -------------------------------------------------------------------------------


def _reminder_kind(today: dt.date, month: dt.date, due_day: int) -> tuple[str, int] | None:
    due = months.due_date(month, due_day)
    if today == due - dt.timedelta(days=3):
        return NotificationKind.REPORT_DUE_SOON, 0
    if today == due:
        return NotificationKind.REPORT_DUE_TODAY, 0
    if today > due and (today - due).days % 7 == 0:
        return NotificationKind.REPORT_OVERDUE, (today - due).days // 7
    return None


def report_reminders_send(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily reminder run: 3 days before the due date, on it, then weekly while overdue.

    Idempotent: each notice's dedup key names the project, month, kind and day, so running this
    again the same day creates and sends nothing new. From the second overdue week MSIT admins are
    told too (escalation)."""
    today = today or timezone.localdate()
    due_day = programme_policy.current().report_due_day
    last_month = months.add_months(months.first_day(today), -1)
    counts: dict[str, int] = dict.fromkeys(
        (NotificationKind.REPORT_DUE_SOON, NotificationKind.REPORT_DUE_TODAY, NotificationKind.REPORT_OVERDUE), 0)
    projects = list(
        Project.objects.filter(actual_start__isnull=False, actual_start__lte=today).select_related("ministry")
    )
    if not projects:
        return counts
    reported = set(
        UsageReport.objects.filter(
            project__in=projects, state__in=[ReportState.SUBMITTED, ReportState.ACCEPTED]
        ).values_list("project_id", "month")
    )
    officials: dict[int, list[User]] = {}
    for user in User.objects.filter(role=Role.OFFICIAL, is_active=True, ministry__isnull=False):
        if user.ministry_id is not None:
            officials.setdefault(user.ministry_id, []).append(user)
    admins = msit_admins()
    with transaction.atomic():
        for project in projects:
            if project.actual_start is None:
                continue
            last = min(last_month, months.first_day(project.end_date))
            for month in months.months_between(project.actual_start, last):
                if (project.pk, month) in reported:
                    continue
                found = _reminder_kind(today, month, due_day)
                if found is None:
                    continue
                kind, weeks = found
                recipients = list(officials.get(project.ministry_id, []))
                if kind == NotificationKind.REPORT_OVERDUE and weeks >= 2:
                    recipients += admins
                label = months.label(month)
                due = months.due_date(month, due_day)
                titles: dict[str, str] = {
                    NotificationKind.REPORT_DUE_SOON: gettext_noop("%(project)s: the %(month)s usage report is due on %(due)s"),
                    NotificationKind.REPORT_DUE_TODAY: gettext_noop("%(project)s: the %(month)s usage report is due today"),
                    NotificationKind.REPORT_OVERDUE: gettext_noop("%(project)s: the %(month)s usage report is overdue"),
                }
                created = notify(
                    users=recipients or admins,
                    kind=kind,
                    title=msg(titles[kind], project=project.code, month=label, due=due),
                    body=msg(gettext_noop("Monthly usage report for %(title)s, %(month)s. Due %(due)s (KST)."),
                             title=both(project.title_ko, project.title_en), month=label, due=due),
                    url=f"/projects/{project.code}/reports/new/?month={label}",
                    dedup_key=f"report:{project.code}:{label}:{kind}:{today.isoformat()}",
                )
                counts[kind] += len(created)
    return counts
