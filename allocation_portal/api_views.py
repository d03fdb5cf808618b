import django_filters
from rest_framework import mixins, serializers, viewsets

from .api import ReadsEverything
from .fields import DateTimeFilter, ModelSerializer
from .models import AuditEvent


class AuditEventSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "at", "actor_name", "actor_role", "action", "object_type", "object_id", "object_repr",
            "before", "after", "reason",
        ]


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="startswith")
    object_id = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    since = DateTimeFilter(field_name="at", lookup_expr="gte", help_text="ISO 8601, e.g. 2026-09-01T09:00:00+09:00")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_id", "object_type", "since"]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The audit trail: read-only for MSIT admins and auditors. There is no way to change it."""

    serializer_class = AuditEventSerializer
    permission_classes = [ReadsEverything]
    filterset_class = AuditEventFilter
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    queryset = AuditEvent.objects.order_by("-at", "-id")
