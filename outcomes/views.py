"""The outcomes dashboard (MSIT admins and auditors): the figures per month and over the range, each
linked to the rows it counts, the charts, and the three-month forecast."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from allocation_portal import months
from allocation_portal.access import role_required
from allocation_portal.kept import kept
from lending.models import OrganisationKind, Region
from monitoring.charts import stacked_chart

from . import store
from .figures import FIGURES, Outcomes, figure_rows
from .forecast import Forecast
from .forms import OutcomesRangeForm

ROWS_PAGE_SIZE = 100

OUTCOME_LAYERS = [("used", _("Used by owners (reported)")), ("lent", _("Lent out of idle and reserve")),
                  ("unused", _("Neither used nor lent"))]
FORECAST_LAYERS = [("lent", _("On loan")), ("waiting", _("Asked for by waiting requests")),
                   ("can_lend", _("Can still be lent")), ("starting", _("Back to projects starting"))]


# The monthly table's GPU-hour columns, in order (each a figure with its rows).
HOUR_COLUMNS = ["awarded", "held_started", "idle", "reserve", "suspended", "used_reported", "used_measured",
                "lent_from_idle", "lent_from_reserve"]


def _chart(columns, layers) -> dict | None:
    chart = stacked_chart(columns, [cls for cls, _label in layers])
    if chart is not None:
        labels = dict(layers)
        chart["legend"] = layers
        for column in chart["columns"]:
            for part in column["parts"]:
                part["label"] = labels[part["cls"]]
    return chart


def outcomes_chart(outcomes: Outcomes) -> dict | None:
    columns = []
    for period in outcomes.months:
        used, lent = period.used_reported, period.figure("lent")
        columns.append({"label": f"{period.month:%y.%m}", "month": f"{period.month:%Y-%m}", "share": period.used_or_lent_share,
                        "values": {"used": used, "lent": lent, "unused": max(period.figure("awarded") - used - lent, Decimal(0))}})
    return _chart(columns, OUTCOME_LAYERS)


def forecast_chart(forecast: Forecast) -> dict | None:
    columns = []
    for row in forecast.months:
        waiting = min(row.waiting_gpus, max(row.lendable_gpus - row.lent_gpus, 0))
        columns.append({"label": f"{row.month:%y.%m}", "month": f"{row.month:%Y-%m}", "ahead": True,
                        "values": {"lent": row.lent_gpus, "waiting": waiting, "can_lend": row.can_lend,
                                   "starting": row.starting_servers * 8}})
    return _chart(columns, FORECAST_LAYERS)


def _range(request, *, figure_required: bool = False) -> OutcomesRangeForm:
    form = OutcomesRangeForm(request.GET, figure_required=figure_required)
    form.is_valid()
    return form


# The query a kept dashboard may be of (anything else is rendered afresh), and its longest value.
DASHBOARD_PARAMS = {"from", "to"}
DASHBOARD_PARAM_LENGTH = 20


@role_required("reads_everything")
def dashboard(request):
    """The figures come kept (outcomes.store); the body is kept as rendered from them
    (allocation_portal.kept) for the query, the language and the moments the month under way and
    the forecast are as of (both read from what the store keeps, before anything is computed), so
    it is what a fresh rendering of the same figures shows."""
    form = _range(request)
    forecast, forecast_as_of = store.forecast()

    def body():
        outcomes = store.outcomes(scope=form.scope)
        return render_to_string("outcomes/_dashboard_body.html", {
            "form": form, "outcomes": outcomes, "total": outcomes.total, "forecast": forecast,
            "forecast_as_of": forecast_as_of, "outcomes_chart": outcomes_chart(outcomes),
            "forecast_chart": forecast_chart(forecast), "hour_columns": [(name, FIGURES[name][0]) for name in HOUR_COLUMNS],
            "kind_labels": OrganisationKind.choices, "region_labels": Region.choices,
        }, request=request)

    query = sorted(request.GET.lists())
    scope = form.scope
    # Kept only for a valid range that holds this month: one that ends before says its figures are
    # as of now.
    if (scope is None or scope.last < months.first_day(timezone.localtime(scope.now).date())
            or not set(request.GET) <= DASHBOARD_PARAMS
            or any(len(v) > DASHBOARD_PARAM_LENGTH for _k, values in query for v in values)):
        return render(request, "outcomes/dashboard.html", {"body": body()})
    _month, as_of = store.current_month(scope)
    name = (f"outcomes-page:{translation.get_language()}:{hashlib.sha256(repr(query).encode()).hexdigest()[:32]}:"
            f"{as_of.isoformat()}:{forecast_as_of.isoformat()}")
    return render(request, "outcomes/dashboard.html", {"body": kept(name, body, seconds=store.NOW_SECONDS)[0]})


@role_required("reads_everything")
def figure_rows_view(request):
    form = _range(request, figure_required=True)
    rows, figure = [], form.cleaned_data.get("figure") if form.is_bound else None
    if form.scope and figure:
        rows = figure_rows(figure, scope=form.scope)
    page = Paginator(rows, ROWS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    label, unit = (FIGURES[figure][0], FIGURES[figure][1]) if figure else ("", "")
    return render(request, "outcomes/rows.html", {
        "form": form, "figure": figure, "label": label, "unit": unit, "page": page, "rows": page,
        "total": sum((row.value for row in rows), Decimal(0)), "count": len(rows), "query": query.urlencode(),
        "scope": form.scope,
    }, status=200 if form.is_valid() else 400)
