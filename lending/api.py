"""The lending API: every applicant and admin action is an explicit action calling the same
services as the pages. GPUs are named `hostname:slot`."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal import policy as programme_policy
from allocation_portal.api import AuditorsOnlyRead, IsMsitAdmin, OptionalReasonSerializer, ReasonSerializer
from allocation_portal.fields import ApiDateField, ApiStoredTextField, ModelSerializer
from allocation_portal.models import Compliance
from gpus.models import AllocationGpu, Gpu, GpuModel

from . import services as lending
from .access import get_loan_for_user, get_request_for_user, loans_for_user, requests_for_user
from .models import Loan, LoanRequest
from .selectors import idle_calendar, loan_servers, propose, request_queue, request_window


def gpu_name(gpu: Gpu) -> str:
    return f"{gpu.server.hostname}:{gpu.index}"


def gpus_from_names(names: list[str]) -> list[int]:
    """`hostname:slot` names to GPU ids; unknown names are a field error."""
    pairs = []
    for name in names:
        host, _sep, slot = str(name).rpartition(":")
        if not host or not slot.isdigit():
            raise ValidationError({"gpus": [_("Name GPUs as hostname:slot, for example %(e)s.") % {"e": "nhn-b200-a-0001:0"}]})
        pairs.append((host, int(slot)))
    query = Q()
    for host, slot in pairs:
        query |= Q(server__hostname=host, index=slot)
    found = list(Gpu.objects.filter(query).values_list("id", flat=True)) if pairs else []
    if len(found) != len(set(pairs)):
        raise ValidationError({"gpus": [_("Some of these GPUs do not exist.")]})
    return found


class IsApplicantOrReader(permissions.BasePermission):
    message = _("Only applicants, MSIT admins and auditors use lending.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_applicant or user.reads_everything))


class IsApplicant(permissions.BasePermission):
    message = _("Only applicants of a registered organisation can do this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_applicant)


class LoanRequestSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    review_note = ApiStoredTextField()  # MSIT's note as typed, or the portal's own in the reader's language
    loan = serializers.SerializerMethodField()

    class Meta:
        model = LoanRequest
        fields = ["id", "organisation", *lending.REQUEST_FIELDS, "state", "score", "review_note", "submitted_at", "loan"]
        read_only_fields = ["state", "score", "review_note", "submitted_at"]

    def get_loan(self, obj) -> str | None:
        loan = getattr(obj, "loan", None)
        return str(loan.public_id) if loan else None


class RequestInputSerializer(serializers.Serializer):
    gpu_model = serializers.ChoiceField(choices=GpuModel.choices)
    gpu_count = serializers.IntegerField(min_value=1)
    starts_on = ApiDateField()
    ends_on = ApiDateField()
    purpose = serializers.CharField(max_length=5000)
    expected_results = serializers.CharField(max_length=5000)
    personal_information = serializers.ChoiceField(choices=Compliance.choices)
    training_data_copyright = serializers.ChoiceField(choices=Compliance.choices)
    ai_basic_act = serializers.ChoiceField(choices=Compliance.choices)
    accepts_recall_terms = serializers.BooleanField()


class ScoreSerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=0, max_value=100)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class ApproveSerializer(serializers.Serializer):
    gpus = serializers.ListField(child=serializers.CharField(), help_text=_("GPUs as hostname:slot, from the proposal."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class LoanProposalSerializer(serializers.Serializer):
    """The GPUs an approval would take (component "LoanProposal"; redistribution has its own)."""

    complete = serializers.BooleanField()
    gpus = serializers.ListField(child=serializers.CharField())
    servers = serializers.ListField(child=serializers.DictField())


class LoanSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    request = serializers.UUIDField(source="request.public_id", read_only=True)
    recall_reason = serializers.CharField(source="recall_reason_text", read_only=True)
    gpus = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = ["id", "request", "organisation", "gpu_model", "gpu_count", "starts_at", "ends_at", "state",
                  "offer_expires_at", "accepted_at", "end_reason", "ended_at", "recall_notice_at", "recall_reason", "renewal_state", "renewal_ends_on",
                  "end_report", "end_report_gpu_hours", "end_report_at", "gpus"]

    def get_gpus(self, obj) -> list[str]:
        return obj.gpu_names


class LoanRecallRiskSerializer(serializers.Serializer):
    project = serializers.CharField(help_text=_("The project whose reserved server this is."))
    expected_start = serializers.DateField(help_text=_("Its expected (or planned) start: the loan is recalled from then."))


class LoanServerSerializer(serializers.Serializer):
    hostname = serializers.CharField()
    provider = serializers.CharField()
    cluster = serializers.CharField()
    slots = serializers.ListField(child=serializers.IntegerField())
    recall_risk = LoanRecallRiskSerializer(many=True)
    access_steps = serializers.CharField(help_text=_("The provider's steps to reach the GPUs, in the caller's language."))
    support_contact = serializers.CharField()


class LoanDetailSerializer(LoanSerializer):
    """One loan (or offer) with its servers, each server's recall risk and how to reach it."""

    servers = serializers.SerializerMethodField()

    class Meta(LoanSerializer.Meta):
        fields = [*LoanSerializer.Meta.fields, "servers"]

    @extend_schema_field(LoanServerSerializer(many=True))
    def get_servers(self, obj) -> list[dict]:
        return [
            {"hostname": s.server.hostname, "provider": s.provider.code, "cluster": s.server.cluster.code,
             "slots": s.slots, "access_steps": s.provider.access_steps, "support_contact": s.provider.support_contact,
             "recall_risk": [{"project": p.code, "expected_start": p.expected_start or p.planned_start}
                             for p in s.risks if p.actual_start is None]}
            for s in loan_servers(obj)
        ]


