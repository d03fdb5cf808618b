"""An MSIT admin's irreversible actions ask for confirmation, naming what will happen, through one
confirm step page that works with JavaScript on and off."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from allocation_portal.models import Role
from gpus.models import Allocation
from lending import services as lending
from lending.models import Loan
from lending.selectors import propose, request_window
from projects.models import Project
from tests import factories as f
from tests.e2e.conftest import sign_in
from tests.e2e.shots import shoot
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    """A project not started yet whose idle server is lent to 한빛대학교, and an admin."""
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=2)
    project = f.make_project(ministry, gpus=8, planned_start=dt.date.today() - dt.timedelta(days=5),
                             end_date=dt.date.today() + dt.timedelta(days=400))
    allocation = f.award(project, cluster.servers.filter(hostname__endswith="001"),
                         start=dt.date.today() - dt.timedelta(days=30), end=dt.date.today() + dt.timedelta(days=401))
    org = f.make_organisation(name="한빛대학교", region="non_capital")
    applicant = f.make_user(Role.APPLICANT, username="hanbit", organisation=org)
    admin = f.make_user(Role.ADMIN, username="msit")
    request = lending.request_submit(actor=applicant, values=request_values(
        gpu_count=2, starts_on=dt.date.today() + dt.timedelta(days=3), ends_on=dt.date.today() + dt.timedelta(days=40)))
    ids = propose("B200", 2, *request_window(request)).gpu_ids
    loan = lending.offer_accept(actor=applicant, loan=lending.request_approve(actor=admin, request=request, gpu_ids=ids))
    return {"project": project, "allocation": allocation, "loan": loan, "org": org}


def _login(page, username):
    sign_in(page, username, f.PASSWORD)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_recording_a_start_names_whose_loans_are_recalled(browser, live_server, world, javascript):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR", timezone_id="Asia/Seoul",
                                  java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    page = context.new_page()
    _login(page, "msit")
    project = world["project"]
    page.goto(f"/projects/{project.code}/")
    page.fill("#id_started_on", dt.date.today().isoformat())
    page.click("[data-testid=start-panel] form button[type=submit]")
    consequences = page.locator("[data-testid=confirm-consequences]").inner_text()
    assert "한빛대학교" in consequences and project.code in consequences
    if javascript:
        shoot(page, "confirm-start", url=None)
    # Cancel: nothing happened.
    page.click("[data-testid=confirm-no]")
    assert Project.objects.get(pk=project.pk).actual_start is None
    page.fill("#id_started_on", dt.date.today().isoformat())
    page.click("[data-testid=start-panel] form button[type=submit]")
    page.click("[data-testid=confirm-yes]")
    assert Project.objects.get(pk=project.pk).actual_start == dt.date.today()
    assert Loan.objects.get(pk=world["loan"].pk).recall_notice_at is not None
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_release_says_how_many_servers_go(browser, live_server, world, javascript):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR", timezone_id="Asia/Seoul",
                                  java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    page = context.new_page()
    _login(page, "msit")
    project, allocation = world["project"], world["allocation"]
    page.goto(f"/projects/{project.code}/")
    action = f"form[action$='/allocations/{allocation.public_id}/release/']"
    page.locator(f"details:has({action}) summary").click()
    form = page.locator(action)
    form.locator("textarea[name=reason]").fill("시험 회수")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=confirm-step]")).to_be_visible()
    consequences = page.locator("[data-testid=confirm-consequences]").inner_text()
    assert "8" in consequences and project.code in consequences
    assert Allocation.objects.get(pk=allocation.pk).released_at is None
    if javascript:
        shoot(page, "confirm-release", url=None)
    page.click("[data-testid=confirm-yes]")
    assert Allocation.objects.get(pk=allocation.pk).released_at is not None
    context.close()
