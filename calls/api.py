"""The calls API: calls with their rounds, rules, criteria and capacity (public, as the pages), and
MSIT's action adding a round, through the same service as the page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from allocation_portal.api import IsMsitAdmin
from allocation_portal.fields import ApiDateField, ModelSerializer

from . import services
from .models import Call, Capacity, Criterion, Round
from .selectors import call_list, get_call


class CallRoundSerializer(ModelSerializer):
    class Meta:
        model = Round
        fields = ["number", "opens_on", "closes_on"]


class CallCriterionSerializer(ModelSerializer):
    name = serializers.CharField(read_only=True)
    rubric = serializers.JSONField(read_only=True)

    class Meta:
        model = Criterion
        fields = ["code", "name", "name_ko", "name_en", "weight", "rubric"]


class CallCapacitySerializer(ModelSerializer):
    class Meta:
        model = Capacity
        fields = ["gpu_model", "gpus", "months"]


class CallSerializer(ModelSerializer):
    name = serializers.CharField(read_only=True)
    eligible_ministries = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    shares = serializers.JSONField(read_only=True)

    class Meta:
        model = Call
        fields = ["code", "kind", "name", "name_ko", "name_en", "opens_on", "round_days", "eligible_kinds",
                  "eligible_regions", "eligible_ministries", "cap_gpu_months", "shares", "limit_per_organisation",
                  "prefers_non_capital", "is_sample"]


class CallDetailSerializer(CallSerializer):
    rounds = CallRoundSerializer(many=True, read_only=True)
    criteria = CallCriterionSerializer(many=True, read_only=True)
    capacity = CallCapacitySerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "rounds", "criteria", "capacity"]


class CallRoundInputSerializer(serializers.Serializer):
    opens_on = ApiDateField(required=False, allow_null=True)
    closes_on = ApiDateField()


class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Calls for GPUs: public to read, as the lending page is. MSIT admins add rounds."""

    lookup_field = "code"
    lookup_url_kwarg = "code"
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        return call_list().prefetch_related("eligible_ministries")

    def get_serializer_class(self):
        return CallDetailSerializer if self.action != "list" else CallSerializer

    def get_object(self):
        return get_call(self.kwargs["code"])

    @extend_schema(request=CallRoundInputSerializer, responses={201: CallRoundSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def rounds(self, request, code=None):
        """Add a round with its cut-off (MSIT admins)."""
        call = self.get_object()
        body = CallRoundInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = services.call_add_round(actor=request.user, call=call, closes_on=body.validated_data["closes_on"],
                                          opens_on=body.validated_data.get("opens_on"))
        return Response(CallRoundSerializer(created).data, status=status.HTTP_201_CREATED)
