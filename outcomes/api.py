"""The outcome figures over the API (MSIT admins and auditors)."""

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal.api import IsMsitAdmin, Pagination, ReadsEverything
from allocation_portal.fields import ApiMonthField as MonthField
from allocation_portal.messages import render

from . import services, simulation, store, tasks
from .figures import FIGURES, figure_rows
from .forms import OutcomesRangeForm
from .models import SimulationRun

RANGE = [
    OpenApiParameter("from", OpenApiTypes.STR, description="YYYY-MM; default the programme's first month"),
    OpenApiParameter("to", OpenApiTypes.STR, description="YYYY-MM; default this month"),
]


def _form(request, *, figure_required: bool = False) -> OutcomesRangeForm:
    form = OutcomesRangeForm(request.query_params, figure_required=figure_required)
    if not form.is_valid():
        raise ValidationError({form.add_prefix(name): errors for name, errors in form.errors.items()})
    return form


class OutcomesView(APIView):
    """The programme's outcome figures per month and over the range: GPU-hours awarded, held by
    started projects, idle, in the reserve, suspended, used by owners (reported and measured), lent;
    the shares used-or-lent and idle-recovered; lending speed; recalls; reclaimed servers; loans by
    organisation type and region and the top five organisations' share."""

    permission_classes = [ReadsEverything]

    @extend_schema(parameters=RANGE, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        form = _form(request)
        outcomes = store.outcomes(scope=form.scope)
        tasks.keep_soon(outcomes)
        return Response(outcomes.to_dict())


class FigureRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField(help_text="What the row adds to the figure, in the figure's unit")
    url = serializers.CharField()
    month = serializers.CharField(allow_null=True, help_text="YYYY-MM, or null for a row of the whole range")
    detail = serializers.CharField()

    def to_representation(self, instance):
        return instance.to_dict()


class OutcomeRowsView(generics.ListAPIView):
    """The rows one figure counts over the range (they add up to it), 50 to a page."""

    permission_classes = [ReadsEverything]
    serializer_class = FigureRowSerializer
    pagination_class = Pagination
    filter_backends: list = []

    @extend_schema(parameters=[*RANGE, OpenApiParameter("figure", OpenApiTypes.STR, enum=list(FIGURES), required=True)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        form = _form(self.request, figure_required=True)
        return figure_rows(form.cleaned_data["figure"], scope=form.scope) if form.scope else []


class ForecastView(APIView):
    """The next three months: servers whose projects are expected to start and the loans on them
    that will be recalled, idle GPUs not yet requested, requests waiting, the reserve, and what MSIT
    can still lend."""

    permission_classes = [ReadsEverything]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        forecast, as_of = store.forecast()
        return Response({**forecast.to_dict(), "as_of": as_of.isoformat()})


# --- What-if simulations ----------------------------------------------------------------------

class SimulationRequestSerializer(serializers.Serializer):
    first_month = MonthField(required=False, help_text="YYYY-MM; default 2026-04")
    months = serializers.IntegerField(min_value=1, max_value=simulation.MOST_MONTHS, default=12)
    seed = serializers.IntegerField(min_value=0, max_value=services.SEED_MAX, default=1)
    behaviour = serializers.DictField(required=False, default=dict,
                                      help_text="Behaviour fields to change from the defaults (see manage.py simulate_programme --help)")
    policy_b = serializers.DictField(required=False, default=dict,
                                     help_text="Policy B: the policy fields that differ from the policy in force (A)")


class SimulationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    first_month = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = SimulationRun
        fields = ["id", "state", "progress", "requested_by", "first_month", "months", "seed", "behaviour", "policy_a",
                  "policy_b", "policy_b_changes", "result_a", "result_b", "error", "created_at", "started_at", "finished_at"]

    def get_first_month(self, run) -> str:
        return f"{run.first_month:%Y-%m}"

    def get_error(self, run) -> dict | None:
        """The error in both languages, or null."""
        return {"ko": render(run.error, "ko"), "en": render(run.error, "en")} if run.error else None


class SimulationsView(APIView):
    """What-if simulations. POST queues one (MSIT admins; at most a couple at once): the same
    simulated year under policy A (the policy in force) and policy B (`policy_b`'s changes)."""

    permission_classes = [ReadsEverything]

    @extend_schema(request=SimulationRequestSerializer, responses={202: SimulationSerializer})
    def post(self, request):
        if not request.user.is_msit_admin:
            self.permission_denied(request, message=IsMsitAdmin.message)
        body = SimulationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        run = services.simulation_start(
            actor=request.user, first_month=data.get("first_month") or dt.date(2026, 4, 1), month_count=data["months"],
            seed=data["seed"], behaviour=data["behaviour"], policy_changes=data["policy_b"])
        tasks.simulation_enqueue(run)
        run.refresh_from_db()
        return Response(SimulationSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SimulationView(generics.RetrieveAPIView):
    """One simulation: its state, progress and, when done, the figures under each policy."""

    permission_classes = [ReadsEverything]
    serializer_class = SimulationSerializer
    queryset = SimulationRun.objects.select_related("requested_by")
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
