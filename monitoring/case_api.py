"""The reclamation and redistribution API: the same services and permissions as the pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal import months
from allocation_portal import policy as programme_policy
from allocation_portal.api import (
    AuditorsOnlyRead,
    IsMsitAdmin,
    ProgrammeReader,
    ReadsEverything,
    ReasonSerializer,
)
from allocation_portal.fields import ModelSerializer, MonthFilter
from allocation_portal.models import Policy
from allocation_portal.schema import ErrorSerializer
from projects.models import Project

from . import reclamation, redistribution
from .access import cases_for_user, get_case_for_user
from .models import (
    CaseKind,
    CaseState,
    CheckRun,
    ProposalState,
    ReclamationCase,
    RedistributionProposal,
)
from .serializers import MonthField
from .tasks import run_monthly_check


class CaseSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.CharField(source="project.code")
    ministry = serializers.CharField(source="project.ministry.code")
    month = MonthField()
    policy_version = serializers.IntegerField(source="policy.version")
    is_sample = serializers.BooleanField(source="project.is_sample")

    class Meta:
        model = ReclamationCase
        fields = ["id", "project", "ministry", "month", "kind", "state", "policy_version", "evidence", "evidence_note",
                  "servers_held", "proposed_servers", "response_due", "opened_at", "response_kind", "response_text",
                  "responded_at", "decided_servers", "decision_reason", "decided_at", "suspended_at", "outcome", "is_sample"]


class CaseFilter(filters.FilterSet):
    month = MonthFilter(field_name="month", help_text="YYYY-MM")
    ministry = filters.CharFilter(field_name="project__ministry__code")
    project = filters.CharFilter(field_name="project__code")
    state = filters.ChoiceFilter(choices=CaseState.choices)
    kind = filters.ChoiceFilter(choices=CaseKind.choices)


class RespondSerializer(serializers.Serializer):
    response_kind = serializers.ChoiceField(choices=[("explanation", "explanation"), ("exemption", "exemption")])
    response_text = serializers.CharField(max_length=5000)


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[(s, s) for s in ("approved", "exempted", "rejected")])
    servers = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    reason = serializers.CharField(max_length=5000)


class OffPurposeSerializer(serializers.Serializer):
    project = serializers.CharField()
    month = MonthField()
    note = serializers.CharField(max_length=5000)
    proposed_servers = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reclamation cases: all for MSIT admins and auditors, their ministry's for officials."""

    serializer_class = CaseSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = CaseFilter
    permission_classes = [ProgrammeReader, AuditorsOnlyRead]

    def get_queryset(self):
        return cases_for_user(self.request.user).select_related("project__ministry", "policy").order_by("-month", "project__code")

    def _one(self, case, code=status.HTTP_200_OK):
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data, status=code)

    @extend_schema(request=RespondSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, id=None):
        """The ministry's explanation or request for exemption, within the response window."""
        body = RespondSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case, can_change = get_case_for_user(request.user, id)
        return self._one(reclamation.case_respond(actor=request.user, case=case, kind=body.validated_data["response_kind"],
                                                  text=body.validated_data["response_text"]))

    @extend_schema(request=DecideSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ProgrammeReader, IsMsitAdmin])
    def decide(self, request, id=None):
        """Approve (possibly fewer servers), exempt or reject. Approval moves the servers to the MSIT reserve."""
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case, can_change = get_case_for_user(request.user, id)
        return self._one(reclamation.case_decide(actor=request.user, case=case, **body.validated_data))

    @extend_schema(request=ReasonSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ProgrammeReader, IsMsitAdmin])
    def resolve(self, request, id=None):
        """Close an under-use case whose project now meets its plan (after a late or corrected report)."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case, can_change = get_case_for_user(request.user, id)
        return self._one(reclamation.case_resolve(actor=request.user, case=case, reason=body.validated_data["reason"]))

    @extend_schema(request=ReasonSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ProgrammeReader, IsMsitAdmin])
    def suspend(self, request, id=None):
        """Suspend an off-purpose case's project GPUs at once."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case, can_change = get_case_for_user(request.user, id)
        return self._one(reclamation.case_suspend(actor=request.user, case=case, reason=body.validated_data["reason"]))

    @extend_schema(request=OffPurposeSerializer, responses={201: CaseSerializer})
    @action(detail=False, methods=["post"], url_path="off-purpose", permission_classes=[ProgrammeReader, IsMsitAdmin])
    def off_purpose(self, request):
        """Open an off-purpose case with evidence."""
        body = OffPurposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = Project.objects.filter(code=body.validated_data["project"]).first()
        if project is None:
            raise ValidationError({"project": [_("No project has this code.")]})
        case = reclamation.off_purpose_open(actor=request.user, project=project, month=body.validated_data["month"],
                                            note=body.validated_data["note"],
                                            proposed=body.validated_data.get("proposed_servers"))
        return self._one(case, status.HTTP_201_CREATED)


