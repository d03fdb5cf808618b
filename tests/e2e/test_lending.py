"""An applicant applies for idle GPUs; an MSIT admin approves; the applicant sees the loan."""

import datetime as dt

import pytest

from allocation_portal.models import Role
from lending.models import Loan
from tests import factories as f
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_applicant_applies_and_an_admin_approves(browser, live_server):
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=3)
    project = f.make_project(ministry, gpus=8, planned_start=dt.date(2027, 6, 1), end_date=dt.date(2028, 5, 31))
    f.award(project, cluster.servers.filter(hostname__endswith="001"), start=dt.date(2026, 4, 1), end=dt.date(2028, 6, 1))
    org = f.make_organisation(name="한빛대학교", region="non_capital")
    f.make_user(Role.APPLICANT, username="hanbit", organisation=org)
    f.make_user(Role.ADMIN, username="msit")
    start = dt.date.today() + dt.timedelta(days=10)

    def session(username):
        context = browser.new_context(base_url=live_server.url, locale="ko-KR", timezone_id="Asia/Seoul")
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, username, f.PASSWORD)
        return context, page

    applicant_context, page = session("hanbit")
    page.click("[data-testid=apply]")
    page.select_option("#id_gpu_model", "B200")
    page.fill("#id_gpu_count", "8")
    page.fill("#id_starts_on", start.isoformat())
    page.fill("#id_ends_on", (start + dt.timedelta(days=120)).isoformat())  # too long: refused with a reason
    page.fill("#id_purpose", "한국어 법률 언어모델 미세조정")
    page.fill("#id_expected_results", "논문 1편, 공개 모델")
    for name, value in (("personal_information", "na"), ("training_data_copyright", "yes"), ("ai_basic_act", "yes")):
        page.check(f"input[name={name}][value={value}]")
    page.check("#id_accepts_recall_terms")
    page.click("[data-testid=request-form] button[type=submit]")
    assert "3개월" in page.locator("#field-ends_on .errorlist").inner_text()
    page.fill("#id_ends_on", (start + dt.timedelta(days=60)).isoformat())
    page.click("[data-testid=request-form] button[type=submit]")
    assert page.locator("[data-testid=request-state]").inner_text() == "제출"

    admin_context, admin = session("msit")
    admin.goto("/lending/queue/")
    admin.click("[data-testid=queue] a:has-text('한빛대학교')")
    proposal = admin.locator("[data-testid=proposal]").inner_text()
    assert cluster.code in proposal
    admin.fill("#id_score", "82")
    admin.click("form:has(#id_score) button")
    admin.click("[data-testid=approve-form] button[type=submit]")
    assert "한빛대학교" in admin.locator("[data-testid=confirm-consequences]").inner_text()
    admin.click("[data-testid=confirm-yes]")
    assert admin.locator("[data-testid=loan-state]").inner_text() == "제안됨"
    loan = Loan.objects.get()
    assert loan.gpu_count == 8 and loan.organisation == org

    page.goto(f"/lending/loans/{loan.public_id}/")
    page.click("[data-testid=offer-accept]")
    assert page.locator("[data-testid=loan-state]").inner_text() == "예정"

    page.goto("/lending/dashboard/")
    assert "B200 ×8" in page.locator("[data-testid=loans]").inner_text()
    applicant_context.close()
    admin_context.close()
