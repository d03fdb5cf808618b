from django.urls import path

from . import views

urlpatterns = [
    path("lending/", views.lending_public, name="lending-public"),
    path("lending/signup/", views.signup, name="lending-signup"),
    path("lending/dashboard/", views.dashboard, name="lending-dashboard"),
    path("lending/organisation/", views.organisation, name="lending-organisation"),
    path("lending/requests/new/", views.request_new, name="lending-request-new"),
    path("lending/requests/<uuid:request_id>/", views.request_detail, name="lending-request"),
    path("lending/requests/<uuid:request_id>/edit/", views.request_edit, name="lending-request-edit"),
    path("lending/requests/<uuid:request_id>/withdraw/", views.request_withdraw, name="lending-request-withdraw"),
    path("lending/requests/<uuid:request_id>/review/<slug:step>/", views.request_review, name="lending-request-review"),
    path("lending/queue/", views.queue, name="lending-queue"),
    path("lending/loans/", views.loan_list, name="lending-loans"),
    path("lending/loans/<uuid:loan_id>/", views.loan_detail, name="lending-loan"),
    path("lending/loans/<uuid:loan_id>/<slug:step>/", views.loan_action, name="lending-loan-action"),
]
