"""An official's journeys in the browser: resubmitting a returned report through the page (both
versions stay visible), the month "report a month's use" opens, the limits and the error summary
of the form, and the plan page's numbers."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from allocation_portal import months
from allocation_portal.models import Role
from monitoring.models import Compliance, UsageReport
from monitoring.services import report_return, report_save
from projects.models import UsagePlan
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

VALUES = {
    "gpu_hours_used": Decimal("8000"), "peak_gpus_busy": 14, "within_purpose": True, "ai_basic_act": Compliance.YES,
    "personal_information": Compliance.NOT_APPLICABLE, "training_data_copyright": Compliance.YES, "notes": "",
}


@pytest.fixture
def kma():
    ministry = f.make_ministry("kma", name_ko="기상청")
    start = months.add_months(months.current(), -2)
    project = f.make_project(ministry, started=True, code="NAI-2026-04", gpus=16, planned_start=start,
                             end_date=dt.date(2027, 12, 31))
    f.award(project, f.make_cluster(servers=2).servers.all(), start=start, end=dt.date(2028, 1, 1))
    official = f.make_user(Role.OFFICIAL, username="kma.official", ministry=ministry)
    admin = f.make_user(Role.ADMIN, username="msit.admin")
    return project, official, admin


def test_an_official_resubmits_a_returned_report_from_the_page(page, login, kma):
    project, official, admin = kma
    last_month = months.add_months(months.current(), -1)
    report = report_save(actor=official, project=project, month=last_month, values=VALUES, submit=True)
    report_return(actor=admin, report=report, reason="사용 시간을 확인해 주세요")

    login("kma.official", f.PASSWORD)
    page.goto(f"/reports/{report.public_id}/")
    assert "사용 시간을 확인해 주세요" in page.inner_text("main")
    page.click("main a.button:text-is('수정')")
    assert page.locator("#id_month").is_disabled()
    page.fill("#id_gpu_hours_used", "8500")
    page.fill("#id_note", "스케줄러 집계 다시 확인")
    page.click("button[name=submit]")
    assert page.locator("[data-testid=report-state]").inner_text() == "제출"
    assert page.locator("[data-testid=report-hours]").inner_text() == "8,500.0"
    versions = page.locator("[data-testid=versions] tbody tr")
    assert versions.count() == 3
    text = page.inner_text("[data-testid=versions]")
    assert "8,000.0" in text and "8,500.0" in text and "스케줄러 집계 다시 확인" in text
    assert "반려" in text and "returned" not in text  # each version says what happened, in Korean
    assert UsageReport.objects.get().state == "submitted"


def test_report_a_month_never_opens_a_submitted_report(page, login, kma):
    project, official, _admin = kma
    for back in (2, 1):
        report_save(actor=official, project=project, month=months.add_months(months.current(), -back), values=VALUES,
                    submit=True)
    login("kma.official", f.PASSWORD)
    page.goto(f"/projects/{project.code}/")
    page.click("[data-testid=report-link]")
    expect(page).to_have_url(re.compile("/reports/new/"))
    assert page.locator("#id_month").input_value() == ""
    picker = page.locator("[data-testid=report-months]")
    assert picker.is_visible() and "보고할 달을 고르세요" in picker.inner_text()
    page.click(f"[data-testid=report-months] a:text-is('{months.label(months.current())}')")
    assert page.locator("#id_month").input_value() == months.label(months.current())


def test_the_form_shows_its_limits_and_an_error_summary_linking_to_the_fields(page, login, kma):
    project, _official, _admin = kma
    login("kma.official", f.PASSWORD)
    last_month = months.add_months(months.current(), -1)
    page.goto(f"/projects/{project.code}/reports/new/?month={months.label(last_month)}")
    hours = months.hours_in(last_month) * 16
    assert f"{hours:,}.0" in page.inner_text("[data-testid=limit-gpu_hours_used]")
    assert "16" in page.inner_text("[data-testid=limit-peak_gpus_busy]")
    page.fill("#id_gpu_hours_used", str(hours + 1))
    page.fill("#id_peak_gpus_busy", "17")
    page.check("input[name=within_purpose][value=yes]")
    for name in ("ai_basic_act", "personal_information", "training_data_copyright"):
        page.check(f"input[name={name}][value=yes]")
    page.click("button[name=submit]")
    summary = page.locator("[data-testid=error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(2)
    summary.locator("a[href='#id_peak_gpus_busy']").click()
    assert page.evaluate("document.activeElement.id") == "id_peak_gpus_busy"
    assert not UsageReport.objects.exists()


def test_the_plan_page_writes_numbers_with_separators(page, login, kma):
    project, _official, _admin = kma
    UsagePlan.objects.update_or_create(project=project, month=months.add_months(months.current(), 1),
                                       defaults={"planned_gpu_hours": Decimal("27648")})
    login("kma.official", f.PASSWORD)
    page.goto(f"/projects/{project.code}/plan/")
    text = page.inner_text("[data-testid=plan-form]")
    assert "27648.0" not in text and "27648" not in text
    assert page.locator(f"input[name='m-{months.label(months.add_months(months.current(), 1))}']").input_value() == "27,648.0"
