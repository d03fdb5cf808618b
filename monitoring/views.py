from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal import months
from allocation_portal.access import role_required
from allocation_portal.errors import PortalError
from allocation_portal.formatting import GPU_HOURS_DECIMALS, format_number
from allocation_portal.forms import add_portal_error
from allocation_portal.notifications import notification_mark_read
from gpus.selectors import held_by_month, suspended_periods
from projects.access import get_project_for_user, projects_for_user

from . import exports
from .access import get_report_for_user, reports_for_user
from .forms import ReportForm, ReturnForm, UploadForm
from .models import COMPLIANCE_ITEMS, Notification, ReportState
from .selectors import (
    due_report_month,
    months_to_report,
    project_usage,
    report_months,
    report_with_versions,
)
from .services import (
    UploadRejected,
    parse_upload,
    report_accept,
    report_return,
    report_save,
    reports_upload,
)


def default_report_month():
    """The month the board shows first: last month (due on the 5th of this month)."""
    return months.add_months(months.current(), -1)


@role_required("reads_everything", "is_official")
def report_list(request):
    reports = reports_for_user(request.user).select_related("project__ministry", "submitted_by")
    month = months.parse(request.GET.get("month", ""))
    state = request.GET.get("state", "")
    code = request.GET.get("project", "").strip()
    if month:
        reports = reports.filter(month=month)
    if state in ReportState.values:
        reports = reports.filter(state=state)
    if code:
        reports = reports.filter(project__code=code)
    page = Paginator(reports.order_by("-month", "project__code"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "monitoring/report_list.html",
        {"page": page, "query": query.urlencode(), "states": ReportState.choices, "month": request.GET.get("month", ""),
         "state": state, "project": code},
    )


def _suspensions(project, month):
    """When the project's GPUs were suspended in `month` (they count for no use then)."""
    return suspended_periods(project, *months.bounds(month)) if month else []


def _limits(project, month) -> dict[str, str]:
    """What the service will check the figures against, shown beside the fields: the GPU-hours and
    GPUs the project held in the month, from the ledger (the month under way: up to now)."""
    if month is None or project.actual_start is None or month > months.current():
        return {}
    hours, gpus = held_by_month([project.pk], month, month).get((project.pk, month), (Decimal(0), 0))
    label = months.label(month)
    return {
        "gpu_hours_used": _("At most %(hours)s GPU-hours: what the project held in %(month)s (allocation ledger).")
        % {"hours": format_number(hours, GPU_HOURS_DECIMALS), "month": label},
        "peak_gpus_busy": _("At most %(gpus)s GPUs: the GPUs the project held in %(month)s.")
        % {"gpus": format_number(gpus), "month": label},
    }


def _report_form_page(request, project, form, report=None, status=200, month=None, choices=None, measured_from=""):
    """The report form. `month` is the month the page is for (its limits and suspensions); the
    month picker (a new report) says which finished months are still to report."""
    month = report.month if report is not None else month
    current = months.current()
    finished = [row for row in choices or [] if row.month < current]
    return render(
        request,
        "monitoring/report_form.html",
        {"project": project, "form": form, "report": report, "compliance_items": list(COMPLIANCE_ITEMS),
         "suspensions": _suspensions(project, month), "limits": _limits(project, month), "month": month,
         "report_months": choices, "measured_from": measured_from,
         # Reporting `month`, unless the month asked for was refused: then the picker asks again.
         "reporting": month if month is not None and not form.errors.get("month") else None,
         "to_report": [row.month for row in reversed(finished) if row.outstanding],
         "month_finished": bool(finished)},
        status=status,
    )


def _save_from_form(request, project, form, report=None):
    submit = "submit" in request.POST
    try:
        saved = report_save(
            actor=request.user,
            project=project,
            month=form.cleaned_data["month"] if report is None else report.month,
            values=form.values(),
            submit=submit,
            evidence=form.cleaned_data.get("evidence"),
            note=request.POST.get("note", ""),
        )
    except PortalError as exc:
        add_portal_error(form, exc)
        return None
    messages.success(
        request,
        _("The %(month)s report was submitted.") % {"month": months.label(saved.month)}
        if submit
        else _("The %(month)s report was saved as a draft.") % {"month": months.label(saved.month)},
    )
    return saved


def _open_existing(request, report):
    """A month that has a report opens it: to change it when it may be changed, else to read it
    (a report waiting for MSIT's review), saying so."""
    if report.state == ReportState.SUBMITTED and not request.user.is_msit_admin:
        messages.info(
            request,
            _("The %(month)s report was submitted and is waiting for MSIT's review; it cannot be changed now.")
            % {"month": months.label(report.month)},
        )
        return redirect("report-detail", report_id=report.public_id)
    return redirect("report-edit", report_id=report.public_id)


def _opened_month(request, choices):
    """The month the new-report page is for: the one asked for (?month=), else the one due."""
    month = months.parse(request.GET.get("month", ""))
    if month is None and (due := due_report_month(choices)) is not None:
        return due.month
    return month


@role_required("is_msit_admin", "is_official")
def report_new(request, code):
    """A new report. Without a month it opens the month that is due (the oldest finished month
    with nothing counted), or lets the official pick one; it never opens a submitted report as if
    it were the month to report."""
    project, can_change = get_project_for_user(request.user, code)
    if not can_change:
        raise Http404
    choices = report_months(project)
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, project=project, actor=request.user)
        if form.is_valid() and (saved := _save_from_form(request, project, form)) is not None:
            return redirect("report-detail", report_id=saved.public_id)
        # The page keeps what it showed: the month posted when it may be reported, else the month
        # it was opened for (its limits stay beside the fields).
        month = form.cleaned_data.get("month") if "month" not in form.errors else _opened_month(request, choices)
        return _report_form_page(request, project, form, status=400, month=month, choices=choices)
    month = months.parse(request.GET.get("month", ""))
    if month is None:
        due = due_report_month(choices)
        if due is not None and due.report is not None:
            messages.info(request, _("The %(month)s report is the one due; it is opened here.") % {"month": months.label(due.month)})
            return _open_existing(request, due.report)
        month = due.month if due is not None else None
    else:
        existing = project.usage_reports.filter(month=month).first()
        if existing is not None:
            return _open_existing(request, existing)
    initial = {"month": months.label(month)} if month else {}
    measured_from = ""
    if month is not None:
        # What the providers measured for the month, when the data is complete, fills the GPU-hours in.
        rows = project_usage(project, until=month, since=month)
        figure, measured_from = rows[0].measured_figure if rows else (None, "")
        if figure is not None:
            initial["gpu_hours_used"] = figure
    return _report_form_page(request, project, ReportForm(initial=initial), month=month, choices=choices,
                             measured_from=measured_from)


