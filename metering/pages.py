"""What metering adds to pages of the floors below it, through the core's page hooks: the borrower's
measured use on a loan's page."""

from __future__ import annotations

from .selectors import measured_for_loan


def loan_measured_context(*, request, loan) -> dict:
    measured = measured_for_loan(loan)
    found = measured.scheduled is not None or measured.busy is not None
    # What the end-of-loan report's GPU-hours start from (the scheduler's figure, else the GPUs').
    figure = measured.scheduled if measured.scheduled is not None else measured.busy
    return {"loan_measured": measured if found else None, "measured_gpu_hours": figure}