class RenewalSerializer(serializers.Serializer):
    ends_on = ApiDateField()
    reason = serializers.CharField(max_length=2000)


class RenewalDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EndReportSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000)
    gpu_hours = serializers.DecimalField(max_digits=12, decimal_places=1, min_value=0, required=False, allow_null=True)


class CalendarView(APIView):
    """Idle GPUs for each week of the next three months, by provider and GPU model. Public."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        calendar = idle_calendar()
        policy = programme_policy.current()
        return Response({
            "weeks": [w.isoformat() for w in calendar.weeks],
            "idle_now_by_model": calendar.now_by_model,
            "rows": [{"provider": r.provider.code, "gpu_model": r.gpu_model, "in_service": r.in_service, "weeks": r.weeks}
                     for r in calendar.rows],
            "terms": {"max_months": policy.loan_max_months, "renewals": policy.loan_renewals,
                      "recall_notice_hours": policy.recall_notice_hours, "sizes": "1-4 GPUs or whole servers of 8"},
        })


class LoanRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Short-term requests: applicants see their organisation's, MSIT admins and auditors all.
    The admin's queue is `?ranked=1` (in ranking order, open requests only)."""

    serializer_class = LoanRequestSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    permission_classes = [IsApplicantOrReader, AuditorsOnlyRead]
    filterset_fields = ["state", "gpu_model"]

    def get_queryset(self):
        qs = requests_for_user(self.request.user).select_related("organisation", "loan")
        if self.request.query_params.get("ranked") and self.action == "list":
            return request_queue(qs)
        return qs.order_by("-submitted_at")

    def _one(self, obj, code=status.HTTP_200_OK):
        return Response(LoanRequestSerializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    @extend_schema(request=RequestInputSerializer, responses={201: LoanRequestSerializer})
    def create(self, request):
        """Submit a request (applicants)."""
        if not request.user.is_applicant:
            self.permission_denied(request, message=IsApplicant.message)
        body = RequestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._one(lending.request_submit(actor=request.user, values=body.validated_data), status.HTTP_201_CREATED)

    @extend_schema(request=RequestInputSerializer, responses=LoanRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsApplicant])
    def resubmit(self, request, id=None):
        """Change a request MSIT asked to change, and submit it again."""
        body = RequestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        return self._one(lending.request_update(actor=request.user, request=obj, values=body.validated_data))

    @extend_schema(request=OptionalReasonSerializer, responses=LoanRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsApplicant])
    def withdraw(self, request, id=None):
        body = OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        return self._one(lending.request_withdraw(actor=request.user, request=obj, reason=body.validated_data["reason"]))

    @extend_schema(request=ScoreSerializer, responses=LoanRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def score(self, request, id=None):
        body = ScoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        return self._one(lending.request_score(actor=request.user, request=obj, **body.validated_data))

    @extend_schema(request=NoteSerializer, responses=LoanRequestSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes", permission_classes=[IsMsitAdmin])
    def request_changes(self, request, id=None):
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        return self._one(lending.request_ask_changes(actor=request.user, request=obj, note=body.validated_data["note"]))

    @extend_schema(request=ReasonSerializer, responses=LoanRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def reject(self, request, id=None):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        return self._one(lending.request_reject(actor=request.user, request=obj, reason=body.validated_data["reason"]))

    @extend_schema(responses=LoanProposalSerializer)
    @action(detail=True, methods=["get"], permission_classes=[IsMsitAdmin])
    def proposal(self, request, id=None):
        """GPUs idle for the whole period, chosen as the approval would: confirm them with `approve`."""
        obj, can_change = get_request_for_user(request.user, id)
        starts_at, ends_at = request_window(obj)
        found = propose(obj.gpu_model, obj.gpu_count, starts_at, ends_at)
        names = {g.pk: gpu_name(g) for g in Gpu.objects.filter(pk__in=found.gpu_ids).select_related("server")}
        return Response({
            "complete": found.complete,
            "gpus": [names[i] for i in found.gpu_ids],
            "servers": [{"hostname": offer.hostname, "cluster": offer.cluster.code, "gpus": len(ids),
                         "recall_risk": [{"project": code, "expected_start": day} for code, day in offer.recall_risk]}
                        for offer, ids in found.picks],
        })

    @extend_schema(request=ApproveSerializer, responses={201: LoanSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def approve(self, request, id=None):
        """Approve with the confirmed GPUs. 409 when the capacity has gone meanwhile; nothing is written."""
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj, can_change = get_request_for_user(request.user, id)
        loan = lending.request_approve(actor=request.user, request=obj, gpu_ids=gpus_from_names(body.validated_data["gpus"]),
                                       note=body.validated_data["note"])
        return Response(LoanSerializer(attach_gpu_names([loan_queryset().get(pk=loan.pk)])[0]).data,
                        status=status.HTTP_201_CREATED)


def attach_gpu_names(loans) -> list:
    """Name each loan's GPUs (hostname:slot) with one query for the whole page of loans."""
    loans = list(loans)
    names: dict[int, list[str]] = {loan.pk: [] for loan in loans}
    rows = AllocationGpu.objects.filter(allocation__loan__in=loans).values_list(
        "allocation__loan_id", "gpu__server__hostname", "gpu__index"
    )
    for loan_id, hostname, index in rows:
        names[loan_id].append(f"{hostname}:{index}")
    for loan in loans:
        loan.gpu_names = sorted(names[loan.pk])
    return loans


def loan_queryset():
    return Loan.objects.select_related("organisation", "request")


class LoanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Loans: the borrowing organisation's, or all for MSIT admins and auditors."""

    serializer_class = LoanSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    permission_classes = [IsApplicantOrReader, AuditorsOnlyRead]
    filterset_fields = ["state"]

    def get_queryset(self):
        return loans_for_user(self.request.user).select_related("organisation", "request").order_by("-starts_at")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LoanSerializer(attach_gpu_names(page), many=True).data)

    @extend_schema(responses=LoanDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._one(self.get_object())

    def _one(self, obj):
        return Response(LoanDetailSerializer(attach_gpu_names([self.get_queryset().get(pk=obj.pk)])[0]).data)

    @extend_schema(request=None, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsApplicant])
    def accept(self, request, id=None):
        """Accept the offer (state `offered`): the loan is scheduled, or active if its start has come.
        409 when the offer was answered already or has lapsed."""
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.offer_accept(actor=request.user, loan=loan))

    @extend_schema(request=OptionalReasonSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsApplicant])
    def decline(self, request, id=None):
        """Decline the offer: its GPUs go back to the pool at once. 409 when answered already or lapsed."""
        body = OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.offer_decline(actor=request.user, loan=loan, reason=body.validated_data["reason"]))

    @extend_schema(request=OptionalReasonSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return", permission_classes=[IsApplicant])
    def return_(self, request, id=None):
        body = OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.loan_return(actor=request.user, loan=loan, reason=body.validated_data["reason"]))

    @extend_schema(request=RenewalSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsApplicant])
    def renew(self, request, id=None):
        """Ask for the one renewal (at most three more months)."""
        body = RenewalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.loan_request_renewal(actor=request.user, loan=loan, **body.validated_data))

    @extend_schema(request=RenewalDecisionSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], url_path="decide-renewal", permission_classes=[IsMsitAdmin])
    def decide_renewal(self, request, id=None):
        body = RenewalDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.loan_decide_renewal(actor=request.user, loan=loan, **body.validated_data))

    @extend_schema(request=ReasonSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def recall(self, request, id=None):
        """Recall with 72 hours' notice."""
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.loan_recall(actor=request.user, loan=loan, reason=body.validated_data["reason"]))

    @extend_schema(request=EndReportSerializer, responses=LoanDetailSerializer)
    @action(detail=True, methods=["post"], url_path="end-report", permission_classes=[IsApplicant])
    def end_report(self, request, id=None):
        body = EndReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan, can_change = get_loan_for_user(request.user, id)
        return self._one(lending.loan_file_end_report(actor=request.user, loan=loan, text=body.validated_data["text"],
                                                      gpu_hours=body.validated_data.get("gpu_hours")))
