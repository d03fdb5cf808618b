"""The outcomes dashboard (MSIT admins and auditors): the figures per month and over the range, each
linked to the rows it counts, the charts, and the three-month forecast."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from allocation_portal import policy as programme_policy
from allocation_portal.access import role_required
from allocation_portal.errors import PortalError
from allocation_portal.forms import add_portal_error
from allocation_portal.kept import kept
from gpus.models import GPUS_PER_SERVER
from lending.models import OrganisationKind, Region
from monitoring.charts import stacked_chart
from monitoring.forms import BoardFilterForm
from monitoring.views import default_report_month

from . import services, simulation, store, tasks
from .figures import FIGURES, Outcomes, Speed, figure_rows, scope_for
from .forecast import Forecast
from .forms import OutcomesRangeForm, PolicyBForm, SimulationForm
from .models import SimulationRun, SimulationState
from .report import report_pdf

ROWS_PAGE_SIZE = 100

OUTCOME_LAYERS = [("used", _("Used by owners (reported)")), ("lent", _("Lent out of idle and reserve")),
                  ("unused", _("Neither used nor lent"))]
FORECAST_LAYERS = [("lent", _("On loan")), ("waiting", _("Asked for by waiting requests")),
                   ("can_lend", _("Can still be lent")), ("starting", _("Back to projects starting"))]


# The monthly table's GPU-hour columns, in order (each a figure with its rows).
HOUR_COLUMNS = ["awarded", "held_started", "idle", "reserve", "suspended", "used_reported", "used_measured",
                "lent_from_idle", "lent_from_reserve", "lent_from_free"]


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
                                   "starting": row.starting_servers * GPUS_PER_SERVER}})
    return _chart(columns, FORECAST_LAYERS)


def _range(request, *, figure_required: bool = False) -> OutcomesRangeForm:
    form = OutcomesRangeForm(request.GET, figure_required=figure_required)
    form.is_valid()
    return form


def _dashboard_body(scope) -> str:
    outcomes = store.outcomes(scope=scope)
    tasks.keep_soon(outcomes)
    forecast, forecast_as_of = store.forecast()
    return render_to_string("outcomes/_dashboard_body.html", {
        "outcomes": outcomes, "total": outcomes.total, "forecast": forecast, "forecast_as_of": forecast_as_of,
        "outcomes_chart": outcomes_chart(outcomes), "forecast_chart": forecast_chart(forecast),
        "hour_columns": [(name, FIGURES[name][0]) for name in HOUR_COLUMNS],
        "kind_labels": OrganisationKind.choices, "region_labels": Region.choices,
    })


@role_required("reads_everything")
def dashboard(request):
    """The figures, their tables and charts are the same for every reader of a language: the page's
    body is kept (allocation_portal.kept) under the change number, for the ten minutes the figures
    of now are kept, so a second reader gets it without computing or rendering anything."""
    form = _range(request)
    scope = form.scope or scope_for()
    body = ""
    if scope is not None:
        window = int(scope.now.timestamp() // store.NOW_SECONDS)
        body, _at = kept(f"outcomes:page:{get_language()}:{scope.first:%Y-%m}:{scope.last:%Y-%m}:{window}",
                         lambda: _dashboard_body(scope), seconds=store.NOW_SECONDS, now=scope.now)
    return render(request, "outcomes/dashboard.html", {"form": form, "scope": scope, "body": body})


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
        "scope": form.scope, "speed": Speed([row.value for row in rows]) if unit == "days" else None,
    }, status=200 if form.is_valid() else 400)


@role_required("reads_everything")
def board_report_pdf(request):
    """The month's programme report as a PDF, in Korean (?month=YYYY-MM, default last month)."""
    form = BoardFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "outcomes/report_error.html", {"form": form}, status=400)
    month = form.cleaned_data.get("month") or default_report_month()
    response = HttpResponse(report_pdf(month), content_type="application/pdf")
    name = f"국가AI사업_월간보고_{month:%Y-%m}.pdf"
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    return response


# --- What-if simulations ----------------------------------------------------------------------

SIMULATIONS_LISTED = 20
REFRESH_SECONDS = 5


@role_required("reads_everything")
def simulations(request):
    """The runs asked for (auditors read them) and, for MSIT admins, the form that starts one."""
    policy_a = simulation.policy_json(simulation.policy_from(None))
    form = SimulationForm(request.POST or None)
    policy_form = PolicyBForm(request.POST or None, initial=policy_a)
    if request.method == "POST":
        if not request.user.is_msit_admin:
            raise PermissionDenied
        if form.is_valid() and policy_form.is_valid():
            try:
                run = services.simulation_start(
                    actor=request.user, first_month=form.cleaned_data["first_month"],
                    month_count=form.cleaned_data["months"], seed=form.cleaned_data["seed"],
                    behaviour=form.cleaned_data["behaviour"], policy_changes=policy_form.changes(policy_a))
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                tasks.simulation_enqueue(run)
                return redirect("outcome-simulation", public_id=run.public_id)
    runs = SimulationRun.objects.select_related("requested_by")[:SIMULATIONS_LISTED]
    return render(request, "outcomes/simulations.html", {
        "form": form, "policy_form": policy_form, "runs": runs, "behaviour_defaults": simulation.BEHAVIOUR_DEFAULTS,
    }, status=400 if form.errors or policy_form.errors else 200)


def comparison(run: SimulationRun) -> dict:
    """The two results side by side: each summary figure per month and cumulative, under A and B,
    and B's difference."""
    if not (run.result_a and run.result_b):
        return {}
    a, b = run.result_a["figures"], run.result_b["figures"]
    periods = [(p["month"], p, q) for p, q in zip(a["months"], b["months"], strict=True)]
    periods.append((None, a["cumulative"], b["cumulative"]))
    blocks = []
    for month, pa, pb in periods:
        va, vb = simulation.summary_values(pa), simulation.summary_values(pb)
        blocks.append({"month": month, "rows": [
            {"label": label, "a": simulation.formatted(va[key], unit), "b": simulation.formatted(vb[key], unit),
             "difference": simulation.difference(va[key], vb[key], unit)}
            for key, label, unit, _path in simulation.SUMMARY]})
    return {"total": blocks[-1], "months": blocks[:-1]}


@role_required("reads_everything")
def simulation_detail(request, public_id):
    run = get_object_or_404(SimulationRun.objects.select_related("requested_by"), public_id=public_id)
    running = run.state in (SimulationState.QUEUED, SimulationState.RUNNING)
    policy_rows = [(name, run.policy_a.get(name), run.policy_b.get(name), name in run.policy_b_changes)
                   for name in programme_policy.FIELDS]
    # Reloading by itself only when the reader asked for it (and can stop it): a page that refreshes
    # on its own is a timing the reader does not control (WCAG 2.2.1, KWCAG).
    return render(request, "outcomes/simulation.html", {
        "run": run, "running": running, "refresh_seconds": REFRESH_SECONDS, "compare": comparison(run),
        "auto_refresh": running and request.GET.get("refresh") == "1",
        "policy_rows": policy_rows,
    })
