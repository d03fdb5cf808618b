import datetime as dt

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from allocation_portal.api import AuditorsOnlyRead, IsMsitAdmin, ProgrammeReader
from gpus.selectors import day_start, holdings_for_project
from gpus.serializers import AllocationSerializer

from .access import get_project_for_user, ministries_for_user, projects_for_user
from .filters import ProjectFilter
from .selectors import ministry_list, project_list
from .serializers import (
    AwardRequestSerializer,
    ExpectedStartSerializer,
    GpuRequestSerializer,
    MinistrySerializer,
    PlanMonthSerializer,
    ProjectSerializer,
    StartSerializer,
)
from .services import (
    gpu_request_create,
    project_award_servers,
    project_record_start,
    project_set_expected_start,
    usage_plan_update,
)


class MinistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ministries in the user's scope: all for MSIT admins and auditors, their own for officials."""

    serializer_class = MinistrySerializer
    lookup_field = "code"
    filter_backends = []
    permission_classes = [ProgrammeReader]

    def get_queryset(self):
        return ministry_list(ministries_for_user(self.request.user))


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """National AI projects in the user's scope, filterable by ministry, status and start month."""

    serializer_class = ProjectSerializer
    lookup_field = "code"
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProjectFilter
    permission_classes = [ProgrammeReader, AuditorsOnlyRead]
    json_list_body = False  # the plan takes a JSON list (allocation_portal.parsers)

    def get_queryset(self):
        return project_list(projects_for_user(self.request.user))

    def get_object(self):
        project, can_change = get_project_for_user(self.request.user, self.kwargs["code"])
        return project_list(type(project).objects.filter(pk=project.pk)).get()

    @extend_schema(responses=AllocationSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def ledger(self, request, code=None):
        """The project's ledger entries, newest first."""
        project, can_change = get_project_for_user(request.user, code)
        return Response(AllocationSerializer(holdings_for_project(project), many=True).data)

    @extend_schema(request=AwardRequestSerializer, responses={201: AllocationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ProgrammeReader, IsMsitAdmin])
    def award(self, request, code=None):
        """Award whole servers of a cluster to the project (MSIT admins)."""
        project, can_change = get_project_for_user(request.user, code)
        body = AwardRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        allocation = project_award_servers(
            actor=request.user,
            project=project,
            cluster=body.validated_data["cluster"],
            server_count=body.validated_data["server_count"],
            starts_at=day_start(body.validated_data["starts_on"]),
            ends_at=day_start(body.validated_data["ends_on"] + dt.timedelta(days=1)),
            reason=body.validated_data["reason"],
        )
        allocation = holdings_for_project(project).get(pk=allocation.pk)
        return Response(AllocationSerializer(allocation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanMonthSerializer(many=True), responses=PlanMonthSerializer(many=True))
    @action(detail=True, methods=["get", "put"], permission_classes=[ProgrammeReader, AuditorsOnlyRead], json_list_body=True,
            pagination_class=None)
    def plan(self, request, code=None):
        """The usage plan. PUT a list of {month, planned_gpu_hours} (plus `reason` as a query
        parameter when an MSIT admin changes a month that has begun)."""
        project, can_change = get_project_for_user(request.user, code)
        if request.method == "PUT":
            body = PlanMonthSerializer(data=request.data, many=True)
            body.is_valid(raise_exception=True)
            usage_plan_update(
                actor=request.user,
                project=project,
                hours_by_month={row["month"]: row["planned_gpu_hours"] for row in body.validated_data},
                reason=request.query_params.get("reason", ""),
            )
        return Response(PlanMonthSerializer(project.plans.order_by("month"), many=True).data)

    def _project(self, project):
        return Response(ProjectSerializer(project_list(type(project).objects.filter(pk=project.pk)).get()).data)

    @extend_schema(request=StartSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ProgrammeReader, AuditorsOnlyRead])
    def start(self, request, code=None):
        """Record the project's actual start; loans on its servers get the recall notice."""
        body = StartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project, can_change = get_project_for_user(request.user, code)
        return self._project(project_record_start(actor=request.user, project=project, **body.validated_data))

    @extend_schema(request=ExpectedStartSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"], url_path="expected-start", permission_classes=[ProgrammeReader, AuditorsOnlyRead])
    def expected_start(self, request, code=None):
        """Record a new expected start for a project that has not started."""
        body = ExpectedStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project, can_change = get_project_for_user(request.user, code)
        return self._project(project_set_expected_start(actor=request.user, project=project, **body.validated_data))

    @extend_schema(request=GpuRequestSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="gpu-request", permission_classes=[ProgrammeReader, AuditorsOnlyRead])
    def gpu_request(self, request, code=None):
        """A started project asks for more servers; redistribution proposes them to MSIT."""
        body = GpuRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project, can_change = get_project_for_user(request.user, code)
        made = gpu_request_create(actor=request.user, project=project, **body.validated_data)
        return Response({"id": str(made.public_id), "servers": made.servers, "state": made.state}, status=status.HTTP_201_CREATED)
