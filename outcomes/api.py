"""The outcome figures over the API (MSIT admins and auditors)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation_portal.api import Pagination, ReadsEverything

from . import store, tasks
from .figures import FIGURES, figure_rows
from .forms import OutcomesRangeForm

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
