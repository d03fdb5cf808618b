"""The calls API: calls with their rounds, rules, criteria and capacity (public, as the pages), and
MSIT's action adding a round, through the same service as the page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from allocation_portal.api import AuditorsOnlyRead, IsMsitAdmin
from allocation_portal.fields import ApiDateField, ApiStoredTextField, ModelSerializer
from allocation_portal.models import User
from lending.models import Organisation

from . import services, services_review
from .access import assignments_for_reviewer, proposals_for_user
from .models import Assignment, Call, Capacity, Criterion, Proposal, Round, Stage
from .selectors import call_list, get_call, proposal_reviews


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


class CallStageSerializer(ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Stage
        fields = ["code", "position", "name", "name_ko", "name_en", "starts_on", "ends_on"]


class CallSerializer(ModelSerializer):
    name = serializers.CharField(read_only=True)
    eligible_ministries = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    shares = serializers.JSONField(read_only=True)

    class Meta:
        model = Call
        fields = ["code", "kind", "name", "name_ko", "name_en", "opens_on", "round_days", "eligible_kinds",
                  "eligible_regions", "eligible_ministries", "cap_gpu_months", "shares", "limit_per_organisation",
                  "prefers_non_capital", "decided_on", "announced_on", "is_sample"]


class CallDetailSerializer(CallSerializer):
    rounds = CallRoundSerializer(many=True, read_only=True)
    criteria = CallCriterionSerializer(many=True, read_only=True)
    capacity = CallCapacitySerializer(many=True, read_only=True)
    stages = CallStageSerializer(many=True, read_only=True)
    summary = serializers.CharField(read_only=True)

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "summary", "rounds", "criteria", "capacity", "stages"]


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


class ReviewScoreSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.code")
    score = serializers.IntegerField()
    comment = serializers.CharField()


class ReviewAssignmentSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    proposal = serializers.UUIDField(source="proposal.public_id", read_only=True)
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    scores = ReviewScoreSerializer(many=True, read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "proposal", "reviewer", "due_on", "submitted_at", "scores"]


class CallProposalSerializer(ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    call = serializers.CharField(source="call.code", read_only=True)
    round = serializers.IntegerField(source="round.number", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True, default=None, allow_null=True)
    ministry = serializers.CharField(source="ministry.code", read_only=True, default=None, allow_null=True)
    loan_request = serializers.UUIDField(source="loan_request.public_id", read_only=True, default=None,
                                         allow_null=True)
    project = serializers.CharField(source="project.code", read_only=True, default=None, allow_null=True)
    stage_reached = serializers.CharField(source="stage_reached.code", read_only=True, default=None, allow_null=True)
    decision_reason = ApiStoredTextField()  # the committee's reason as typed, or a loaded record's in the reader's language

    class Meta:
        model = Proposal
        fields = ["id", "call", "round", "title", "title_en", "organisation", "ministry", "loan_request", "domain",
                  "summary", "starts_on", "gpu_model", "gpu_count", "months", "state", "stage_reached", "rank",
                  "decision_reason", "revision_note", "award_gpus", "project", "submitted_at", "is_sample"]


class CallProposalDetailSerializer(CallProposalSerializer):
    reviews = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()

    class Meta(CallProposalSerializer.Meta):
        fields = [*CallProposalSerializer.Meta.fields, "figures", "reviews"]

    def _reviews(self, obj):
        if not hasattr(obj, "_reviews"):
            obj._reviews = proposal_reviews(obj)
        return obj._reviews

    def _sees_reviews(self) -> bool:
        # A ministry official sees their proposal and its decision, not who reviewed it.
        user = getattr(self.context.get("request"), "user", None)
        return bool(user and (user.reads_everything or user.is_reviewer))

    @extend_schema_field(ReviewAssignmentSerializer(many=True))
    def get_reviews(self, obj):
        if not self._sees_reviews():
            return []
        return ReviewAssignmentSerializer(self._reviews(obj)[0], many=True).data

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_figures(self, obj):
        if not self._sees_reviews():
            return None
        figures = self._reviews(obj)[1]
        return {"reviews": figures.reviews, "needed": figures.needed,
                "score": str(figures.score) if figures.score is not None else None,
                "spread": str(figures.spread) if figures.spread is not None else None}


class AssignInputSerializer(serializers.Serializer):
    reviewer = serializers.CharField(max_length=150)
    due_on = ApiDateField(required=False, allow_null=True)


class DecideInputSerializer(serializers.Serializer):
    selected = serializers.BooleanField()
    rank = serializers.IntegerField(min_value=1, max_value=10000, required=False, allow_null=True)
    reason = serializers.CharField(max_length=2000)
    award_gpus = serializers.IntegerField(min_value=8, max_value=100000, required=False, allow_null=True,
                                          help_text="A national proposal's award (whole servers); empty: as asked.")
    stage = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                  help_text="Not selected: the code of the stage it ended at (empty: the last).")


class NationalProposalInputSerializer(serializers.Serializer):
    call = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=200)
    title_en = serializers.CharField(max_length=250, required=False, allow_blank=True)
    domain = serializers.ChoiceField(choices=Proposal._meta.get_field("domain").choices)
    summary = serializers.CharField(max_length=4000)
    gpu_model = serializers.ChoiceField(choices=Proposal._meta.get_field("gpu_model").choices)
    gpu_count = serializers.IntegerField(min_value=8, max_value=100000)
    months = serializers.IntegerField(min_value=1, max_value=36)
    starts_on = ApiDateField()


class AdvanceInputSerializer(serializers.Serializer):
    stage = serializers.SlugField(max_length=40)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RevisionInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class ScoreInputSerializer(serializers.Serializer):
    criterion = serializers.CharField(max_length=40)
    score = serializers.IntegerField(min_value=0, max_value=100)
    comment = serializers.CharField(max_length=2000)


class ReviewInputSerializer(serializers.Serializer):
    scores = ScoreInputSerializer(many=True, max_length=20)


class ConflictInputSerializer(serializers.Serializer):
    registration_number = serializers.CharField(max_length=30)
    relationship = serializers.CharField(max_length=300)


class IsReviewerOrReader(permissions.BasePermission):
    """Proposals: MSIT admins and auditors (all), reviewers (assigned), officials (their ministry's;
    they also propose)."""

    message = _("Only MSIT admins, auditors, expert reviewers and ministry officials see proposals.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if view.action == "create":
            return user.is_official
        return bool(user.reads_everything or user.is_reviewer or user.is_official)


class IsReviewer(permissions.BasePermission):
    message = _("Only expert reviewers do this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_reviewer)


class CallProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Proposals: MSIT admins and auditors see all, a reviewer only those assigned to them, a ministry
    official their ministry's national proposals (others are 404). Officials propose national
    projects (`POST`); MSIT assigns reviewers, asks for revision and records the committee's decision
    (a selected national proposal becomes its ministry's project with its award)."""

    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    permission_classes = [IsReviewerOrReader, AuditorsOnlyRead]
    filterset_fields = ["state", "gpu_model"]

    def get_queryset(self):
        return proposals_for_user(self.request.user).select_related(
            "call", "round", "organisation", "ministry", "loan_request", "project", "stage_reached").order_by(
            "-submitted_at")

    def get_serializer_class(self):
        return CallProposalSerializer if self.action == "list" else CallProposalDetailSerializer

    def _one(self, proposal, code=status.HTTP_200_OK):
        return Response(CallProposalDetailSerializer(self.get_queryset().get(pk=proposal.pk),
                                                     context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=NationalProposalInputSerializer, responses={201: CallProposalDetailSerializer})
    def create(self, request):
        """A ministry official proposes a national project for their ministry to the call's open round."""
        body = NationalProposalInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        call = Call.objects.filter(code=values.pop("call")).first()
        if call is None:
            raise ValidationError({"call": [_("No call has this code.")]})
        return self._one(services.proposal_national_submit(actor=request.user, call=call, values=values),
                         code=status.HTTP_201_CREATED)

    @extend_schema(request=AssignInputSerializer, responses={201: ReviewAssignmentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def assign(self, request, id=None):
        """Assign a reviewer (refused, with the reason, when they have a conflict of interest)."""
        proposal = self.get_object()
        body = AssignInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reviewer = User.objects.filter(username=body.validated_data["reviewer"]).first()
        if reviewer is None:
            raise ValidationError({"reviewer": [_("No user has this username.")]})
        created = services_review.assignment_create(actor=request.user, proposal=proposal, reviewer=reviewer,
                                                    due_on=body.validated_data.get("due_on"))
        return Response(ReviewAssignmentSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevisionInputSerializer, responses=CallProposalDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def revise(self, request, id=None):
        """Send the proposal back to revise and resubmit."""
        body = RevisionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._one(services_review.proposal_ask_revision(actor=request.user, proposal=self.get_object(),
                                                               note=body.validated_data["note"]))

    @extend_schema(request=AdvanceInputSerializer, responses=CallProposalDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def advance(self, request, id=None):
        """Record that the proposal passed to a later stage of its call's selection (national calls)."""
        body = AdvanceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = self.get_object()
        stage = Stage.objects.filter(call_id=proposal.call_id, code=body.validated_data["stage"]).first()
        if stage is None:
            raise ValidationError({"stage": [_("Name a stage of this call.")]})
        return self._one(services_review.proposal_advance(actor=request.user, proposal=proposal, stage=stage,
                                                          note=body.validated_data["note"]))

    @extend_schema(request=DecideInputSerializer, responses=CallProposalDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsMsitAdmin])
    def decide(self, request, id=None):
        """Record the committee's decision (selected or not, the panel's rank, the reason); a
        selected short-term proposal is offered its GPUs."""
        body = DecideInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        proposal = self.get_object()
        stage = None
        if data.get("stage"):
            stage = Stage.objects.filter(call_id=proposal.call_id, code=data["stage"]).first()
            if stage is None:
                raise ValidationError({"stage": [_("Name a stage of this call.")]})
        decided, _offer = services_review.proposal_decide(actor=request.user, proposal=proposal,
                                                          selected=data["selected"], rank=data.get("rank"),
                                                          reason=data["reason"], award_gpus=data.get("award_gpus"),
                                                          stage=stage)
        return self._one(decided)


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A reviewer's own assignments; `scores` submits the review."""

    serializer_class = ReviewAssignmentSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    permission_classes = [IsReviewer]

    def get_queryset(self):
        return assignments_for_reviewer(self.request.user).select_related("proposal", "reviewer").prefetch_related(
            "scores__criterion").order_by("due_on", "pk")

    @extend_schema(request=ReviewInputSerializer, responses=ReviewAssignmentSerializer)
    @action(detail=True, methods=["post"])
    def scores(self, request, id=None):
        """Score every criterion with a rubric level and a comment."""
        assignment = self.get_object()
        body = ReviewInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scores = {s["criterion"]: (s["score"], s["comment"]) for s in body.validated_data["scores"]}
        services_review.review_submit(actor=request.user, assignment=assignment, scores=scores)
        return Response(ReviewAssignmentSerializer(self.get_queryset().get(pk=assignment.pk)).data)

    @extend_schema(request=ConflictInputSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def conflicts(self, request):
        """Declare a relationship with an organisation (by its registration number)."""
        body = ConflictInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organisation = Organisation.objects.filter(registration_number=body.validated_data["registration_number"]).first()
        if organisation is None:
            raise ValidationError({"registration_number": [_("No organisation has this registration number.")]})
        conflict = services_review.conflict_declare(actor=request.user, organisation=organisation,
                                                    relationship=body.validated_data["relationship"])
        return Response({"organisation": organisation.name, "relationship": conflict.relationship},
                        status=status.HTTP_201_CREATED)
