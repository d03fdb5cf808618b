"""The month's programme report for the ministers' meeting, as a PDF in Korean (issue 16 §3): the
headline figures, the outcome figures, utilisation against plan by ministry (a chart), the projects
flagged, the cases opened and decided, reclamations and redistributions, and loans by organisation
type and region. Everything comes from the selectors the pages use (the status board's, the outcome
figures'); WeasyPrint renders the HTML with the Korean font the image ships (Noto Sans CJK)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation

from allocation_portal import months
from allocation_portal import policy as programme_policy
from lending.models import OrganisationKind, Region
from monitoring import charts
from monitoring.models import CaseState, ProposalState, ReclamationCase, RedistributionProposal
from monitoring.selectors import board_by_ministry, month_board
from projects.models import Project

from . import store
from .figures import Outcomes, Period, RangeInvalid


@dataclass
class MonthReport:
    month: dt.date
    board: object
    outcomes: Outcomes | None
    period: Period | None
    ministry_chart: dict | None
    flagged: list
    opened: list
    decided: list
    reclaimed_servers: int
    redistributions: list
    made_at: dt.datetime


def month_report(month: dt.date) -> MonthReport:
    month = months.first_day(month)
    lo, hi = months.bounds(month)
    board = month_board(Project.objects.all(), month)
    policy = programme_policy.current()
    started = [r for r in board.rows if r.project.actual_start is not None and r.month.cumulative.planned]
    by_ministry = sorted(board_by_ministry(started), key=lambda item: (item[1].plan_ratio is None, item[1].plan_ratio or 0))
    try:
        outcomes = store.outcomes(last=min(month, months.current()))
    except RangeInvalid:  # a month before the programme's first
        outcomes = None
    period = next((p for p in outcomes.months if p.month == month), None) if outcomes else None
    cases = ReclamationCase.objects.select_related("project__ministry")
    decided = list(cases.filter(decided_at__gte=lo, decided_at__lt=hi).order_by("decided_at"))
    return MonthReport(
        month=month, board=board, outcomes=outcomes, period=period,
        ministry_chart=charts.ratio_chart([(str(m.name), f.plan_ratio, f.utilisation) for m, f in by_ministry],
                                          threshold=policy.under_plan_below),
        flagged=[r for r in board.rows if r.flags],
        opened=list(cases.filter(opened_at__gte=lo, opened_at__lt=hi).order_by("opened_at")),
        decided=decided,
        reclaimed_servers=sum(c.decided_servers or 0 for c in decided if c.state == CaseState.APPROVED),
        redistributions=list(RedistributionProposal.objects.filter(state=ProposalState.APPROVED, decided_at__gte=lo,
                                                                   decided_at__lt=hi)
                             .select_related("loan_request__organisation", "gpu_request__project").order_by("decided_at")),
        made_at=timezone.now(),
    )


def report_pdf(month: dt.date) -> bytes:
    """The report of `month` as PDF bytes, in Korean whatever the reader's language."""
    import weasyprint  # noqa: PLC0415 - loads Pango; only this document needs it

    with translation.override("ko"):
        report = month_report(month)
        stylesheet = finders.find("css/portal.css")
        html = render_to_string("outcomes/report_pdf.html", {
            "report": report, "portal_css": open(stylesheet, encoding="utf-8").read() if stylesheet else "",
            "kind_labels": OrganisationKind.choices, "region_labels": Region.choices,
        })
    return weasyprint.HTML(string=html).write_pdf()
