from django.urls import path

from . import views

urlpatterns = [
    path("programme/outcomes/", views.dashboard, name="outcomes"),
    path("programme/outcomes/rows/", views.figure_rows_view, name="outcome-rows"),
]
