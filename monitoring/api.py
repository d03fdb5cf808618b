from django import forms
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal import months
from allocation_portal.api import AuditorsOnlyRead, IsMsitAdmin, ProgrammeReader, ReadsEverything
from allocation_portal.errors import StateConflict
from allocation_portal.fields import MonthFilter
from allocation_portal.kept import kept
from allocation_portal.notifications import notification_mark_read
from allocation_portal.parsers import JSONObjectParser
from projects.access import get_project_for_user, projects_for_user

from .access import get_report_for_user, reports_for_user
from .forms import clean_evidence
from .models import COMPLIANCE_ITEMS, Notification, ReportState, UsageReportVersion
from .selectors import board_kept, programme_board, project_usage
from .serializers import (
    BoardSerializer,
    MonthField,
    NotificationReadSerializer,
    NotificationSerializer,
    ReportCreateSerializer,
    ReportDetailSerializer,
    ReportSerializer,
    ReportValuesSerializer,
    ReturnSerializer,
    UploadSerializer,
    UsageMonthSerializer,
)
from .services import (
    parse_upload,
    report_accept,
    report_return,
    report_save,
    reports_upload,
)

VALUE_FIELDS = ["gpu_hours_used", "peak_gpus_busy", "within_purpose", *COMPLIANCE_ITEMS, "notes"]


class ReportFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__code")
    ministry = filters.CharFilter(field_name="project__ministry__code")
    month = MonthFilter(field_name="month", help_text="YYYY-MM")
    state = filters.ChoiceFilter(choices=ReportState.choices)


def _evidence(data):
    upload = data.get("evidence")
    if upload is None:
        return None
    try:
        return clean_evidence(upload)
    except forms.ValidationError as exc:
        raise ValidationError({"evidence": exc.messages}) from exc


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly usage reports in the user's scope. Officials create, edit and submit their ministry's
    reports; MSIT admins accept or return them. Workflow steps are explicit actions."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = ReportFilter
    permission_classes = [ProgrammeReader, AuditorsOnlyRead]
    parser_classes = [JSONObjectParser, MultiPartParser, FormParser]

    def get_queryset(self):
        qs = reports_for_user(self.request.user).select_related("project").order_by("-month", "project__code")
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("versions", queryset=UsageReportVersion.objects.select_related("actor").order_by("-id"))
            )
        return qs

    def get_serializer_class(self):
        return ReportDetailSerializer if self.action == "retrieve" else ReportSerializer

    def _detail(self, report, code=status.HTTP_200_OK):
        fresh = self.get_queryset().prefetch_related("versions__actor").get(pk=report.pk)
        return Response(ReportDetailSerializer(fresh).data, status=code)

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportDetailSerializer})
    def create(self, request):
        """Create a report for a project and month; `submit: true` submits it at once."""
        body = ReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        project = projects_for_user(request.user).filter(code=data["project"]).first()
        if project is None:
            raise ValidationError({"project": ["Unknown project code, or not one of your ministry's projects."]})
        existing = project.usage_reports.filter(month=data["month"]).first()
        if existing is not None:
            raise StateConflict(
                _("A report for %(project)s in %(month)s already exists (%(id)s); change it with PATCH.")
                % {"project": project.code, "month": months.label(data["month"]), "id": existing.public_id}
            )
        report = report_save(
            actor=request.user, project=project, month=data["month"],
            values={k: data.get(k) for k in VALUE_FIELDS}, submit=data["submit"], evidence=_evidence(data),
        )
        return self._detail(report, status.HTTP_201_CREATED)

    @extend_schema(request=ReportValuesSerializer, responses=ReportDetailSerializer)
    def partial_update(self, request, id=None):
        """Change a draft or returned report (all value fields), or submit a correction of an accepted one."""
        report, can_change = get_report_for_user(request.user, id)
        body = ReportValuesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = report_save(
            actor=request.user, project=report.project, month=report.month,
            values={k: data.get(k) for k in VALUE_FIELDS}, submit=data["submit"], evidence=_evidence(data),
        )
        return self._detail(report)

    @extend_schema(request=None, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, id=None):
        """Submit the report as it stands."""
        report, can_change = get_report_for_user(request.user, id)
        report = report_save(
            actor=request.user, project=report.project, month=report.month,
            values={k: getattr(report, k) for k in VALUE_FIELDS}, submit=True,
        )
        return self._detail(report)

    @extend_schema(request=None, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def accept(self, request, id=None):
        return self._detail(report_accept(actor=request.user, report=get_report_for_user(request.user, id)[0]))

    @extend_schema(request=ReturnSerializer, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return", permission_classes=[IsMsitAdmin])
    def return_(self, request, id=None):
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = report_return(actor=request.user, report=get_report_for_user(request.user, id)[0],
                               reason=body.validated_data["reason"])
        return self._detail(report)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses=ReportSerializer(many=True))
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser], pagination_class=None)
    def upload(self, request):
        """A CSV or XLSX file with one row per project-month, applied all-or-nothing. When refused,
        `fields` holds the errors of each row as `row N.field` (`row N.non_field_errors`: the row's
        report as a whole, e.g. one waiting for MSIT's review)."""
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        rows = parse_upload(upload, upload.name)
        reports = reports_upload(actor=request.user, rows=rows, submit=body.validated_data["submit"])
        return Response(ReportSerializer(reports, many=True).data, status=status.HTTP_201_CREATED)


