from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal.api import AuditorsOnlyRead, IsMsitAdmin, ProgrammeReader

from .access import allocations_for_user, get_allocation_for_user
from .models import AllocationGpu, Cluster, Gpu, Provider, ServerStatus
from .selectors import capacity_at
from .serializers import (
    AllocationSerializer,
    CapacityQuerySerializer,
    CapacityReportSerializer,
    CapacitySerializer,
    ClusterCapacitySerializer,
    ClusterSerializer,
    ProviderSerializer,
    ReleaseRequestSerializer,
)
from .services import allocation_release


class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Provider.objects.order_by("code")
    serializer_class = ProviderSerializer
    lookup_field = "code"
    filter_backends = []


class ClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ClusterSerializer
    lookup_field = "code"
    filterset_fields = ["gpu_model"]

    def get_queryset(self):
        return (
            Cluster.objects.select_related("provider")
            .annotate(
                server_count=Count("servers"),
                servers_in_maintenance=Count("servers", filter=Q(servers__status=ServerStatus.MAINTENANCE)),
            )
            .order_by("provider__code", "code")
        )


class CapacityView(APIView):
    """GPUs per provider and cluster at the start of a date (KST): total, awarded, held by started
    projects, idle, MSIT reserve, free, on loan, in maintenance and lendable."""

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD; default now")],
        responses=CapacityReportSerializer,
    )
    def get(self, request):
        query = CapacityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = capacity_at(query.validated_data.get("date") or timezone.now())
        return Response(
            {
                "at": report.at,
                "totals": CapacitySerializer(report.totals).data,
                "clusters": ClusterCapacitySerializer(report.clusters, many=True).data,
            }
        )


class AllocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ledger entries in the user's scope. Releasing is an explicit action for MSIT admins."""

    serializer_class = AllocationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["holder_kind", "layer"]
    permission_classes = [ProgrammeReader, AuditorsOnlyRead]

    def get_queryset(self):
        return (
            allocations_for_user(self.request.user)
            .select_related("project", "cluster", "parent")
            .prefetch_related(Prefetch("gpu_rows", queryset=AllocationGpu.objects.select_related("gpu__server")))
            .order_by("-starts_at", "-id")
        )

    @extend_schema(request=ReleaseRequestSerializer, responses=AllocationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def release(self, request, id=None):
        allocation, can_change = get_allocation_for_user(request.user, id)
        body = ReleaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gpus = None
        if body.validated_data.get("servers"):
            hostnames = set(body.validated_data["servers"])
            gpus = list(
                Gpu.objects.filter(server__hostname__in=hostnames, holdings__allocation=allocation).select_related("server")
            )
            if {g.server.hostname for g in gpus} != hostnames:
                raise ValidationError({"servers": [_("Only servers of this entry can be released from it.")]})
        allocation_release(
            actor=request.user,
            allocation=allocation,
            reason=body.validated_data["reason"],
            at=body.validated_data.get("at"),
            gpus=gpus,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=allocation.pk)).data)
