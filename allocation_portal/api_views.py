import datetime as dt

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from . import accounts
from .api import IsMsitAdmin, ReadsEverything
from .fields import DateTimeFilter, ModelSerializer
from .models import AuditEvent


class AuditEventSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    # In the reader's language (Accept-Language): the action, the object's type and a reason the portal wrote.
    action_label = serializers.CharField(source="action_text", read_only=True)
    object_type_label = serializers.CharField(source="object_type_text", read_only=True)
    reason = serializers.CharField(source="reason_text", read_only=True)
    object_repr = serializers.CharField(source="object_repr_text", read_only=True)
    actor_role_label = serializers.CharField(source="actor_role_text", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "at", "actor_name", "actor_role", "actor_role_label", "action", "action_label", "object_type", "object_type_label",
            "object_id", "object_repr", "before", "after", "reason",
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


class TokenStatusSerializer(serializers.Serializer):
    user = serializers.CharField(source="user.username", read_only=True)
    user_id = serializers.UUIDField(source="user.public_id", read_only=True)
    created = serializers.DateTimeField(read_only=True)
    expires = serializers.SerializerMethodField()

    def get_expires(self, token) -> dt.datetime:
        return accounts.token_expires_at(token)


class IssuedTokenSerializer(TokenStatusSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once: keep it.")


class OwnTokenView(APIView):
    """The caller's API token. GET: when it was issued and expires (404 when there is none).
    POST: issue one, or renew it (a new key with a new lifetime; the old key stops working).
    DELETE: revoke it."""

    @extend_schema(responses=TokenStatusSerializer)
    def get(self, request):
        token = Token.objects.select_related("user").filter(user=request.user).first()
        if token is None:
            raise NotFound(_("You have no API token."))
        return Response(TokenStatusSerializer(token).data)

    @extend_schema(request=None, responses={201: IssuedTokenSerializer})
    def post(self, request):
        token = accounts.token_issue(actor=request.user, user=request.user)
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not accounts.token_revoke(actor=request.user, user=request.user):
            raise NotFound(_("You have no API token."))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Every user's API token, for MSIT admins: who, issued and expires; DELETE revokes a user's
    token (by the user's id)."""

    serializer_class = TokenStatusSerializer
    permission_classes = [IsMsitAdmin]
    filter_backends = []
    lookup_field = "user__public_id"
    lookup_url_kwarg = "user_id"
    queryset = Token.objects.select_related("user").order_by("-created")

    def perform_destroy(self, instance):
        accounts.token_revoke(actor=self.request.user, user=instance.user)