class BoardView(APIView):
    """The monthly status board: every project's report status and plan vs actual for a month."""

    permission_classes = [ReadsEverything]

    @extend_schema(parameters=[OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; default last month")],
                   responses=BoardSerializer)
    def get(self, request):
        raw = request.query_params.get("month")
        month = MonthField().to_internal_value(raw) if raw else months.add_months(months.current(), -1)
        # The board's JSON is kept as the board is (programme_board): 500 projects' rows are not
        # serialised again for each request.
        now = timezone.now()
        name, seconds, _ended = board_kept(months.first_day(month), now)

        def compute():
            board, as_of = programme_board(month, now=now)
            return {**board_json(board), "as_of": as_of.isoformat() if as_of else None}

        return Response(kept(f"board-json:{name}", compute, seconds=seconds, now=now)[0])


class ProjectUsageView(APIView):
    """A project's plan vs actual per month: allocated (ledger), planned (plan), used (reports),
    monthly and cumulative. Served under the project's URL."""

    permission_classes = [ProgrammeReader]

    @extend_schema(responses=UsageMonthSerializer(many=True))
    def get(self, request, code):
        project, _can_change = get_project_for_user(request.user, code)
        return Response(
            [
                {
                    "month": months.label(row.month),
                    "status": row.status,
                    "report": str(row.report.public_id) if row.report else None,
                    "month_figures": figures_json(row.monthly),
                    "cumulative": figures_json(row.cumulative),
                }
                for row in project_usage(project)
            ]
        )


class MeteredMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    allocated_gpu_hours = serializers.CharField(help_text="Held in the ledger while the project used the GPUs")
    scheduled_gpu_hours = serializers.CharField(allow_null=True, help_text="Slurm accounting (its jobs' GPU time)")
    scheduled_complete = serializers.BooleanField(help_text="Accounting received from every provider of its servers")
    busy_gpu_hours = serializers.CharField(allow_null=True, help_text="GPU telemetry (the GPUs' active time)")
    busy_coverage = serializers.CharField(allow_null=True, help_text="Share of allocated GPU-hours with telemetry data")
    reported_gpu_hours = serializers.CharField(allow_null=True, help_text="The ministry's report (submitted or accepted)")
    measured_gpu_hours = serializers.CharField(allow_null=True, help_text="What reports are compared with")
    measured_source = serializers.CharField(help_text="sacct, telemetry, or empty when the data is incomplete")


class MeteredUsageView(APIView):
    """A project's GPU-hours per month from every source side by side: allocated (ledger), scheduled
    (Slurm), busy (telemetry) with its coverage, and reported (the ministry)."""

    permission_classes = [ProgrammeReader]

    @extend_schema(parameters=[OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; default all months")],
                   responses=MeteredMonthSerializer(many=True))
    def get(self, request, code):
        project, _can_change = get_project_for_user(request.user, code)
        raw = request.query_params.get("month")
        month = MonthField().to_internal_value(raw) if raw else None
        rows = project_usage(project, until=month, since=month) if month else project_usage(project)

        data = []
        for row in rows:
            measured = row.measured
            figure, source = row.measured_figure
            data.append({
                "month": months.label(row.month), "allocated_gpu_hours": str(row.monthly.allocated),
                "scheduled_gpu_hours": _text(measured.scheduled if measured else None),
                "scheduled_complete": bool(measured and measured.scheduled_complete),
                "busy_gpu_hours": _text(measured.busy if measured else None), "busy_coverage": _text(row.busy_coverage),
                "reported_gpu_hours": _text(row.report.gpu_hours_used) if row.counted else None,
                "measured_gpu_hours": _text(figure), "measured_source": source,
            })
        return Response(MeteredMonthSerializer(data, many=True).data)


def figures_json(f):
    """Decimals as strings, as DRF's serializers give them."""
    values = {
        "allocated_gpu_hours": f.allocated, "planned_gpu_hours": f.planned, "used_gpu_hours": f.used,
        "utilisation": f.utilisation, "plan_ratio": f.plan_ratio,
    }
    return {key: None if value is None else str(value) for key, value in values.items()}


def _text(value):
    return None if value is None else str(value)


def board_json(board):
    return {
        "month": months.label(board.month),
        "counts": board.counts,
        "totals": figures_json(board.totals),
        "cumulative": figures_json(board.cumulative),
        "projects": [
            {
                "project": row.project.code,
                "ministry": row.project.ministry.code,
                "is_sample": row.project.is_sample,
                "status": row.month.status,
                "report": str(row.month.report.public_id) if row.month.report else None,
                "month": figures_json(row.month.monthly),
                "cumulative": figures_json(row.month.cumulative),
                "scheduled_gpu_hours": _text(row.month.measured.scheduled if row.month.measured else None),
                "busy_gpu_hours": _text(row.month.measured.busy if row.month.measured else None),
                "busy_coverage": _text(row.month.busy_coverage),
                "measured_gpu_hours": _text(row.month.measured_figure[0]),
                "measured_source": row.month.measured_figure[1],
                "flags": row.flags,
            }
            for row in board.rows
        ],
    }


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The user's own notifications, newest first."""

    serializer_class = NotificationSerializer
    filterset_fields = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        return Notification.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=NotificationReadSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def read(self, request):
        body = NotificationReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = body.validated_data.get("ids")
        return Response({"marked_read": notification_mark_read(user=request.user, notification_ids=ids)})
