"""Korean public websites must meet KWCAG 2.2 (aligned with WCAG 2.1 AA). axe-core, injected into
each main page as each role sees it, in Korean and in English, finds no serious or critical
violation: forms labelled, tables with headers, colour contrast, names for every control."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from allocation_portal.models import User
from calls.selection_2026 import selection_2026_load
from lending.models import Loan, LoanRequest
from monitoring.demo import (
    DEMO_PASSWORD,
    load_demo_lending,
    load_demo_reclamation,
    load_demo_reports,
    load_demo_users,
)
from monitoring.models import ReclamationCase, UsageReport
from outcomes.models import SimulationRun
from projects.loader import programme_2026_load
from projects.models import Ministry
from tests.e2e.conftest import give_code

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


def main_pages(role: str) -> list[str]:
    project = "NAI-2026-04"  # 기상청's, started in the demo
    report = UsageReport.objects.filter(project__code=project).order_by("-month").first()
    loan = Loan.objects.filter(organisation__name__startswith="한빛대학교").order_by("-starts_at").first()
    request = LoanRequest.objects.filter(organisation__name__startswith="한빛대학교").order_by("-submitted_at").first()
    case = ReclamationCase.objects.order_by("-opened_at").first()
    ministry = Ministry.objects.get(code="kma").code
    simulation = SimulationRun.objects.first() or SimulationRun.objects.create(
        requested_by=User.objects.get(username="admin"), first_month=dt.date(2026, 4, 1), months=1, seed=1,
        state="running", progress=40)
    common = ["/programme/", "/projects/", f"/projects/{project}/", f"/ministries/{ministry}/",
              "/notifications/", "/accounts/password/", "/accounts/second-factor/",
              "/calls/national-2026/"]
    pages = {
        "anonymous": ["/accounts/login/", "/lending/", "/lending/signup/", "/privacy/", "/no-such-page/"],
        "admin": [*common, "/monitoring/board/", "/monitoring/cases/", f"/monitoring/cases/{case.public_id}/",
                  "/monitoring/checks/", "/monitoring/policy/", "/monitoring/redistribution/", "/lending/queue/",
                  f"/lending/requests/{request.public_id}/", "/lending/loans/", f"/lending/loans/{loan.public_id}/",
                  "/reports/", f"/reports/{report.public_id}/", "/audit/", "/ministries/", "/metering/",
                  "/programme/outcomes/", "/programme/outcomes/rows/?figure=loans_started",
                  "/programme/outcomes/simulations/", f"/programme/outcomes/simulations/{simulation.public_id}/",
                  "/people/", "/people/invite/", f"/people/{User.objects.get(username='official').public_id}/",
                  "/accounts/second-factor/recovery-codes/"],
        "official": [*common, "/calls/national-2026/propose/", "/reports/", "/reports/upload/", f"/reports/{report.public_id}/",
                     f"/projects/{project}/reports/new/", f"/projects/{project}/plan/",
                     "/monitoring/cases/", "/people/", "/people/invite/", "/accounts/second-factor/set-up/"],
        "applicant": ["/lending/dashboard/", "/people/", "/people/invite/", "/lending/requests/new/",
                      f"/lending/requests/{request.public_id}/", f"/lending/loans/{loan.public_id}/", "/notifications/"],
        "auditor": [*common, "/ministries/", "/monitoring/board/", "/monitoring/cases/", "/audit/", "/lending/queue/",
                    "/lending/loans/", "/monitoring/policy/", "/programme/outcomes/", "/programme/outcomes/simulations/"],
    }
    return pages[role]


def violations_on(page, url: str) -> list[str]:
    response = page.goto(url)
    expected = 404 if url.startswith("/no-such-page") else None  # the portal's own 404 page is checked too
    assert response is not None and (response.status == expected or response.status < 400), f"{url}: HTTP {response and response.status}"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{url} [{violation['impact']}] {violation['id']}: {violation['help']} at {json.dumps(targets)}")
    return found


@pytest.fixture
def programme():
    programme_2026_load()
    selection_2026_load()
    load_demo_users()
    load_demo_reports()
    load_demo_lending()
    load_demo_reclamation()


@pytest.mark.parametrize("role", ["anonymous", "admin", "official", "applicant", "auditor"])
def test_every_main_page_has_no_serious_accessibility_violation(browser, live_server, programme, role):
    assert AXE.exists(), "axe-core is missing: the test command runs `npm ci` in tests/e2e"
    found = []
    for language, width in (("ko-KR", 1366), ("en-US", 390)):
        # The portal's CSP allows no injected script: the test context bypasses it to inject axe-core.
        context = browser.new_context(base_url=live_server.url, locale=language, timezone_id="Asia/Seoul",
                                      bypass_csp=True, viewport={"width": width, "height": 900})
        page = context.new_page()
        if role != "anonymous":
            page.goto("/accounts/login/")
            page.fill("#id_username", role)
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_load_state("networkidle")
            if role == "admin":  # the demo admin's second factor: its page is checked too
                assert "/accounts/second-factor/verify/" in page.url
                found += [f"{language} {width}px {v}" for v in violations_on(page, page.url)]
                give_code(page, role)
        for url in main_pages(role):
            found += [f"{language} {width}px {v}" for v in violations_on(page, url)]
        context.close()
    assert not found, "\n".join(found)
