"""Plan vs actual (계획 대비 실적): allocated GPU-hours from the ledger, planned from the usage plan,
used from the monthly reports. Every function runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.kept import kept
from gpus.selectors import held_by_month, held_hours_to
from metering.selectors import Measured, measured_by_month
from projects.models import Ministry, Project, UsagePlan

from .models import ReportState, UsageReport, UsageReportVersion

# What report_status can say of a month, and the flags of month_board, with their labels.
STATUS_LABELS = {
    "accepted": gettext_lazy("Accepted"),
    "submitted": gettext_lazy("Submitted"),
    "late": gettext_lazy("Submitted late"),
    "returned": gettext_lazy("Returned"),
    "draft": gettext_lazy("Draft"),
    "missing": gettext_lazy("Missing (overdue)"),
    "not_due": gettext_lazy("Not due yet"),
    "not_started": gettext_lazy("Not started"),
}
# What happened in each kept version of a report (UsageReportVersion.event).
VERSION_EVENT_LABELS = {
    "created": gettext_lazy("Created"),
    "edited": gettext_lazy("Changed"),
    "submitted": gettext_lazy("Submitted"),
    "corrected": gettext_lazy("Correction submitted"),
    "accepted": gettext_lazy("Accepted"),
    "returned": gettext_lazy("Returned"),
}
FLAG_LABELS = {
    "missing": gettext_lazy("Missing"),
    "late": gettext_lazy("Late"),
    "under_plan": gettext_lazy("Under plan"),
    "off_purpose": gettext_lazy("Off-purpose declared"),
    "differs_from_measured": gettext_lazy("Differs from measured use"),
}


def differs_from_measured(reported: Decimal | None, measured: Decimal | None, policy) -> bool:
    """A report further from the measured use than the policy allows (measured zero: any use)."""
    if reported is None or measured is None:
        return False
    if measured == 0:
        return reported > 0
    return abs(reported - measured) > measured * policy.measured_difference_above


def ratio(part, whole) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


@dataclass
class Figures:
    """Allocated, planned and used GPU-hours, with utilisation (used / allocated) and plan
    attainment (used / planned)."""

    allocated: Decimal = Decimal(0)
    planned: Decimal = Decimal(0)
    used: Decimal = Decimal(0)

    @property
    def utilisation(self):
        return ratio(self.used, self.allocated)

    @property
    def plan_ratio(self):
        return ratio(self.used, self.planned)

    def add(self, other: Figures) -> None:
        self.allocated += other.allocated
        self.planned += other.planned
        self.used += other.used


@dataclass
class MonthRow:
    month: dt.date
    monthly: Figures
    cumulative: Figures
    report: UsageReport | None = None
    status: str = ""
    measured: Measured | None = None  # what the providers measured (metering), when anything was received

    @property
    def measured_figure(self) -> tuple[Decimal | None, str]:
        """(GPU-hours, source) comparable with the report, or (None, "") when data is incomplete."""
        return self.measured.measured(self.monthly.allocated) if self.measured else (None, "")

    @property
    def busy_coverage(self) -> Decimal | None:
        return self.measured.coverage(self.monthly.allocated) if self.measured else None

    @property
    def counted(self) -> bool:
        return self.report is not None and self.report.counts


def report_status(report: UsageReport | None, month: dt.date, today: dt.date, project: Project,
                  due_day: int | None = None) -> str:
    """accepted, submitted, late (submitted after the due date), returned, draft, missing (due date
    passed, nothing submitted), not_due, or not_started."""
    if project.actual_start is None or month < months.first_day(project.actual_start):
        return "not_started"
    due = months.due_date(month, due_day)
    if report is not None and report.state in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        if timezone.localtime(report.submitted_at).date() > due:
            return "late"
        return report.state
    if report is not None and report.state == ReportState.RETURNED:
        return "returned"
    if today > due:
        return "missing"
    return report.state if report is not None else "not_due"


def _series(project, plans, reports, held, first, last, today, due_day) -> list[MonthRow]:
    rows = []
    cumulative = Figures()
    for month in months.months_between(first, last):
        report = reports.get((project.pk, month))
        used = report.gpu_hours_used if report is not None and report.counts else Decimal(0)
        monthly = Figures(
            allocated=held.get((project.pk, month), (Decimal(0), 0))[0],
            planned=plans.get((project.pk, month), Decimal(0)),
            used=used,
        )
        cumulative.add(monthly)
        rows.append(
            MonthRow(
                month=month,
                monthly=monthly,
                cumulative=Figures(cumulative.allocated, cumulative.planned, cumulative.used),
                report=report,
                status=report_status(report, month, today, project, due_day),
            )
        )
    return rows


def project_usage(project: Project, until: dt.date | None = None, since: dt.date | None = None) -> list[MonthRow]:
    """The project's months from its first planned month (or start), or from `since`, to `until`
    (default: this month); cumulative figures count from the first month shown."""
    today = timezone.localdate()
    until = months.first_day(until or today)
    plans = {(project.pk, p.month): p.planned_gpu_hours for p in UsagePlan.objects.filter(project=project)}
    starts = [m for (_pid, m) in plans] + [months.first_day(d) for d in (project.actual_start, project.planned_start) if d]
    first = max(min(starts), months.first_day(since)) if since else min(starts)
    last = min(until, months.first_day(project.end_date))
    if last < first:
        return []
    reports = {
        (r.project_id, r.month): r
        for r in UsageReport.objects.filter(project=project, month__lte=last).select_related("submitted_by")
    }
    held = held_by_month([project.pk], first, last, with_gpus=False)
    due_day = programme_policy.current().report_due_day
    rows = _series(project, plans, reports, held, first, last, today, due_day)
    measured = measured_by_month([project.pk], first, last)
    for row in rows:
        row.measured = measured.get((project.pk, row.month))
    return rows


@dataclass
class ReportMonth:
    month: dt.date
    report: UsageReport | None
    status: str

    @property
    def outstanding(self) -> bool:
        """Nothing counted for the month yet: no report, a draft, or a returned report."""
        return self.status in ("missing", "not_due", "draft", "returned")


def report_months(project: Project, *, today: dt.date | None = None) -> list[ReportMonth]:
    """Every month the project may report (from its start to this month), newest first, with its
    report and status. One query for the reports."""
    return report_months_of([project], today=today)[project.pk]


def report_months_of(projects, *, today: dt.date | None = None) -> dict[int, list[ReportMonth]]:
    """report_months of each of `projects` (a project not started has none), by project id. One
    query for all their reports."""
    today = today or timezone.localdate()
    found: dict[int, list[ReportMonth]] = {p.pk: [] for p in projects}
    started = [p for p in projects if p.actual_start is not None]
    if not started:
        return found
    lasts = {p.pk: min(months.first_day(today), months.first_day(p.end_date)) for p in started}
    reports = {
        (r.project_id, r.month): r
        for r in UsageReport.objects.filter(project__in=[p.pk for p in started], month__lte=months.first_day(today))
    }
    due_day = programme_policy.current().report_due_day
    for p in started:
        for m in reversed(list(months.months_between(p.actual_start, lasts[p.pk]))):
            report = reports.get((p.pk, m))
            found[p.pk].append(ReportMonth(month=m, report=report, status=report_status(report, m, today, p, due_day)))
    return found


def months_to_report(projects, *, today: dt.date | None = None) -> list[tuple[Project, dt.date]]:
    """The finished months that each of `projects` can still report (nothing yet, a draft or a
    returned report), by project and oldest first: what the upload template lists."""
    current = months.first_day(today or timezone.localdate())
    projects = list(projects)
    by_project = report_months_of(projects, today=today)
    return [(p, row.month) for p in projects for row in reversed(by_project[p.pk])
            if row.month < current and row.outstanding]


def due_report_month(rows: list[ReportMonth], *, today: dt.date | None = None) -> ReportMonth | None:
    """The month an official should report now: the oldest finished month with nothing counted
    yet (overdue first, then last month's, due on the 5th); None when every finished month is in."""
    current = months.first_day(today or timezone.localdate())
    finished = [r for r in rows if r.month < current and r.outstanding]
    return min(finished, key=lambda r: r.month) if finished else None


@dataclass
class BoardRow:
    project: Project
    month: MonthRow
    flags: list[str] = field(default_factory=list)


@dataclass
class Board:
    month: dt.date
    rows: list[BoardRow]
    totals: Figures
    cumulative: Figures
    counts: dict[str, int]


def month_board(projects, month: dt.date, *, today: dt.date | None = None, now: dt.datetime | None = None) -> Board:
    """Every project of `projects` for one month: report status, plan vs actual for the month and
    cumulative to it, and flags (under plan, off-purpose declared). Six queries, each an
    aggregate per project, so the cost does not grow with the months behind it. Allocated hours
    of the month under way count to `now`."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    month = months.first_day(month)
    projects = list(
        projects.select_related("ministry")
        .only("code", "title_ko", "title_en", "is_sample", "actual_start", "gpus_awarded", "status", "planned_start",
              "end_date", "ministry__code", "ministry__name_ko", "ministry__name_en", "ministry__is_sample")
        .order_by("code")
    )
    ids = [p.pk for p in projects]
    counting = [ReportState.SUBMITTED, ReportState.ACCEPTED]
    planned = {
        row["project_id"]: (row["cumulative"] or Decimal(0), row["this_month"] or Decimal(0))
        for row in UsagePlan.objects.filter(project_id__in=ids, month__lte=month)
        .values("project_id")
        .annotate(cumulative=Sum("planned_gpu_hours"), this_month=Sum("planned_gpu_hours", filter=Q(month=month)))
        .order_by()
    }
    used = {
        row["project_id"]: row["cumulative"] or Decimal(0)
        for row in UsageReport.objects.filter(project_id__in=ids, month__lte=month, state__in=counting)
        .values("project_id")
        .annotate(cumulative=Sum("gpu_hours_used"))
        .order_by()
    }
    reports = {
        r.project_id: r
        for r in UsageReport.objects.filter(project_id__in=ids, month=month).only(
            "public_id", "project_id", "month", "state", "gpu_hours_used", "within_purpose", "submitted_at"
        )
    }
    held = held_hours_to(ids, month, now)
    measured = measured_by_month(ids, month, month)
    policy = programme_policy.current()
    rows, totals, cumulative = [], Figures(), Figures()
    counts: dict[str, int] = {}
    for project in projects:
        report = reports.get(project.pk)
        cum_planned, month_planned = planned.get(project.pk, (Decimal(0), Decimal(0)))
        cum_held, month_held = held.get(project.pk, (Decimal(0), Decimal(0)))
        month_used = report.gpu_hours_used if report is not None and report.counts else Decimal(0)
        row = MonthRow(
            month=month,
            monthly=Figures(allocated=month_held, planned=month_planned, used=month_used),
            cumulative=Figures(allocated=cum_held, planned=cum_planned, used=used.get(project.pk, Decimal(0))),
            report=report,
            status=report_status(report, month, today, project, policy.report_due_day),
            measured=measured.get((project.pk, month)),
        )
        flags = []
        if row.status in ("missing", "late"):
            flags.append(row.status)
        started = project.actual_start is not None and months.first_day(project.actual_start) <= month
        if started and row.cumulative.planned and row.cumulative.plan_ratio is not None and (
            row.cumulative.plan_ratio < policy.under_plan_below
        ):
            flags.append("under_plan")
        if report is not None and report.within_purpose is False and report.counts:
            flags.append("off_purpose")
        if row.counted and differs_from_measured(month_used, row.measured_figure[0], policy):
            flags.append("differs_from_measured")
        rows.append(BoardRow(project=project, month=row, flags=flags))
        totals.add(row.monthly)
        cumulative.add(row.cumulative)
        counts[row.status] = counts.get(row.status, 0) + 1
    return Board(month=month, rows=rows, totals=totals, cumulative=cumulative, counts=counts)


# How long the programme's board is kept: an ended month's figures change only with a write (the
# change number) or a new day (a report falls due: today is in the name); a month under way's
# allocated hours also grow with the clock, so its board is kept within ten minutes of the clock
# (their start is in the name, so what is drawn from the board is never older) and shown "as of".
BOARD_DAY_SECONDS = 24 * 3600
BOARD_NOW_SECONDS = 600


def board_kept(month: dt.date, now: dt.datetime) -> tuple[str, int, bool]:
    """Which programme board a kept value is of: (name, seconds to keep it, whether the month has
    ended). The name holds the month, today (KST), the policy version and, for a month under way
    or ahead, the ten minutes of the clock it was computed in."""
    today = timezone.localdate(now)
    ended = months.first_day(month) < months.first_day(today)
    name = f"{month:%Y-%m}:{today:%Y-%m-%d}:policy-{programme_policy.current().version}"
    if not ended:
        name += f":at-{int(now.timestamp()) // BOARD_NOW_SECONDS}"
    return name, BOARD_DAY_SECONDS if ended else BOARD_NOW_SECONDS, ended


def programme_board(month: dt.date, *, now: dt.datetime | None = None) -> tuple[Board, dt.datetime | None]:
    """month_board of every project, kept (allocation_portal.kept): (board, as of), where as of is
    None for an ended month (its board is what a fresh one would show) and the moment the board
    was computed for the month under way or one ahead. One query when kept (the change number),
    besides the policy's."""
    now = now or timezone.now()
    month = months.first_day(month)
    name, seconds, ended = board_kept(month, now)
    board, as_of = kept(f"board:{name}", lambda: month_board(Project.objects.all(), month, now=now),
                        seconds=seconds, now=now)
    return board, None if ended else as_of


def board_by_ministry(rows: list[BoardRow]) -> list[tuple[Ministry, Figures]]:
    """The board's rows summed per ministry (cumulative to the month), in the ministries' order."""
    sums: dict[int, tuple[Ministry, Figures]] = {}
    for row in rows:
        ministry = row.project.ministry
        sums.setdefault(ministry.pk, (ministry, Figures()))[1].add(row.month.cumulative)
    return sorted(sums.values(), key=lambda item: item[0].code)


def capacity_months(month: dt.date, *, first: dt.date | None = None, ahead: int = 3, most: int = 15) -> list[dt.datetime]:
    """The month starts (KST) the board's capacity chart shows: from the programme's first month
    (or `most` months back) to `ahead` months after `month`."""
    last = months.add_months(month, ahead)
    start = max(months.first_day(first or months.add_months(last, -(most - 1))), months.add_months(last, -(most - 1)))
    return [months.start_of(m) for m in months.months_between(start, last)]


def report_with_versions(report: UsageReport) -> UsageReport:
    return (
        UsageReport.objects.select_related("project__ministry", "submitted_by", "decided_by")
        .prefetch_related(
            Prefetch("versions", queryset=UsageReportVersion.objects.select_related("actor").order_by("-version", "-id"))
        )
        .get(pk=report.pk)
    )
