"""Measured usage sent by providers' machines (token auth): `POST /api/v1/metering/sacct/`."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal.fields import ApiMonthField
from allocation_portal.uploads import ApiUploadField
from gpus.models import Provider

from .services import sacct_receive, telemetry_pull


class SacctUploadSerializer(serializers.Serializer):
    file = ApiUploadField(limit_setting="PORTAL_METERING_MAX_BYTES",
                          help_text="The output of sacct --parsable2 (see the README), UTF-8.")
    provider = serializers.SlugField(max_length=40, help_text="The provider's code")
    month = ApiMonthField(required=False, help_text="YYYY-MM (KST); default: the last month that has ended")


class ReceivedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    changed = serializers.BooleanField(help_text="False when the same figures had been received already")
    replaced = serializers.UUIDField(allow_null=True, help_text="The delivery whose figures these replace")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    runs = serializers.IntegerField()
    provisional_runs = serializers.IntegerField(help_text="Jobs still running: counted to the period's end")
    gpu_hours = serializers.FloatField()
    gpu_hours_by_holder = serializers.DictField(child=serializers.FloatField())
    unknown_nodes = serializers.ListField(child=serializers.DictField())


class SacctUploadView(APIView):
    """Slurm accounting for one provider and one KST month. Each job run's allocated GPU-hours
    (ElapsedRaw × gres/gpu of its allocation row) go to the holders of its nodes in the ledger. The same
    figures twice change nothing; different figures for the same month replace the earlier ones."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    extra_error_codes = ["404"]

    @extend_schema(request={"multipart/form-data": SacctUploadSerializer},
                   responses={201: ReceivedSerializer, 200: ReceivedSerializer})
    def post(self, request):
        body = SacctUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        provider = get_object_or_404(Provider, code=body.validated_data["provider"])
        upload = body.validated_data["file"]
        received = sacct_receive(actor=request.user, provider=provider, file=upload, file_name=upload.name,
                                 month=body.validated_data.get("month"))
        batch = received.batch
        data = {
            "id": batch.public_id, "changed": received.changed,
            "replaced": received.replaced.public_id if received.replaced else None,
            "period_start": batch.period_start, "period_end": batch.period_end, "runs": batch.runs,
            "provisional_runs": batch.provisional, "gpu_hours": round(batch.gpu_seconds / 3600, 2),
            "gpu_hours_by_holder": {k: round(v / 3600, 2) for k, v in sorted(received.by_holder.items())},
            "unknown_nodes": batch.unknown_nodes,
        }
        return Response(ReceivedSerializer(data).data,
                        status=status.HTTP_201_CREATED if received.changed else status.HTTP_200_OK)


class TelemetryPullSerializer(serializers.Serializer):
    provider = serializers.SlugField(max_length=40, help_text="The provider's code")
    first_day = serializers.DateField(help_text="The first KST day, YYYY-MM-DD")
    last_day = serializers.DateField(help_text="The last KST day, inclusive (yesterday at the latest)")


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    day = serializers.DateField()
    changed = serializers.BooleanField()
    busy_gpu_hours = serializers.FloatField()
    covered_gpu_hours = serializers.FloatField()


class TelemetryPullView(APIView):
    """Pull the provider's GPU telemetry for these days from its Prometheus — the address MSIT keeps
    for the provider, never one given here — one delivery per KST day."""

    permission_classes = [IsAuthenticated]
    extra_error_codes = ["404"]

    @extend_schema(request=TelemetryPullSerializer, responses={200: DeliverySerializer(many=True)})
    def post(self, request):
        body = TelemetryPullSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        provider = get_object_or_404(Provider, code=body.validated_data["provider"])
        received = telemetry_pull(actor=request.user, provider=provider,
                                  first_day=body.validated_data["first_day"], last_day=body.validated_data["last_day"])
        data = [{
            "id": r.batch.public_id, "day": timezone.localtime(r.batch.period_start).date(), "changed": r.changed,
            "busy_gpu_hours": round(r.batch.gpu_seconds / 3600, 2),
            "covered_gpu_hours": round(sum(r.batch.details.get("covered_gpu_seconds_by_metric", {}).values()) / 3600, 2),
        } for r in received]
        return Response(DeliverySerializer(data, many=True).data)
