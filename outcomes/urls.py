from django.urls import path

from . import views

urlpatterns = [
    path("programme/outcomes/", views.dashboard, name="outcomes"),
    path("programme/outcomes/rows/", views.figure_rows_view, name="outcome-rows"),
    # The status board's monthly report, as a document (the board is monitoring's; the report reads the outcomes too).
    path("monitoring/board/report.pdf", views.board_report_pdf, name="board-report"),
    path("programme/outcomes/simulations/", views.simulations, name="outcome-simulations"),
    path("programme/outcomes/simulations/<uuid:public_id>/", views.simulation_detail, name="outcome-simulation"),
]
