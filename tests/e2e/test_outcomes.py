"""An MSIT admin reads the programme's outcomes in the browser: the shares, a month's lent GPU-hours
followed down to the loan that made them, the forecast, in Korean at a desk and in English on a phone."""

import datetime as dt
from decimal import Decimal

import pytest

from allocation_portal import months
from allocation_portal.models import Role
from gpus.availability import day_start
from lending.models import Loan
from monitoring.services import report_save
from tests import factories as f
from tests.e2e.shots import shoot
from tests.monitoring.conftest import values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def programme():
    """Two months back: project A started and holds a server; project B has not started (its server
    is idle) and a university borrowed four of its GPUs for ten days last month."""
    last = months.add_months(months.current(), -1)
    start = months.add_months(last, -1)
    ministry = f.make_ministry("kma", name_ko="기상청")
    cluster = f.make_cluster(servers=2)
    one, two = cluster.servers.order_by("hostname")
    a = f.make_project(ministry, started=True, code="NAI-A", gpus=8, planned_start=start, end_date=dt.date(2028, 1, 1))
    b = f.make_project(ministry, code="NAI-B", gpus=8, planned_start=months.add_months(last, 3), end_date=dt.date(2028, 1, 1))
    f.award(a, [one], start=start, end=dt.date(2028, 1, 1))
    f.award(b, [two], start=start, end=dt.date(2028, 1, 1))
    report_save(actor=None, project=a, month=last, submit=True, values=values(gpu_hours_used=Decimal(3000), peak_gpus_busy=8))
    university = f.make_organisation(name="한빛대학교", kind="academia", region="non_capital")
    loan = f.make_loan(university, gpus=f.server_gpus(two)[:4], start=last + dt.timedelta(days=2),
                       end=last + dt.timedelta(days=12))
    Loan.objects.filter(pk=loan.pk).update(state="ended", end_reason="completed", ended_at=loan.ends_at)
    f.make_user(Role.ADMIN, username="msit.admin")
    assert day_start(last) < day_start(months.current())
    return last


def test_an_admin_follows_a_lent_figure_down_to_its_loan(page, login, programme):
    page.set_viewport_size({"width": 1366, "height": 900})
    login("msit.admin", f.PASSWORD)
    page.goto("/programme/outcomes/")
    assert page.locator("h1").inner_text() == "사업 성과"
    assert page.locator("[data-testid=used-or-lent-share]").inner_text().endswith("%")
    assert page.locator("[data-testid=outcomes-chart] svg").is_visible()
    assert page.locator("[data-testid=forecast-table] tbody tr").count() == 3
    month = f"{programme:%Y-%m}"
    row = page.locator("[data-testid=outcomes-table] tbody tr", has=page.locator(f"th:text-is('{month}')"))
    row.locator("a[href*='figure=lent_from_idle']").click()
    page.wait_for_load_state("networkidle")
    assert "유휴분에서 대여" in page.locator("h1").inner_text()
    rows = page.locator("[data-testid=figure-rows] tbody tr")
    assert rows.count() == 1 and "한빛대학교" in rows.first.inner_text()
    assert "960.0" in rows.first.inner_text()  # 4 GPUs for 10 days
    rows.first.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert "/lending/loans/" in page.url


def test_the_outcomes_read_on_a_phone_in_english(page, login, programme):
    page.set_viewport_size({"width": 390, "height": 844})
    login("msit.admin", f.PASSWORD)
    page.click("header .lang button")
    page.wait_for_load_state("networkidle")
    page.goto("/programme/outcomes/")
    assert page.locator("h1").inner_text() == "Programme outcomes"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("[data-testid=forecast-chart] summary").click()
    assert page.locator("[data-testid=forecast-chart-table]").is_visible()
    shoot(page, "outcomes")
