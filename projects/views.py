from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from allocation_portal import hooks, months
from allocation_portal.access import role_required
from allocation_portal.confirm import confirm_step, is_confirmed
from allocation_portal.errors import PortalError
from allocation_portal.formatting import GPU_HOURS_DECIMALS, format_number
from allocation_portal.forms import add_portal_error
from allocation_portal.kept import kept
from gpus import selectors as gpu_selectors
from gpus.models import GPUS_PER_SERVER, Allocation, HolderKind
from gpus.services import allocation_release

from . import programme_2026 as programme
from .access import (
    can_change_project,
    get_ministry_for_user,
    get_project_for_user,
    ministries_for_user,
    projects_for_user,
)
from .filters import ProjectFilter
from .forms import (
    AwardForm,
    CapacityDateForm,
    ExpectedStartForm,
    GpuRequestForm,
    PlanForm,
    ReleaseForm,
    StartForm,
)
from .selectors import ministry_list, programme_summary, project_list
from .services import (
    gpu_request_create,
    project_award_servers,
    project_record_start,
    project_set_expected_start,
    usage_plan_update,
)

PAGE_SIZE = 25


def _programme_body(request, form, day) -> str:
    capacity = gpu_selectors.kept_capacity_at(day)
    pool = capacity.programme_pool
    return render_to_string("projects/_programme_body.html", {
        **hooks.context(hooks.PROGRAMME_PAGE, request=request),
        "summary": programme_summary(),
        "capacity": capacity,
        "pool": pool,
        "pool_capacity": capacity.only(pool).totals,
        "programme": programme,
        "named_projects": programme.NAMED_PROJECTS,
        "named_gpus": sum(p["gpus"] for p in programme.NAMED_PROJECTS),
        "date_form": form,
    }, request=request)


@role_required("sees_programme")
def programme_overview(request):
    """The programme's headline figures and its capacity by pool, provider, cluster and model. The
    page's body is the same for every reader of a language and day: it is kept as rendered
    (allocation_portal.kept) under the change number, as long as the capacity it shows is kept, so
    a second reader gets it without computing or rendering anything. A date that does not parse is
    shown with its error, drawn afresh."""
    form = CapacityDateForm(request.GET)
    if request.GET and not form.is_valid():
        return render(request, "projects/programme_overview.html", {"body": _programme_body(request, form, None)})
    day = form.cleaned_data.get("date") if form.is_valid() else None
    seconds = gpu_selectors.CAPACITY_DAY_SECONDS if day else gpu_selectors.CAPACITY_NOW_SECONDS
    name = f"programme-page:{translation.get_language()}:{day:%Y-%m-%d}" if day else \
        f"programme-page:{translation.get_language()}:now"
    body, _at = kept(name, lambda: _programme_body(request, form, day), seconds=seconds)
    return render(request, "projects/programme_overview.html", {"body": body})


@role_required("reads_everything", "is_official")
def project_list_view(request):
    scope = projects_for_user(request.user)
    filterset = ProjectFilter(request.GET, queryset=project_list(scope), ministries=ministries_for_user(request.user))
    projects = filterset.qs if filterset.is_valid() else scope.none()
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/project_list.html",
        {"filter": filterset, "page": page, "query": query.urlencode(), "today": timezone.localdate()},
    )


def project_url(project) -> str:
    return reverse("project-detail", kwargs={"code": project.code})


