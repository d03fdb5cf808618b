from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocation_portal.fields import ApiDateTimeField, ApiStoredTextField, ModelSerializer
from allocation_portal.fields import ApiMonthField as MonthField
from allocation_portal.uploads import ApiUploadField

from .models import COMPLIANCE_ITEMS, Compliance, Notification, UsageReport, UsageReportVersion


class ReportVersionSerializer(ModelSerializer):
    actor = serializers.StringRelatedField()
    note = ApiStoredTextField()

    class Meta:
        model = UsageReportVersion
        fields = ["version", "event", "state", "at", "actor", "note", "data"]


class ReportSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    month = MonthField(read_only=True)
    is_sample = serializers.BooleanField(source="project.is_sample", read_only=True)
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = UsageReport
        fields = [
            "id", "project", "month", "state", "version", "gpu_hours_used", "peak_gpus_busy", "within_purpose",
            *COMPLIANCE_ITEMS, "notes", "evidence", "submitted_at", "decided_at", "return_reason", "is_sample",
        ]

    def get_evidence(self, obj) -> str:
        return obj.evidence.name if obj.evidence else ""


class ReportDetailSerializer(ReportSerializer):
    versions = ReportVersionSerializer(many=True, read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "versions"]


class ReportValuesSerializer(serializers.Serializer):
    gpu_hours_used = serializers.DecimalField(max_digits=12, decimal_places=1)
    peak_gpus_busy = serializers.IntegerField()
    within_purpose = serializers.BooleanField(allow_null=True)
    ai_basic_act = serializers.ChoiceField(choices=Compliance.choices)
    personal_information = serializers.ChoiceField(choices=Compliance.choices)
    training_data_copyright = serializers.ChoiceField(choices=Compliance.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    evidence = ApiUploadField(required=False)
    submit = serializers.BooleanField(required=False, default=False, help_text=_("Submit now, not only save a draft."))


class ReportCreateSerializer(ReportValuesSerializer):
    project = serializers.CharField(help_text=_("Project code"))
    month = MonthField()


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class UploadSerializer(serializers.Serializer):
    file = ApiUploadField()
    submit = serializers.BooleanField(required=False, default=True)


class FiguresSerializer(serializers.Serializer):
    """Plan vs actual figures; decimals as strings, None where a ratio has no denominator."""

    allocated_gpu_hours = serializers.CharField(allow_null=True)
    planned_gpu_hours = serializers.CharField(allow_null=True)
    used_gpu_hours = serializers.CharField(allow_null=True)
    utilisation = serializers.CharField(allow_null=True)
    plan_ratio = serializers.CharField(allow_null=True)


class BoardProjectSerializer(serializers.Serializer):
    project = serializers.CharField()
    ministry = serializers.CharField()
    is_sample = serializers.BooleanField()
    status = serializers.CharField()
    report = serializers.UUIDField(allow_null=True)
    month = FiguresSerializer()
    cumulative = FiguresSerializer()
    scheduled_gpu_hours = serializers.CharField(allow_null=True, help_text="Slurm accounting (its jobs' GPU time)")
    busy_gpu_hours = serializers.CharField(allow_null=True, help_text="GPU telemetry (the GPUs' active time)")
    busy_coverage = serializers.CharField(allow_null=True, help_text="Share of allocated GPU-hours with telemetry data")
    measured_gpu_hours = serializers.CharField(allow_null=True, help_text="Measured use the report is compared with")
    measured_source = serializers.CharField(help_text="sacct, telemetry, or empty when the data is incomplete")
    flags = serializers.ListField(child=serializers.CharField())


class BoardSerializer(serializers.Serializer):
    month = MonthField()
    counts = serializers.DictField(child=serializers.IntegerField())
    totals = FiguresSerializer()
    cumulative = FiguresSerializer()
    projects = BoardProjectSerializer(many=True)
    as_of = ApiDateTimeField(allow_null=True, help_text=(
        "For a month under way or ahead: when its figures were computed (at most ten minutes ago); null for an ended month"))


class UsageMonthSerializer(serializers.Serializer):
    month = MonthField()
    status = serializers.CharField()
    report = serializers.UUIDField(allow_null=True)
    month_figures = FiguresSerializer()
    cumulative = FiguresSerializer()


class NotificationSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    # In the reader's language (Accept-Language).
    title = serializers.CharField(source="title_text", read_only=True)
    body = serializers.CharField(source="body_text", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, help_text=_("Omit to mark all read."))
