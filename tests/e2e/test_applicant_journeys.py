"""An applicant's journeys in the browser: an offer accepted (and the loan it becomes, with how to
reach the GPUs), an offer declined, an offer that lapsed, nothing offered after an early return,
and a sign-up with a bad 사업자등록번호."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from allocation_portal.models import Role
from lending import services as lending
from lending.models import Loan, Organisation
from lending.selectors import propose, request_window
from tests import factories as f
from tests.e2e.shots import shoot
from tests.lending.conftest import request_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def offered():
    """An offer of a server reserved for a project that has not started, to 한빛대학교's applicant."""
    ministry = f.make_ministry()
    cluster = f.make_cluster(servers=3)
    provider = cluster.provider
    provider.access_steps_ko = "1. 제공사 VPN에 접속합니다.\n2. ssh 게이트웨이(gw.example.kr)로 로그인합니다."
    provider.access_steps_en = "1. Connect to the provider's VPN.\n2. Log in through the ssh gateway (gw.example.kr)."
    provider.support_contact = "gpu-support@example.kr"
    provider.save()
    project = f.make_project(ministry, gpus=8, planned_start=dt.date(2027, 6, 1), end_date=dt.date(2028, 5, 31))
    f.award(project, cluster.servers.filter(hostname__endswith="001"), start=dt.date(2026, 4, 1), end=dt.date(2028, 6, 1))
    org = f.make_organisation(name="한빛대학교", region="non_capital")
    applicant = f.make_user(Role.APPLICANT, username="hanbit", organisation=org)
    admin = f.make_user(Role.ADMIN, username="msit")
    start = dt.date.today() + dt.timedelta(days=10)

    def make(gpu_count=8, days=60, offset=0):
        request = lending.request_submit(actor=applicant, values=request_values(
            gpu_count=gpu_count, starts_on=start + dt.timedelta(days=offset),
            ends_on=start + dt.timedelta(days=offset + days)))
        ids = propose(request.gpu_model, request.gpu_count, *request_window(request)).gpu_ids
        return lending.request_approve(actor=admin, request=request, gpu_ids=ids)

    return {"make": make, "project": project, "cluster": cluster, "applicant": applicant}


def test_an_applicant_accepts_the_offer_and_sees_the_loan(page, login, offered):
    offer = offered["make"]()
    login("hanbit", f.PASSWORD)
    page.goto("/lending/dashboard/")
    page.click("[data-testid=offer-pending]")
    servers = page.locator("[data-testid=offer-servers]").inner_text()
    assert offered["cluster"].code in servers and offered["project"].code in servers  # the recall risk, per server
    assert page.locator("[data-testid=offer-accept]").is_visible()
    shoot(page, "offer")
    page.click("[data-testid=offer-accept]")
    assert page.locator("[data-testid=loan-state]").inner_text() == "예정"
    access = page.locator("[data-testid=loan-access]").inner_text()
    assert "ssh 게이트웨이" in access and "gpu-support@example.kr" in access
    assert offered["cluster"].servers.get(hostname__endswith="001").hostname in access
    shoot(page, "loan")
    assert Loan.objects.get(pk=offer.pk).state == "scheduled"


def test_an_applicant_declines_the_offer(page, login, offered):
    offer = offered["make"]()
    login("hanbit", f.PASSWORD)
    page.goto(f"/lending/loans/{offer.public_id}/")
    page.fill("#decline-reason", "일정이 바뀌었습니다")
    page.click("[data-testid=offer-decline]")
    assert "거절" in page.locator("[data-testid=loan-closed]").inner_text()
    assert page.locator("[data-testid=offer-accept]").count() == 0
    assert Loan.objects.get(pk=offer.pk).end_reason == "declined"


def test_an_offer_not_accepted_in_time_lapses(page, login, offered):
    offer = offered["make"]()
    assert lending.offers_lapse(now=offer.offer_expires_at + dt.timedelta(minutes=1)) == 1
    login("hanbit", f.PASSWORD)
    page.goto(f"/lending/loans/{offer.public_id}/")
    assert "만료" in page.locator("[data-testid=loan-closed]").inner_text()
    assert page.locator("[data-testid=offer-accept]").count() == 0
    shoot(page, "offer-lapsed")


def test_nothing_is_offered_after_an_early_return(page, login, offered):
    offer = offered["make"](gpu_count=2)
    loan = lending.offer_accept(actor=offered["applicant"], loan=offer)
    login("hanbit", f.PASSWORD)
    page.goto(f"/lending/loans/{loan.public_id}/")
    assert page.locator("[data-testid=renew-form]").count() == 1
    page.click("[data-testid=return]")
    assert "2" in page.locator("[data-testid=confirm-consequences]").inner_text()
    page.click("[data-testid=confirm-yes]")
    expect(page.locator("[data-testid=loan-closed]")).to_have_count(1)
    for control in ("[data-testid=return]", "[data-testid=renew-form]", "[data-testid=report-form]",
                    "[data-testid=offer-accept]"):
        assert page.locator(control).count() == 0, control
    shoot(page, "loan-returned")


def test_a_sign_up_with_a_bad_business_number_shows_the_error(page):
    page.goto("/lending/signup/")
    assert page.locator("[data-testid=privacy-consent]").is_visible()
    shoot(page, "signup")
    page.fill("#id_name", "한빛전자")
    page.check("input[name=kind][value=industry]")
    page.check("input[name=region][value=non_capital]")
    page.fill("#id_registration_number", "124-81-00990")
    page.fill("#id_display_name", "김담당")
    page.fill("#id_username", "kim")
    page.fill("#id_email", "kim@hanbit.kr")
    page.fill("#id_password", "long-enough-pass")
    page.fill("#id_password_again", "long-enough-pass")
    page.check("#id_privacy_consent")
    page.click("[data-testid=signup-form] button[type=submit]")
    error = page.locator("[data-testid=error-registration_number]").inner_text()
    assert "사업자등록번호" in error and "검증" in error
    assert not Organisation.objects.exists()
    shoot(page, "signup-error", url=None)
    page.goto("/privacy/")
    assert "개인정보 처리방침" in page.locator("h1").inner_text()
    shoot(page, "privacy")