class CheckRunSerializer(ModelSerializer):
    month = MonthField()

    class Meta:
        model = CheckRun
        fields = ["month", "started_at", "heartbeat_at", "finished_at", "projects_checked", "cases_opened", "runs",
                  "errors", "forced", "force_reason"]


class CheckRequestSerializer(serializers.Serializer):
    month = MonthField(required=False, help_text="YYYY-MM; default: the latest month whose reports are due")
    force = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CheckRunViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Monthly check runs. POST {"month": "YYYY-MM"} queues a check (MSIT admins)."""

    serializer_class = CheckRunSerializer
    permission_classes = [ReadsEverything, AuditorsOnlyRead]
    queryset = CheckRun.objects.order_by("-month")
    filter_backends = []

    @extend_schema(request=CheckRequestSerializer, responses={202: OpenApiTypes.OBJECT, 503: ErrorSerializer})
    def create(self, request):
        """Queue the check of a closed month. Before its reports are due, only with `force` and a reason."""
        if not request.user.is_msit_admin:
            self.permission_denied(request, message=IsMsitAdmin.message)
        body = CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        month = body.validated_data.get("month") or reclamation.latest_checkable_month()
        force, reason = body.validated_data["force"], body.validated_data["reason"]
        reclamation.check_validate(actor=request.user, month=month, force=force, reason=reason)
        try:
            run_monthly_check.apply_async(args=[month.isoformat(), request.user.pk, force, reason], retry=False)
        except Exception as exc:  # noqa: BLE001 - the broker is down: a clear 503, nothing changed
            error = APIException(_("The task queue cannot be reached; the check was not started."))
            error.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            raise error from exc
        return Response({"queued": months.label(month)}, status=status.HTTP_202_ACCEPTED)


class PolicySerializer(ModelSerializer):
    reason = serializers.CharField(max_length=2000)

    class Meta:
        model = Policy
        fields = ["version", *programme_policy.FIELDS, "created_at", "reason"]
        read_only_fields = ["version", "created_at"]


class PolicyView(APIView):
    """The programme policy in force and its versions; POST a new version (MSIT admins)."""

    permission_classes = [ReadsEverything, AuditorsOnlyRead]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        current = programme_policy.current()
        return Response({"current": PolicySerializer(current).data,
                         "versions": PolicySerializer(Policy.objects.order_by("-version")[:50], many=True).data})

    @extend_schema(request=PolicySerializer, responses={201: PolicySerializer})
    def post(self, request):
        if not request.user.is_msit_admin:
            raise PermissionDenied(IsMsitAdmin.message)
        body = PolicySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Numbers not sent keep the values of the version in force.
        current = programme_policy.current()
        values = {**{name: getattr(current, name) for name in programme_policy.FIELDS}, **body.validated_data}
        policy = programme_policy.policy_update(actor=request.user, values=values, reason=body.validated_data["reason"])
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class RedistributionProposalSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    loan_request = serializers.UUIDField(source="loan_request.public_id", allow_null=True, default=None)
    project = serializers.CharField(source="gpu_request.project.code", allow_null=True, default=None)

    class Meta:
        model = RedistributionProposal
        fields = ["id", "rank", "kind", "state", "loan_request", "project", "servers", "sources", "note", "created_at",
                  "decided_at"]


class ProposalRejectSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Redistribution proposals. Actions: `propose` (make fresh ones), `approve`, `reject`, `approve-all`."""

    serializer_class = RedistributionProposalSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    permission_classes = [ReadsEverything, AuditorsOnlyRead]
    filterset_fields = ["state", "kind"]

    def get_queryset(self):
        return RedistributionProposal.objects.select_related("loan_request", "gpu_request__project").order_by("rank", "created_at")

    @extend_schema(request=None, responses={201: RedistributionProposalSerializer(many=True)})
    @action(detail=False, methods=["post"], permission_classes=[IsMsitAdmin], pagination_class=None)
    def propose(self, request):
        made = redistribution.redistribution_propose(actor=request.user)
        return Response(RedistributionProposalSerializer(self.get_queryset().filter(pk__in=[p.pk for p in made]), many=True).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RedistributionProposalSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def approve(self, request, id=None):
        """Approve one proposal; 409 with the reason when its GPUs have gone meanwhile (it is then marked stale)."""
        proposal = self.get_object()
        return Response(RedistributionProposalSerializer(redistribution.proposal_approve(actor=request.user, proposal=proposal)).data)

    @extend_schema(request=ProposalRejectSerializer, responses=RedistributionProposalSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def reject(self, request, id=None):
        body = ProposalRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = self.get_object()
        return Response(RedistributionProposalSerializer(redistribution.proposal_reject(
            actor=request.user, proposal=proposal, note=body.validated_data["note"])).data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="approve-all", permission_classes=[IsMsitAdmin])
    def approve_all(self, request):
        """Approve every open proposal in rank order, each on its own."""
        open_ = list(RedistributionProposal.objects.filter(state=ProposalState.PROPOSED))
        results = redistribution.proposals_approve_all(actor=request.user, proposals=open_)
        return Response({"results": [{"id": str(p.public_id), "state": p.state, "error": error} for p, error in results]})
