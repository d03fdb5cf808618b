from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_list_page, name="calls"),
    path("calls/<slug:code>/", views.call_detail, name="call"),
    path("calls/<slug:code>/rounds/", views.call_round_add, name="call-round-add"),
    path("calls/<slug:code>/propose/", views.call_propose, name="call-propose"),
    path("calls/<slug:code>/proposals/", views.proposal_list, name="call-proposals"),
    path("calls/<slug:code>/proposals/<uuid:proposal_id>/", views.proposal_detail, name="call-proposal"),
    path("calls/<slug:code>/proposals/<uuid:proposal_id>/<slug:step>/", views.proposal_action,
         name="call-proposal-action"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/conflicts/", views.conflict_declare, name="review-conflict"),
    path("reviews/<uuid:assignment_id>/", views.review_detail, name="review"),
]
