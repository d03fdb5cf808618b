"""An MSIT admin opens a case, approves the reclamation, then approves a redistribution of the
reclaimed servers to a queued short-term request."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from allocation_portal import months
from allocation_portal.models import Role
from gpus.models import HolderKind
from lending import services as lending
from lending.models import Loan
from monitoring import reclamation
from monitoring.models import ReclamationCase
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.lending.conftest import request_values
from tests.monitoring.conftest import values

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_reclaims_and_redistributes(page, login):
    ministry = f.make_ministry("kma", name_ko="기상청")
    month = reclamation.latest_checkable_month()
    start = months.add_months(month, -4)
    end = months.add_months(month, 12)
    project = f.make_project(ministry, started=True, code="NAI-2026-04", gpus=32, planned_start=start, end_date=end)
    cluster = f.make_cluster(servers=4)
    f.award(project, cluster.servers.all(), start=start, end=end + dt.timedelta(days=1))
    for m in months.months_between(start, month):
        UsagePlan.objects.create(project=project, month=m, planned_gpu_hours=Decimal(10000))
        report_save(actor=None, project=project, month=m, submit=True,
                    values=values(gpu_hours_used=Decimal(1000), peak_gpus_busy=8),
                    at=months.start_of(months.next_month(m)) + dt.timedelta(days=2))
    official = f.make_user(Role.OFFICIAL, ministry=ministry)
    f.make_user(Role.ADMIN, username="msit")
    reclamation.monthly_check_run(month=month)
    case = ReclamationCase.objects.get()
    assert case.proposed_servers == 1  # 10% of plan: half of 3.6 unused servers, rounded down
    reclamation.case_respond(actor=official, case=case, kind="explanation", text="학습 데이터 확보가 늦어졌습니다.")
    org = f.make_organisation(name="부산해양AI연구원")
    queued = lending.request_submit(
        actor=f.make_user(Role.APPLICANT, organisation=org),
        values=request_values(gpu_count=8, starts_on=dt.date.today() + dt.timedelta(days=3),
                              ends_on=dt.date.today() + dt.timedelta(days=40)),
    )

    login("msit", f.PASSWORD)
    page.goto("/monitoring/cases/")
    page.click(f"[data-testid=case-table] a[href='/monitoring/cases/{case.public_id}/']")
    assert page.locator("[data-testid=case-proposed]").inner_text() == "1"
    assert page.locator("[data-testid=usage-chart]").count() == 1
    page.check("input[name=decision][value=approved]")
    page.fill("#id_reason", "누적 실적이 계획의 10%에 그쳐 1대를 회수합니다.")
    page.click("[data-testid=decide-form] button[type=submit]")
    assert "1" in page.locator("[data-testid=confirm-consequences]").inner_text()
    page.click("[data-testid=confirm-yes]")
    assert page.locator("[data-testid=case-state]").inner_text() == "회수 승인"
    assert cluster.code in page.locator("[data-testid=case-outcome]").inner_text()

    page.goto("/monitoring/redistribution/")
    assert page.locator("[data-testid=redistribution-capacity] .num").first.inner_text() == "8"
    page.click("form[action$='/propose/'] button")
    row = page.locator(f"[data-testid=proposals] tr:has-text('{org.name}')")
    assert "예비분 8" in row.inner_text()
    row.locator("form[action$='/approve/'] button").click()
    assert org.name in page.locator("[data-testid=confirm-consequences]").inner_text()
    page.click("[data-testid=confirm-yes]")
    expect(page.locator(".msg-success")).to_have_count(1)
    loan = Loan.objects.get(request=queued)
    assert loan.gpu_count == 8
    reserve_gpus = set(loan.allocations.get().gpu_rows.values_list("gpu_id", flat=True))
    from gpus.models import AllocationGpu

    assert reserve_gpus <= set(AllocationGpu.objects.filter(allocation__holder_kind=HolderKind.RESERVE).values_list("gpu_id", flat=True))
