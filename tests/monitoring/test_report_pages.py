"""The report pages an official uses: which month "report a month's use" opens, changing and
submitting again a draft, returned or accepted report through the form (every version kept), and
the limits and error summary the form shows."""

import datetime as dt
from decimal import Decimal

import pytest

from monitoring.models import ReportState, UsageReport
from monitoring.services import report_accept, report_return, report_save
from tests.monitoring.conftest import AUG, values

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "gpu_hours_used": "9000", "peak_gpus_busy": "16", "within_purpose": "yes", "ai_basic_act": "yes",
        "personal_information": "na", "training_data_copyright": "yes", "notes": "", "submit": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submitted(world, month=AUG, hours="9000"):
    return report_save(actor=world.official, project=world.project_a, month=month, submit=True,
                       values=values(gpu_hours_used=Decimal(hours)))


@pytest.mark.parametrize("state", ["draft", "returned", "accepted"])
def test_it_changes_and_submits_again_a_report_through_the_form(world, client_for, clock, state):
    report = report_save(actor=world.official, project=world.project_a, month=AUG, values=values(),
                         submit=state != "draft")
    if state == "returned":
        report_return(actor=world.admin, report=report, reason="Check the hours")
    elif state == "accepted":
        report_accept(actor=world.admin, report=report)
    client = client_for(world.official)
    page = client.get(f"/reports/{report.public_id}/edit/")
    assert page.status_code == 200 and 'value="2026-08"' in page.content.decode()
    # The disabled month field is not posted by the browser: the page still knows the month.
    response = client.post(f"/reports/{report.public_id}/edit/", {**form_data(gpu_hours_used="9500"), "note": "fixed"})
    assert response.status_code == 302, response.content.decode()[:2000]
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED and report.gpu_hours_used == Decimal("9500.0")
    detail = client.get(f"/reports/{report.public_id}/").content.decode()
    versions = detail[detail.index('data-testid="versions"'):]
    assert "9,000.0" in versions and "9,500.0" in versions
    assert report.versions.count() >= 2


def test_a_returned_report_may_be_saved_again_as_a_draft_first(world, client_for, clock):
    report = submitted(world)
    report_return(actor=world.admin, report=report, reason="Check")
    client = client_for(world.official)
    data = form_data(gpu_hours_used="9100")
    data.pop("submit")
    assert client.post(f"/reports/{report.public_id}/edit/", {**data, "save": "1"}).status_code == 302
    report.refresh_from_db()
    assert report.gpu_hours_used == Decimal("9100.0") and report.state == ReportState.RETURNED


def test_the_edit_form_shows_errors_with_a_summary_linking_to_each_field(world, client_for, clock):
    report = report_save(actor=world.official, project=world.project_a, month=AUG, values=values())
    client = client_for(world.official)

    def summary(response):
        page = response.content.decode()
        assert response.status_code == 400
        start = page.index('data-testid="error-summary"')
        return page[start:page.index("</div>", start)]

    # The form's own checks (a checklist item unanswered, a figure missing) ...
    first = summary(client.post(f"/reports/{report.public_id}/edit/", form_data(gpu_hours_used="", ai_basic_act=None)))
    assert 'href="#id_ai_basic_act_0"' in first and "Answer this checklist item" in first
    assert 'href="#id_gpu_hours_used"' in first and "2 items" in first and "Enter the GPU-hours used" in first
    # ... and the service's, against the ledger.
    second = summary(client.post(f"/reports/{report.public_id}/edit/", form_data(peak_gpus_busy="40")))
    assert 'href="#id_peak_gpus_busy"' in second and "16 GPUs the project held" in second


def test_the_form_shows_the_limits_it_checks(world, client_for, clock):
    page = client_for(world.official).get(f"/projects/{world.project_a.code}/reports/new/?month=2026-08").content.decode()
    # Project A holds 2 servers (16 GPUs) all August: 31 days x 24 h x 16.
    assert "At most 11,904.0 GPU-hours" in page and "2026-08" in page
    assert "At most 16 GPUs" in page


def test_the_new_report_opens_the_month_that_is_due(world, client_for, clock):
    # 2026-09-10: August is due (on 09-05, so overdue); April to July are overdue too.
    for month in (dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)):
        submitted(world, month=month, hours="100")
    client = client_for(world.official)
    page = client.get(f"/projects/{world.project_a.code}/reports/new/")
    assert page.status_code == 200 and 'value="2026-08"' in page.content.decode()
    submitted(world, month=AUG)
    # August is in: nothing is due, so the page does not open August's submitted report; it asks.
    page = client.get(f"/projects/{world.project_a.code}/reports/new/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="report-months"' in body and "Choose the month to report" in body
    assert 'name="month" value' not in body.replace('name="month" value=""', "")


def test_the_new_report_opens_an_outstanding_draft_or_returned_report(world, client_for, clock):
    for month in (dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)):
        submitted(world, month=month, hours="100")
    report = submitted(world)
    report_return(actor=world.admin, report=report, reason="Check")
    response = client_for(world.official).get(f"/projects/{world.project_a.code}/reports/new/")
    assert response.status_code == 302 and response.url == f"/reports/{report.public_id}/edit/"


