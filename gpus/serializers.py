from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocation_portal.fields import ApiDateField, ApiDateTimeField, ModelSerializer

from .models import Allocation, Cluster, Provider


class ProviderSerializer(ModelSerializer):
    class Meta:
        model = Provider
        fields = ["code", "name_ko", "name_en", "source_note"]


class ClusterSerializer(ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True)
    servers = serializers.IntegerField(source="server_count", read_only=True)
    servers_in_maintenance = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cluster
        fields = ["code", "name", "provider", "gpu_model", "data_centre", "servers", "servers_in_maintenance"]


class CapacitySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    awarded = serializers.IntegerField()
    held_started = serializers.IntegerField()
    idle = serializers.IntegerField()
    reserve = serializers.IntegerField()
    free = serializers.IntegerField()
    maintenance = serializers.IntegerField()
    on_loan = serializers.IntegerField()
    lendable = serializers.IntegerField()


class CapacityQuerySerializer(serializers.Serializer):
    date = ApiDateField(required=False, help_text=_("YYYY-MM-DD; default now"))


class ClusterCapacitySerializer(serializers.Serializer):
    cluster = serializers.CharField(source="cluster.code")
    provider = serializers.CharField(source="cluster.provider.code")
    gpu_model = serializers.CharField(source="cluster.gpu_model")
    capacity = CapacitySerializer()


class CapacityReportSerializer(serializers.Serializer):
    """What /capacity/ answers: the moment, the programme's totals and each cluster's figures."""

    at = serializers.DateTimeField(read_only=True)
    totals = CapacitySerializer()
    clusters = ClusterCapacitySerializer(many=True)


class AllocationSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    cluster = serializers.SlugRelatedField(slug_field="code", read_only=True)
    servers = serializers.SerializerMethodField()
    continues = serializers.SerializerMethodField()
    # In the reader's language (Accept-Language) when the portal wrote them.
    reason = serializers.CharField(source="reason_text", read_only=True)
    release_reason = serializers.CharField(source="release_reason_text", read_only=True)

    class Meta:
        model = Allocation
        fields = [
            "id", "holder_kind", "layer", "project", "cluster", "gpu_count", "servers", "starts_at", "ends_at",
            "planned_ends_at", "reason", "released_at", "release_reason", "continues", "created_at",
        ]

    def get_servers(self, obj) -> list[str]:
        return sorted({row.gpu.server.hostname for row in obj.gpu_rows.all()})

    def get_continues(self, obj) -> str | None:
        return str(obj.parent.public_id) if obj.parent_id else None


class ReleaseRequestSerializer(serializers.Serializer):
    servers = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("Hostnames to release; omit for the whole entry.")
    )
    at = ApiDateTimeField(required=False, help_text=_("When the holding ends; default now."))
    reason = serializers.CharField(max_length=2000)