def _project_context(request, project, **extra):
    """The project page. What the floors above know of the project (its plan vs actual, the loans
    on its idle servers) comes from their page hooks."""
    now = timezone.now()
    servers = gpu_selectors.servers_held_by_project(project, now)
    suspended = gpu_selectors.servers_held_by_project(project, now, holder_kinds=(HolderKind.SUSPENDED,))
    return {
        **hooks.context(hooks.PROJECT_PAGE, request=request, project=project),
        "can_report": can_change_project(request.user, project),
        "project": project,
        "ledger": gpu_selectors.holdings_for_project(project),
        "servers": servers,
        "suspended_servers": suspended,
        # Projects hold whole servers, so the GPUs held follow from the servers held.
        "gpus_held": len(servers) * GPUS_PER_SERVER,
        "today": timezone.localdate(),
        "now_dt": now,
        "award_form": extra.pop("award_form", None) or (AwardForm(project=project) if request.user.is_msit_admin else None),
        "release_form": extra.pop("release_form", None),
        "start_form": extra.pop("start_form", None) or StartForm(initial={"started_on": timezone.localdate()}),
        "expected_form": extra.pop("expected_form", None) or ExpectedStartForm(initial={"expected_start": project.expected_start}),
        **extra,
    }


@role_required("reads_everything", "is_official")
def project_detail(request, code):
    project, can_change = get_project_for_user(request.user, code)
    return render(request, "projects/project_detail.html", _project_context(request, project))


