"""The monthly status board (MSIT admins and auditors): every project's report status and plan vs
actual for a month, sorted and filtered by any column, its charts, and its CSV/XLSX export. The
ministry page shows the same table for its own projects (`board_context`)."""

from __future__ import annotations

import hashlib

from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.access import role_required
from allocation_portal.kept import kept
from gpus.availability import programme_capacity_series

from . import charts, exports
from .forms import BoardFilterForm
from .selectors import (
    FLAG_LABELS,
    STATUS_LABELS,
    board_by_ministry,
    board_kept,
    capacity_months,
    month_board,
    programme_board,
)
from .views import default_report_month

BOARD_STATUSES = list(STATUS_LABELS)
BOARD_FLAGS = list(FLAG_LABELS)
STATUS_ORDER = {status: i for i, status in enumerate(BOARD_STATUSES)}


def _last_none(value):
    """Sort keys with the empty values (no plan, no report) after every value, either way."""
    return (value is None, value if value is not None else 0)


# The board's columns by their sort key: what each sorts by.
BOARD_SORTS = {
    "project": lambda r: r.project.code,
    "ministry": lambda r: str(r.project.ministry.name),
    "status": lambda r: STATUS_ORDER.get(r.month.status, 99),
    "allocated": lambda r: r.month.monthly.allocated,
    "planned": lambda r: r.month.monthly.planned,
    "used": lambda r: r.month.monthly.used,
    "measured": lambda r: r.month.measured_figure[0],
    "utilisation": lambda r: r.month.monthly.utilisation,
    "plan_ratio": lambda r: r.month.monthly.plan_ratio,
    "cumulative": lambda r: r.month.cumulative.plan_ratio,
    "flags": lambda r: len(r.flags),
}


def _sorted_rows(rows, key: str, descending: bool):
    by = BOARD_SORTS[key]
    present = [r for r in rows if by(r) is not None]
    empty = [r for r in rows if by(r) is None]
    return sorted(present, key=by, reverse=descending) + empty


def board_context(request, projects=None, *, now=None):
    """The board of `projects` (None: the programme's, kept; `as_of` says when a month under way's
    was computed) for the month asked for, with its filters and sort."""
    form = BoardFilterForm(request.GET)
    month = (form.cleaned_data.get("month") if form.is_valid() else None) or default_report_month()
    as_of = None
    if projects is None:
        board, as_of = programme_board(month, now=now)
    else:
        board = month_board(projects, month)
    status = request.GET.get("status", "")
    ministry = request.GET.get("ministry", "")
    flag = request.GET.get("flag", "")
    sort = request.GET.get("sort", "")
    descending = request.GET.get("dir") == "desc"
    rows = board.rows
    if status in BOARD_STATUSES:
        rows = [r for r in rows if r.month.status == status]
    elif status == "flagged":
        rows = [r for r in rows if r.flags]
    if ministry:
        rows = [r for r in rows if r.project.ministry.code == ministry]
    if flag in BOARD_FLAGS:
        rows = [r for r in rows if flag in r.flags]
    if sort in BOARD_SORTS:
        rows = _sorted_rows(rows, sort, descending)
    ministries = sorted({r.project.ministry.code: r.project.ministry for r in board.rows}.values(), key=lambda m: str(m.name))
    return {"board": board, "rows": rows, "form": form, "month": month, "status": status, "ministry": ministry,
            "flag": flag, "flags": BOARD_FLAGS, "ministries": ministries, "sort": sort, "descending": descending,
            "statuses": BOARD_STATUSES, "previous": months.add_months(month, -1), "next": months.add_months(month, 1),
            "as_of": as_of}


def _sort_links(request, sort: str, descending: bool) -> dict[str, dict]:
    """Each column's link: sorts by it (ascending first, then the other way), keeping the filters."""
    links = {}
    for key in BOARD_SORTS:
        query = request.GET.copy()
        query.pop("page", None)
        query["sort"] = key
        query["dir"] = "asc" if key == sort and descending else ("desc" if key == sort else "asc")
        current = key == sort
        links[key] = {"url": "?" + query.urlencode(), "current": current,
                      "aria": ("descending" if descending else "ascending") if current else ""}
    return links


def _board_charts(context) -> dict:
    rows, policy = context["rows"], programme_policy.current()
    started = [r for r in rows if r.project.actual_start is not None and r.month.cumulative.planned]
    by_project = sorted(started, key=lambda r: _last_none(r.month.cumulative.plan_ratio))
    by_ministry = sorted(board_by_ministry(started), key=lambda item: _last_none(item[1].plan_ratio))
    first = min((r.project.planned_start for r in context["board"].rows), default=None)
    series = programme_capacity_series(capacity_months(context["month"], first=first))
    return {
        "project_chart": charts.ratio_chart(
            [(f"{r.project.code} {r.project.title}", r.month.cumulative.plan_ratio, r.month.cumulative.utilisation)
             for r in by_project], threshold=policy.under_plan_below),
        "ministry_chart": charts.ratio_chart(
            [(str(m.name), f.plan_ratio, f.utilisation) for m, f in by_ministry], threshold=policy.under_plan_below),
        "capacity_chart": charts.capacity_chart(series, current=months.current()),
    }


@role_required("reads_everything")
def board_export(request, fmt):
    context = board_context(request)
    return exports.board_export(context["board"], context["rows"], fmt)


BOARD_PAGE_SIZE = 50
# The query a kept page may be of (anything else is rendered afresh), and its longest value.
BOARD_PARAMS = {"month", "status", "ministry", "flag", "sort", "dir", "page"}
BOARD_PARAM_LENGTH = 40


def _board_body(request, now=None) -> str:
    context = board_context(request, now=now)
    page = Paginator(context["rows"], BOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    filters = query.copy()
    for name in ("month", "sort", "dir"):
        filters.pop(name, None)
    return render_to_string("monitoring/_board_body.html", {
        **context, **_board_charts(context), "rows": page, "page": page, "query": query.urlencode(),
        "filter_query": filters.urlencode(), "sort_links": _sort_links(request, context["sort"], context["descending"]),
    }, request=request)


@role_required("reads_everything")
def board(request):
    """Every project for a month, 50 to a page (the counts, totals, charts and exports cover all
    the rows the filters keep). The page's body is kept as rendered (allocation_portal.kept) for
    the board it was drawn from (programme_board's name), the query, the language and what of the
    user it shows (their role and ministry: the report links)."""
    query = sorted(request.GET.lists())
    if not set(request.GET) <= BOARD_PARAMS or any(len(v) > BOARD_PARAM_LENGTH for _k, values in query for v in values):
        return render(request, "monitoring/board.html", {"body": _board_body(request)})
    form = BoardFilterForm(request.GET)
    month = (form.cleaned_data.get("month") if form.is_valid() else None) or default_report_month()
    now = timezone.now()
    which, seconds, _ended = board_kept(months.first_day(month), now)
    user = request.user
    digest = hashlib.sha256(repr(query).encode()).hexdigest()[:32]
    body, _at = kept(f"board-page:{which}:{translation.get_language()}:{user.role}-{user.ministry_id}:{digest}",
                     lambda: _board_body(request, now), seconds=seconds, now=now)
    return render(request, "monitoring/board.html", {"body": body})
