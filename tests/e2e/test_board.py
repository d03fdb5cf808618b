"""An MSIT admin's status board in the browser: sort by a column both ways, filter by ministry and
flag, read full titles, compare use against plan in the charts, on a desk and on a phone."""

import datetime as dt
import os
from decimal import Decimal

import pytest

from allocation_portal import months
from allocation_portal.models import Role
from monitoring.services import report_save
from projects.models import UsagePlan
from tests import factories as f
from tests.monitoring.conftest import values

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "한국형 AI 기상·기후 파운데이션 모델 개발 및 실증 고도화를 위한 아주 긴 과제명"


@pytest.fixture
def board():
    last = months.add_months(months.current(), -1)
    start = months.add_months(last, -1)
    kma = f.make_ministry("kma", name_ko="기상청")
    mohw = f.make_ministry("mohw", name_ko="보건복지부")
    cluster = f.make_cluster(servers=4)
    servers = list(cluster.servers.order_by("hostname"))
    made = []
    # A: 4,500 of 5,000 planned (90%); B: 500 of 10,000 planned over two months (5%, under plan).
    for code, ministry, used, title, server, planned in (("NAI-A", kma, 4500, TITLE, servers[0], [last]),
                                                         ("NAI-B", mohw, 500, "AI 기본 의료", servers[1], [start, last])):
        project = f.make_project(ministry, started=True, code=code, gpus=8, planned_start=start,
                                 end_date=dt.date(2027, 12, 31), title_ko=title)
        f.award(project, [server], start=start, end=dt.date(2028, 1, 1))
        for month in planned:
            UsagePlan.objects.create(project=project, month=month, planned_gpu_hours=Decimal(5000))
        report_save(actor=None, project=project, month=last, submit=True,
                    values=values(gpu_hours_used=Decimal(used), peak_gpus_busy=8))
        made.append(project)
    f.make_user(Role.ADMIN, username="msit.admin")
    return made


def codes(page):
    page.wait_for_load_state("load")
    return page.locator("[data-testid=board] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.project)")


def follow(page, link):
    """Click a link or submit button and wait until the page it opens has loaded: reading the rows of the
    page still being replaced finds none."""
    with page.expect_navigation(wait_until="load"):
        link.click()


def test_an_admin_sorts_and_filters_the_board_and_compares_in_the_charts(page, login, board):
    page.set_viewport_size({"width": 1366, "height": 900})
    login("msit.admin", f.PASSWORD)
    page.goto("/monitoring/board/")
    assert codes(page) == ["NAI-A", "NAI-B"]
    used = page.locator("[data-testid=board] thead a[data-sort=used]")
    follow(page, used)
    assert codes(page) == ["NAI-B", "NAI-A"]
    assert page.locator("th[aria-sort=ascending] a[data-sort=used]").count() == 1
    follow(page, page.locator("[data-testid=board] thead a[data-sort=used]"))
    assert codes(page) == ["NAI-A", "NAI-B"]
    assert page.locator("th[aria-sort=descending] a[data-sort=used]").count() == 1
    # The full title, wrapping in its cell rather than cut.
    assert page.locator("[data-testid=board] tr[data-project=NAI-A] [data-testid=board-title]").inner_text() == TITLE
    # Filter: the ministry, then a flag.
    page.select_option("#f-ministry", "mohw")
    follow(page, page.locator("[data-testid=month-picker] button[type=submit]"))
    assert codes(page) == ["NAI-B"]
    page.select_option("#f-ministry", "")
    page.select_option("#f-flag", "under_plan")
    follow(page, page.locator("[data-testid=month-picker] button[type=submit]"))
    assert codes(page) == ["NAI-B"]
    page.goto("/monitoring/board/")
    # The charts: lowest use of plan first, each with its numbers as a table.
    chart = page.locator("[data-testid=project-chart]")
    assert chart.locator("svg").is_visible()
    labels = [t for t in chart.locator("svg text").evaluate_all("ts => ts.map(t => t.textContent)") if t.startswith("NAI-")]
    assert [t[:5] for t in labels] == ["NAI-B", "NAI-A"]
    chart.locator("summary").click()
    assert "NAI-B" in chart.locator("table").inner_text()
    assert page.locator("[data-testid=ministry-chart] svg").is_visible()
    assert page.locator("[data-testid=capacity-chart] svg rect").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_board_fits_a_phone(page, login, board):
    page.set_viewport_size({"width": 390, "height": 844})
    login("msit.admin", f.PASSWORD)
    page.goto("/monitoring/board/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("[data-testid=board]").is_visible()
    # Every filter fits inside the page, not only inside a scrolling box.
    rights = page.locator("[data-testid=month-picker] select, [data-testid=month-picker] input, "
                          "[data-testid=month-picker] button").evaluate_all("es => es.map(e => e.getBoundingClientRect().right)")
    assert rights and max(rights) <= 390


def test_the_board_prints_with_its_charts(page, login, board):
    login("msit.admin", f.PASSWORD)
    page.goto("/monitoring/board/")
    page.emulate_media(media="print")
    assert not page.locator("[data-testid=month-picker]").is_visible()
    assert not page.locator("header .tools").is_visible()
    for chart in ("ministry-chart", "project-chart", "capacity-chart"):
        svg = page.locator(f"[data-testid={chart}] svg")
        assert svg.is_visible()
        # Drawn at the page's width, not cut by a scrolling box.
        assert svg.evaluate("s => s.getBoundingClientRect().width <= s.parentElement.getBoundingClientRect().width + 1")
    if os.environ.get("E2E_SCREENSHOTS"):
        page.pdf(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "board-print.pdf"))
        page.screenshot(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "board-print.png"), full_page=True)
