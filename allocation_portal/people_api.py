"""People in the API: the list (scoped like the pages), inviting, and the actions on a person
(change, deactivate, reactivate, reinvite). The services in people.py decide."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from . import people
from .api import AuditorsOnlyRead, OptionalReasonSerializer
from .fields import ModelSerializer
from .models import Role, User

_ministry = User._meta.get_field("ministry").related_model
_organisation = User._meta.get_field("organisation").related_model
_provider = User._meta.get_field("provider").related_model


class SeesPeople(permissions.BasePermission):
    message = _("Your role has no People area.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.sees_people)


class PersonSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    ministry = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    organisation = serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    # The open invitation's expiry (people.with_status), null when there is none.
    invitation_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "role", "role_label", "ministry", "organisation", "provider",
                  "manages_members", "is_active", "status", "invitation_expires_at", "last_login", "date_joined"]

    def get_status(self, person) -> str:
        return people.status_of(person)


class ScopeSerializer(serializers.Serializer):
    """Role and scope as codes: the ministry's code, the organisation's id, the provider's code.
    Officials and an organisation's managing member may leave them out (their own is used)."""

    role = serializers.ChoiceField(choices=Role.choices, required=False, allow_null=True)
    ministry = serializers.SlugRelatedField(slug_field="code", queryset=_ministry.objects.all(), required=False,
                                            allow_null=True)
    organisation = serializers.SlugRelatedField(slug_field="public_id", queryset=_organisation.objects.all(),
                                                required=False, allow_null=True)
    provider = serializers.SlugRelatedField(slug_field="code", queryset=_provider.objects.all(), required=False,
                                            allow_null=True)
    manages_members = serializers.BooleanField(required=False, default=False)


class InviteSerializer(ScopeSerializer):
    email = serializers.EmailField(max_length=people.EMAIL_MAX)
    display_name = serializers.CharField(max_length=people.NAME_MAX, required=False, allow_blank=True, default="")


class ChangeSerializer(ScopeSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PersonFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    ministry = django_filters.CharFilter(field_name="ministry__code", max_length=40)
    status = django_filters.ChoiceFilter(choices=people.PersonStatus.choices, method="filter_status")
    q = django_filters.CharFilter(method="filter_q", max_length=100)

    class Meta:
        model = User
        fields = ["role", "ministry", "status", "q"]

    def filter_status(self, queryset, name, value):
        if value == people.PersonStatus.ACTIVE:
            return queryset.filter(is_active=True)
        if value == people.PersonStatus.INVITED:
            return queryset.filter(is_active=False, invitation_expires_at__isnull=False)
        return queryset.filter(is_active=False, invitation_expires_at__isnull=True)

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value) | Q(email__icontains=value))


def _scope(data: dict) -> dict:
    return {name: data.get(name) for name in ("role", "ministry", "organisation", "provider")} | {
        "manages_members": data.get("manages_members", False)}


class PeopleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People the caller may see: MSIT admins and auditors everyone, officials their ministry's
    officials, applicants their organisation's members. POST invites a person by e-mail (201);
    the actions change the role and scope, deactivate (sessions and API token end at once),
    reactivate, or send a new invitation."""

    serializer_class = PersonSerializer
    permission_classes = [SeesPeople, AuditorsOnlyRead]
    filterset_class = PersonFilter
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return people.with_status(people.people_for(self.request.user)) \
            .select_related("ministry", "organisation", "provider").order_by("role", "display_name", "username")

    def get_object(self):
        person, may_manage = people.person_for(self.request.user, self.kwargs["id"])
        if self.request.method not in permissions.SAFE_METHODS and not may_manage:
            raise PermissionDenied(_("You cannot manage this person."))
        return person

    def _answer(self, person, code=status.HTTP_200_OK):
        """The person as they are now (everyone the caller manages is in what they see)."""
        person, _may_manage = people.person_for(self.request.user, person.public_id)
        return Response(PersonSerializer(person).data, status=code)

    @extend_schema(request=InviteSerializer, responses={201: PersonSerializer})
    def create(self, request):
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        invitation = people.person_invite(actor=request.user, email=data["email"], display_name=data["display_name"],
                                          **_scope(data))
        return self._answer(invitation.user, status.HTTP_201_CREATED)

    @extend_schema(request=ChangeSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def change(self, request, id=None):
        person = self.get_object()
        body = ChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        scope = _scope(data)
        if scope["role"] is None:
            scope["role"] = person.role
        people.person_change(actor=request.user, person=person, reason=data["reason"], **scope)
        return self._answer(person)

    @extend_schema(request=OptionalReasonSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, id=None):
        person = self.get_object()
        body = OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        people.person_deactivate(actor=request.user, person=person, reason=body.validated_data["reason"])
        return self._answer(person)

    @extend_schema(request=OptionalReasonSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, id=None):
        person = self.get_object()
        body = OptionalReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        people.person_reactivate(actor=request.user, person=person, reason=body.validated_data["reason"])
        return self._answer(person)

    @extend_schema(request=None, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def reinvite(self, request, id=None):
        person = self.get_object()
        people.invitation_resend(actor=request.user, person=person)
        return self._answer(person)
