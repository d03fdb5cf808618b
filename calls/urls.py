from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_list_page, name="calls"),
    path("calls/<slug:code>/", views.call_detail, name="call"),
    path("calls/<slug:code>/rounds/", views.call_round_add, name="call-round-add"),
]
