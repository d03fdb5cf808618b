from django.urls import path

from . import views

urlpatterns = [
    path("metering/", views.metering, name="metering"),
]