@require_POST
@role_required("is_msit_admin")
def project_award(request, code):
    project, can_change = get_project_for_user(request.user, code)
    form = AwardForm(request.POST, project=project)
    if form.is_valid():
        try:
            allocation = project_award_servers(
                actor=request.user,
                project=project,
                cluster=form.cleaned_data["cluster"],
                server_count=form.cleaned_data["server_count"],
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                reason=form.cleaned_data["reason"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Awarded %(gpus)s GPUs to %(project)s.") % {"gpus": allocation.gpu_count, "project": project.code}
            )
            return redirect("project-detail", code=project.code)
    return render(request, "projects/project_detail.html", _project_context(request, project, award_form=form), status=400)


@require_POST
@role_required("is_msit_admin")
def project_release(request, code, allocation_id):
    project, can_change = get_project_for_user(request.user, code)
    allocation = get_object_or_404(Allocation, public_id=allocation_id, project=project)
    form = ReleaseForm(request.POST, allocation=allocation)
    if form.is_valid() and not is_confirmed(request):
        servers = list(form.cleaned_data["servers"] or form.fields["servers"].queryset.order_by("hostname"))
        gpus = len(form.cleaned_data["gpus"]) if form.cleaned_data["gpus"] else allocation.gpu_count
        when = form.cleaned_data["on"] if form.cleaned_data["at"] else timezone.localdate()
        return confirm_step(
            request, title=_("Release GPUs of %(project)s") % {"project": project.code},
            consequences=[
                _("%(gpus)s GPUs on %(n)s servers leave %(project)s on %(day)s: %(hosts)s.") % {
                    "gpus": gpus, "n": len(servers), "project": project.code, "day": when.isoformat(),
                    "hosts": ", ".join(s.hostname for s in servers[:12]) + (" …" if len(servers) > 12 else "")},
                _("The ledger entry ends then; the servers become free in the programme's pool."),
            ],
            action_label=_("Release %(gpus)s GPUs") % {"gpus": gpus}, cancel_url=project_url(project),
        )
    if form.is_valid():
        try:
            allocation_release(
                actor=request.user,
                allocation=allocation,
                reason=form.cleaned_data["reason"],
                at=form.cleaned_data["at"],
                gpus=form.cleaned_data["gpus"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The GPUs were released."))
            return redirect("project-detail", code=project.code)
    context = _project_context(request, project, release_form=form, release_allocation=allocation)
    return render(request, "projects/project_detail.html", context, status=400)


@role_required("reads_everything")
def ministry_list_view(request):
    return render(request, "projects/ministry_list.html", {"ministries": ministry_list()})


@role_required("reads_everything", "is_official")
def ministry_detail(request, code):
    ministry = get_ministry_for_user(request.user, code)
    projects = project_list(ministry.projects.all())
    return render(
        request,
        "projects/ministry_detail.html",
        {
            **hooks.context(hooks.MINISTRY_PAGE, request=request, ministry=ministry),
            "ministry": ministry,
            "projects": projects,
            "summary": programme_summary(ministry.projects.all()),
            "today": timezone.localdate(),
        },
    )


@role_required("reads_everything", "is_official")
def project_plan(request, code):
    """The usage plan: officials edit months that have not begun; MSIT admins any month, with a reason."""
    project, editable = get_project_for_user(request.user, code)
    plans = {p.month: p.planned_gpu_hours for p in project.plans.all()}
    this_month = months.current()
    status = 200
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = PlanForm(request.POST if request.method == "POST" else None, project=project, plans=plans, actor=request.user)
    if form.is_bound:
        if form.is_valid():
            try:
                changed = usage_plan_update(actor=request.user, project=project, hours_by_month=form.changes,
                                            reason=form.cleaned_data["reason"])
            except PortalError as exc:
                add_portal_error(form, exc)
            else:
                messages.success(request, _("%(n)s months of the plan were updated.") % {"n": changed})
                return redirect("project-plan", code=project.code)
        status = 400
    rows = []
    for month in form.months:
        name = form.field_name(month)
        locked = month <= this_month and not request.user.is_msit_admin
        # Written like every other GPU-hours figure (27,648.0); the post reads the separators back.
        # A field keeps what was typed into it; a locked month, which has no field, its value.
        stored = format_number(plans[month], GPU_HOURS_DECIMALS) if month in plans else ""
        rows.append({
            "month": month, "label": months.label(month), "name": name,
            "hours": form.data.get(name, stored) if form.is_bound and editable and not locked else stored,
            "capacity": project.gpus_awarded * months.hours_in(month),
            "locked": locked,
            "errors": form.errors.get(name, []),
        })
    return render(
        request,
        "projects/project_plan.html",
        {"project": project, "rows": rows, "editable": editable, "form": form, "errors": form.errors,
         "other_errors": form.non_field_errors()},
        status=status,
    )


@require_POST
@role_required("is_msit_admin", "is_official")
def project_start(request, code):
    project, can_change = get_project_for_user(request.user, code)
    form = StartForm(request.POST)
    if form.is_valid() and not is_confirmed(request):
        return confirm_step(
            request, title=_("Record the start of %(project)s") % {"project": project.code},
            consequences=[
                _("%(project)s is recorded as started on %(day)s; from then on its servers are no longer lent.")
                % {"project": project.code, "day": form.cleaned_data["started_on"].isoformat()},
                *hooks.lines(hooks.PROJECT_START_PREVIEW, project=project),
            ],
            action_label=_("Record the start"), cancel_url=project_url(project),
        )
    if form.is_valid():
        try:
            project_record_start(actor=request.user, project=project, started_on=form.cleaned_data["started_on"],
                                 reason=form.cleaned_data["reason"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("The start was recorded; loans on the project's servers got their recall notice."))
            return redirect("project-detail", code=project.code)
    return render(request, "projects/project_detail.html", _project_context(request, project, start_form=form), status=400)


@require_POST
@role_required("is_msit_admin", "is_official")
def project_expected_start(request, code):
    project, can_change = get_project_for_user(request.user, code)
    form = ExpectedStartForm(request.POST)
    if form.is_valid():
        try:
            project_set_expected_start(actor=request.user, project=project,
                                       expected_start=form.cleaned_data["expected_start"], reason=form.cleaned_data["reason"])
        except PortalError as exc:
            add_portal_error(form, exc)
        else:
            messages.success(request, _("The new expected start was recorded."))
            return redirect("project-detail", code=project.code)
    return render(request, "projects/project_detail.html", _project_context(request, project, expected_form=form), status=400)


@require_POST
@role_required("is_official", "is_msit_admin")
def gpu_request_new(request, code):
    project, can_change = get_project_for_user(request.user, code)
    form = GpuRequestForm(request.POST)
    if form.is_valid():
        try:
            gpu_request_create(actor=request.user, project=project, **form.cleaned_data)
        except PortalError as exc:
            messages.error(request, exc.message + " " + " ".join(m for ms in exc.fields.values() for m in ms))
        else:
            messages.success(request, _("The request for more GPUs was sent to MSIT."))
    else:
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    return redirect("project-detail", code=project.code)
