"""Every page's frame in the browser: the header is one row at 1366 px and a menu at 390 px, in
Korean and English, for the role with the most links; the menu works without JavaScript and from
the keyboard; pages and forms never scroll sideways. With E2E_SCREENSHOTS=<dir> the pages are
also photographed there, for people to look at."""

import datetime as dt
import os
import re

import pytest
from playwright.sync_api import expect

from allocation_portal import months
from allocation_portal.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("E2E_SCREENSHOTS", "")
WIDE, NARROW = {"width": 1366, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture
def portal():
    ministry = f.make_ministry("kma", name_ko="기상청")
    start = months.add_months(months.current(), -3)
    project = f.make_project(ministry, started=True, code="NAI-2026-04", gpus=16, planned_start=start,
                             end_date=dt.date(2027, 12, 31),
                             title_ko="한국형 AI 기상·기후 파운데이션 모델 개발 및 실증 고도화 사업")
    f.award(project, f.make_cluster(servers=2).servers.all(), start=start, end=dt.date(2028, 1, 1))
    f.make_user(Role.ADMIN, username="msit.admin")
    f.make_user(Role.OFFICIAL, username="kma.official", ministry=ministry)
    return project


def _no_sideways_scroll(page):
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if not fits:  # say what sticks out, to fix it
        print(page.url, page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 6).map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right))"""))
    return fits


def _shoot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _header_rows(page):
    """How many rows the header's visible items take: items whose vertical centres are within
    16 px of each other share a row."""
    return page.evaluate("""() => {
        const items = [...document.querySelectorAll('header .brand, header .main-nav a, header .tools > *')]
          .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');
        const centres = items.map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; }).sort((a, b) => a - b);
        let rows = 0, last = -100;
        for (const c of centres) { if (c - last > 16) rows += 1; last = c; }
        return rows;
    }""")


def _as(page, login, username, lang):
    login(username, f.PASSWORD)
    if lang == "en":
        page.click("header .lang button")
        page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_header_is_one_row_at_a_desk_and_a_menu_on_a_phone(page, login, portal, lang):
    page.set_viewport_size(WIDE)
    _as(page, login, "msit.admin", lang)
    for path in ("/programme/", "/monitoring/board/", f"/projects/{portal.code}/"):
        page.goto(path)
        assert page.locator("[data-testid=main-nav]").is_visible()
        assert _header_rows(page) == 1, path
        assert page.evaluate("document.querySelector('header.site').getBoundingClientRect().height") < 80
        assert _no_sideways_scroll(page), path
    page.goto("/monitoring/board/")
    _shoot(page, f"board-{lang}-1366")
    page.set_viewport_size(NARROW)
    page.goto("/programme/")
    assert not page.locator("[data-testid=main-nav]").is_visible()
    menu = page.locator("[data-testid=mobile-menu]")
    assert menu.is_visible() and _no_sideways_scroll(page)
    # The keyboard opens the menu (a <details>: no script involved) and reaches its links.
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    assert menu.locator("nav a").first.is_visible()
    assert menu.locator("text=" + ("Status board" if lang == "en" else "현황판")).is_visible()
    _shoot(page, f"menu-{lang}-390")
    # The click starts a navigation; measuring before the new document has loaded reads a page
    # that is being replaced (documentElement is briefly null).
    with page.expect_navigation(url="**/monitoring/board/"):
        menu.locator("nav a[href='/monitoring/board/']").click()
    page.wait_for_load_state("load")
    assert _no_sideways_scroll(page)
    _shoot(page, f"board-{lang}-390")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_officials_pages_and_forms_fit_a_phone(page, login, portal, lang):
    page.set_viewport_size(NARROW)
    _as(page, login, "kma.official", lang)
    last_month = months.label(months.add_months(months.current(), -1))
    for name, path in [("project", f"/projects/{portal.code}/"), ("plan", f"/projects/{portal.code}/plan/"),
                       ("report-form", f"/projects/{portal.code}/reports/new/?month={last_month}"),
                       ("reports", "/reports/"), ("upload", "/reports/upload/")]:
        page.goto(path)
        assert _no_sideways_scroll(page), path
        _shoot(page, f"{name}-{lang}-390")
    page.set_viewport_size(WIDE)
    page.goto(f"/projects/{portal.code}/reports/new/?month={last_month}")
    assert _header_rows(page) == 1
    _shoot(page, f"report-form-{lang}-1366")


def test_the_menu_works_without_javascript(browser, live_server, portal):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR", java_script_enabled=False,
                                  viewport=NARROW)
    page = context.new_page()
    page.goto("/lending/")
    page.click("[data-testid=mobile-menu] summary")
    assert page.locator("[data-testid=mobile-menu] nav a[href='/lending/']").is_visible()
    page.click("[data-testid=mobile-menu] a[href='/lending/signup/']")
    expect(page).to_have_url(re.compile(r"/lending/signup/$"))
    context.close()


def test_error_pages_fit_both_widths(page, portal):
    for viewport in (WIDE, NARROW):
        page.set_viewport_size(viewport)
        response = page.goto("/no-such-page/")
        assert response.status == 404 and _no_sideways_scroll(page)
        _shoot(page, f"404-ko-{viewport['width']}")


def test_the_server_error_page_fits_both_widths(page, live_server):
    from django.test import RequestFactory

    from allocation_portal import views

    html = views.handler500(RequestFactory().get("/")).content.decode()
    for viewport in (WIDE, NARROW):
        page.set_viewport_size(viewport)
        page.goto("/ping")  # the page's address, so that its stylesheet loads from the live server
        page.set_content(html)
        page.wait_for_load_state("networkidle")
        assert "Something went wrong" in page.inner_text("main") and _no_sideways_scroll(page)
        assert page.evaluate("getComputedStyle(document.querySelector('header.site')).backgroundColor") == "rgb(11, 78, 162)"
        _shoot(page, f"500-{viewport['width']}")
