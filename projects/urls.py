from django.urls import path

from . import views

urlpatterns = [
    path("programme/", views.programme_overview, name="programme"),
    path("projects/", views.project_list_view, name="project-list"),
    path("projects/<str:code>/", views.project_detail, name="project-detail"),
    path("projects/<str:code>/award/", views.project_award, name="project-award"),
    path("projects/<str:code>/allocations/<uuid:allocation_id>/release/", views.project_release, name="project-release"),
    path("projects/<str:code>/plan/", views.project_plan, name="project-plan"),
    path("projects/<str:code>/start/", views.project_start, name="project-start"),
    path("projects/<str:code>/expected-start/", views.project_expected_start, name="project-expected-start"),
    path("projects/<str:code>/gpu-request/", views.gpu_request_new, name="project-gpu-request"),
    path("ministries/", views.ministry_list_view, name="ministry-list"),
    path("ministries/<slug:code>/", views.ministry_detail, name="ministry-detail"),
]
