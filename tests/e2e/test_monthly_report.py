"""An official logs in, fills in and submits a month's report, and sees it on the project page."""

import datetime as dt

import pytest

from allocation_portal import months
from allocation_portal.models import Role
from monitoring.models import UsageReport
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_official_submits_a_monthly_report(page, login):
    ministry = f.make_ministry("kma", name_ko="기상청")
    project = f.make_project(ministry, started=True, code="NAI-2026-04", gpus=16, planned_start=dt.date(2026, 4, 1),
                             end_date=dt.date(2027, 12, 31))
    cluster = f.make_cluster(servers=2)
    f.award(project, cluster.servers.all(), end=dt.date(2028, 1, 1))
    f.make_user(Role.OFFICIAL, username="kma.official", ministry=ministry)
    last_month = months.add_months(months.current(), -1)

    login("kma.official", f.PASSWORD)
    page.goto(f"/projects/{project.code}/")
    page.click("[data-testid=report-link]")
    form = page.locator("[data-testid=report-form]")
    # Nothing reported since April: the oldest overdue month opens, and the others are a click away.
    assert form.locator("#id_month").input_value() == "2026-04"
    page.click("[data-testid=report-months] summary")
    page.click(f"[data-testid=report-months] a:text-is('{months.label(last_month)}')")
    assert form.locator("#id_month").input_value() == months.label(last_month)
    assert "16" in page.locator("[data-testid=limit-peak_gpus_busy]").inner_text()
    # First a mistake: more GPUs busy than the project holds. The page says why and keeps the input.
    page.fill("#id_gpu_hours_used", "8000")
    page.fill("#id_peak_gpus_busy", "40")
    page.check("input[name=within_purpose][value=yes]")
    for name in ("ai_basic_act", "training_data_copyright"):
        page.check(f"input[name={name}][value=yes]")
    page.check("input[name=personal_information][value=na]")
    page.click("button[name=submit]")
    assert "16" in page.locator("#field-peak_gpus_busy .errorlist").inner_text()
    assert page.locator("#id_gpu_hours_used").input_value() == "8000"
    assert not UsageReport.objects.exists()

    page.fill("#id_peak_gpus_busy", "14")
    page.click("button[name=submit]")
    assert page.locator("[data-testid=report-state]").inner_text() == "제출"
    assert page.locator("[data-testid=report-hours]").inner_text() == "8,000.0"

    page.goto(f"/projects/{project.code}/")
    row = page.locator("[data-testid=usage-table] tr", has_text=months.label(last_month))
    assert "제출" in row.inner_text() and "8,000" in row.inner_text()
    assert page.locator("[data-testid=usage-chart] rect.bar-used").count() >= 1
    report = UsageReport.objects.get()
    assert report.state == "submitted" and report.peak_gpus_busy == 14