def test_a_submitted_month_opens_to_read_not_to_change(world, client_for, clock):
    report = submitted(world)
    client = client_for(world.official)
    response = client.get(f"/projects/{world.project_a.code}/reports/new/?month=2026-08")
    assert response.status_code == 302 and response.url == f"/reports/{report.public_id}/"
    assert client.get(f"/reports/{report.public_id}/edit/").url == f"/reports/{report.public_id}/"
    assert UsageReport.objects.get().state == ReportState.SUBMITTED


def picker(page: str) -> str:
    start = page.index('data-testid="report-months"')
    return page[start:page.index("</summary>", start)]


@pytest.mark.parametrize("month", ["", "2026-8x", "2026-12", "2026-07"])
def test_after_a_bad_month_the_page_says_which_months_are_still_to_report_and_keeps_its_limits(world, client_for,
                                                                                               clock, month):
    # 2026-09-10: April to July are in; August is the month to report, and the page opens it.
    for m in (dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)):
        submitted(world, month=m, hours="100")
    client = client_for(world.official)
    url = f"/projects/{world.project_a.code}/reports/new/"
    before = client.get(url).content.decode()
    assert 'value="2026-08"' in before and 'data-testid="limit-gpu_hours_used"' in before
    response = client.post(url, {**form_data(), "month": month})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Every finished month has been reported" not in page
    assert "Still to report: 2026-08." in picker(page)
    assert 'data-testid="report-months" open' in page
    # The limits the page showed before the error are still beside the fields.
    assert "At most 11,904.0 GPU-hours: what the project held in 2026-08" in page
    assert "At most 16 GPUs: the GPUs the project held in 2026-08" in page


def test_the_month_picker_says_so_when_no_month_has_ended_yet(world, client_for, clock):
    from tests import factories as f

    project = f.make_project(world.ministry_a, started=True, code="PA-009", planned_start=dt.date(2026, 9, 1))
    page = client_for(world.official).get(f"/projects/{project.code}/reports/new/").content.decode()
    summary = picker(page)
    assert "No month has ended since the project started (2026-09-01)" in summary
    assert "Every finished month has been reported" not in summary


@pytest.mark.parametrize("hours, peak", [("abc", "30"), ("1e308", "99999999999999999999"), ("", "30")])
def test_the_form_shows_every_fields_error_at_once(world, client_for, clock, hours, peak):
    # Project A holds 24 GPUs awarded, 16 of them (two servers) in August.
    response = client_for(world.official).post(
        f"/projects/{world.project_a.code}/reports/new/",
        {**form_data(gpu_hours_used=hours, peak_gpus_busy=peak, ai_basic_act=None), "month": "2026-08"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert page.count('class="errorlist"') >= 3, page
    start = page.index('data-testid="error-summary"')
    summary = page[start:page.index("</div>", start)]
    assert 'href="#id_gpu_hours_used"' in summary and 'href="#id_peak_gpus_busy"' in summary
    assert "More than the 16 GPUs the project held in 2026-08" in summary
    assert 'href="#id_ai_basic_act_0"' in summary
    assert not UsageReport.objects.exists()


def test_the_edit_form_shows_every_fields_error_at_once(world, client_for, clock):
    report = report_save(actor=world.official, project=world.project_a, month=AUG, values=values())
    response = client_for(world.official).post(f"/reports/{report.public_id}/edit/",
                                               form_data(gpu_hours_used="abc", peak_gpus_busy="30"))
    page = response.content.decode()
    assert response.status_code == 400 and "More than the 16 GPUs the project held in 2026-08" in page
    assert "At most 11,904.0 GPU-hours" in page


def test_a_month_that_has_a_report_is_refused_with_the_other_errors(world, client_for, clock):
    submitted(world)
    response = client_for(world.official).post(f"/projects/{world.project_a.code}/reports/new/",
                                               {**form_data(peak_gpus_busy="30"), "month": "2026-08"})
    page = response.content.decode()
    assert response.status_code == 400 and "exists already" in page
    assert "More than the 16 GPUs the project held in 2026-08" in page
    assert UsageReport.objects.get().gpu_hours_used == Decimal("9000.0")
