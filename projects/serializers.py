from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocation_portal.fields import ApiDateField, ModelSerializer
from gpus.models import Cluster

from .models import Ministry, Project


class MinistrySerializer(ModelSerializer):
    project_count = serializers.IntegerField(read_only=True)
    gpus_awarded = serializers.IntegerField(read_only=True)

    class Meta:
        model = Ministry
        fields = ["code", "name_ko", "name_en", "is_sample", "project_count", "gpus_awarded"]


class MinistryRefSerializer(ModelSerializer):
    class Meta:
        model = Ministry
        fields = ["code", "name_ko", "name_en", "is_sample"]


class ProjectSerializer(ModelSerializer):
    ministry = MinistryRefSerializer(read_only=True)
    gpus_held = serializers.IntegerField(read_only=True, help_text="GPUs the project holds in the ledger now.")
    servers_awarded = serializers.IntegerField(read_only=True)
    is_delayed = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "code", "rank", "ministry", "title_ko", "title_en", "domain", "purpose", "gpus_awarded",
            "servers_awarded", "gpus_held", "planned_start", "expected_start", "actual_start", "end_date",
            "status", "is_delayed", "is_sample",
        ]

    def get_is_delayed(self, obj) -> bool:
        return obj.is_delayed()


class AwardRequestSerializer(serializers.Serializer):
    cluster = serializers.SlugRelatedField(slug_field="code", queryset=Cluster.objects.all())
    server_count = serializers.IntegerField(min_value=1, max_value=1000)
    starts_on = ApiDateField()
    ends_on = ApiDateField(help_text=_("Inclusive."))
    reason = serializers.CharField(max_length=2000)

    def validate(self, attrs):
        if attrs["ends_on"] < attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": [_("The end must not be before the start.")]})
        return attrs


class PlanMonthSerializer(serializers.Serializer):
    month = ApiDateField(help_text=_("The first day of the month."))
    planned_gpu_hours = serializers.DecimalField(max_digits=12, decimal_places=1, min_value=0)

    def validate_month(self, value):
        if value.day != 1:
            raise serializers.ValidationError(_("Use the first day of the month."))
        return value


class StartSerializer(serializers.Serializer):
    started_on = ApiDateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ExpectedStartSerializer(serializers.Serializer):
    expected_start = ApiDateField()
    reason = serializers.CharField(max_length=2000)


class GpuRequestSerializer(serializers.Serializer):
    servers = serializers.IntegerField(min_value=1, max_value=100)
    reason = serializers.CharField(max_length=2000)