@role_required("is_msit_admin", "is_official")
def report_edit(request, report_id):
    """Change a draft or returned report, or correct an accepted one, and submit it again; the
    month is fixed (a disabled field takes its value from `initial`, never from the post)."""
    report, can_change = get_report_for_user(request.user, report_id)
    if not can_change:
        raise Http404
    if report.state == ReportState.SUBMITTED and not request.user.is_msit_admin:
        return _open_existing(request, report)
    fixed = {"month": months.label(report.month)}
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, initial=fixed, fixed_month=True, project=report.project,
                          report=report, actor=request.user)
        if form.is_valid() and (saved := _save_from_form(request, report.project, form, report)) is not None:
            return redirect("report-detail", report_id=saved.public_id)
        return _report_form_page(request, report.project, form, report, status=400)
    initial = {
        **fixed,
        "gpu_hours_used": report.gpu_hours_used,
        "peak_gpus_busy": report.peak_gpus_busy,
        "within_purpose": {True: "yes", False: "no"}.get(report.within_purpose),
        "notes": report.notes,
        **{name: getattr(report, name) for name in COMPLIANCE_ITEMS},
    }
    return _report_form_page(request, report.project, ReportForm(initial=initial, fixed_month=True), report)


@role_required("reads_everything", "is_official")
def report_detail(request, report_id, return_form=None, status=200):
    found, can_change = get_report_for_user(request.user, report_id)
    report = report_with_versions(found)
    return render(
        request,
        "monitoring/report_detail.html",
        {
            "report": report,
            "return_form": return_form or ReturnForm(),
            "can_edit": can_change and report.state != ReportState.SUBMITTED,
            "compliance": [(COMPLIANCE_ITEMS[n], getattr(report, f"get_{n}_display")()) for n in COMPLIANCE_ITEMS],
            "suspensions": _suspensions(report.project, report.month),
        },
        status=status,
    )


@require_POST
@role_required("is_msit_admin")
def report_accept_view(request, report_id):
    report, can_change = get_report_for_user(request.user, report_id)
    try:
        report_accept(actor=request.user, report=report, note=request.POST.get("note", ""))
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The report was accepted."))
    return redirect("report-detail", report_id=report.public_id)


@require_POST
@role_required("is_msit_admin")
def report_return_view(request, report_id):
    report, can_change = get_report_for_user(request.user, report_id)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            report_return(actor=request.user, report=report, reason=form.cleaned_data["reason"])
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The report was returned to the ministry."))
        return redirect("report-detail", report_id=report.public_id)
    return report_detail(request, report_id, return_form=form, status=400)


@role_required("is_msit_admin", "is_official")
def report_upload(request):
    result, rejected, form = None, None, UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = parse_upload(upload, upload.name)
                result = reports_upload(actor=request.user, rows=rows, submit=form.cleaned_data["submit"])
            except UploadRejected as exc:
                rejected, status = exc, 400
            except PortalError as exc:
                form.add_error("file", exc.message)
                for messages_ in exc.fields.values():
                    for message in messages_:
                        if message != exc.message:
                            form.add_error("file", message)
                status = 400
            else:
                messages.success(request, _("%(n)s reports were saved from the upload.") % {"n": len(result)})
        else:
            status = 400
    return render(
        request, "monitoring/report_upload.html",
        {"form": form, "result": result, "rejected": rejected, "columns": exports.UPLOAD_HEADERS},
        status=status,
    )


@role_required("is_msit_admin", "is_official")
def upload_template(request, fmt):
    projects = projects_for_user(request.user).filter(actual_start__isnull=False).order_by("code")
    return exports.upload_template(months_to_report(projects), fmt)


@role_required()
def notification_list(request):
    notices = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(notices, 30).get_page(request.GET.get("page"))
    return render(request, "monitoring/notification_list.html", {"page": page, "query": ""})


@require_POST
@role_required()
def notification_read(request):
    ids = request.POST.getlist("id")
    notification_mark_read(user=request.user, notification_ids=ids or None)
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notification-list")


@role_required("reads_everything", "is_official")
def report_evidence(request, report_id):
    """The report's evidence file, to those who may see the report."""
    report, can_change = get_report_for_user(request.user, report_id)
    if not report.evidence:
        raise Http404
    return FileResponse(report.evidence.open("rb"), as_attachment=True, filename=report.evidence.name.rsplit("/", 1)[-1])
