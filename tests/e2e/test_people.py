"""People in the browser (issue 16 §2): an MSIT admin invites an official of a ministry; the test
reads the invitation from the real SMTP server, opens its link, sets a password, and signs in as
that official."""

import re

import pytest

from allocation_portal.models import Role, User
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"(https?://[^\s\"<>]+/people/invitations/[A-Za-z0-9_\-]+/)")
PASSWORD = "기상-예보-2026-long"


def test_an_invited_official_sets_a_password_from_the_email_link_and_signs_in(browser, page, login, live_server,
                                                                              smtp_server, settings):
    settings.PORTAL_BASE_URL = live_server.url  # the e-mailed link points at the server under test
    kma = f.make_ministry("kma", name_ko="기상청")
    f.make_ministry("mohw", name_ko="보건복지부")
    f.make_user(Role.ADMIN, username="msit.admin")

    login("msit.admin", f.PASSWORD)
    page.click("[data-testid=account-menu]")
    page.click("header .menu-panel a[href='/people/']")
    page.click("[data-testid=invite-link]")
    page.fill("#id_email", "forecaster@kma.go.kr")
    page.fill("#id_display_name", "김예보")
    page.select_option("#id_role", "official")
    page.select_option("#id_ministry", label="기상청")
    page.click("[data-testid=invite-form] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "초대 이메일을 보냈습니다" in page.inner_text("main")
    assert page.inner_text("[data-testid=person-status]").startswith("초대됨")

    [message] = smtp_server.to("forecaster@kma.go.kr")
    assert message["Subject"] == "[AI GPU] 국가 AI GPU 배분 포털에 초대되었습니다"
    text = message.get_body(("plain",)).get_content()
    assert "기상청" in text and "부처 담당자" in text
    link = LINK.search(text).group(1)
    assert link.startswith(live_server.url)

    # The invited official, in a browser of their own.
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    invited = context.new_page()
    invited.goto(link)
    assert invited.inner_text("[data-testid=invited-username]") == "forecaster@kma.go.kr"
    invited.fill("#id_new_password1", PASSWORD)
    invited.fill("#id_new_password2", PASSWORD)
    invited.click("[data-testid=accept-form] button[type=submit]")
    invited.wait_for_url("**/accounts/login/")
    assert "비밀번호가 설정되었습니다" in invited.inner_text("main")
    invited.fill("#id_username", "forecaster@kma.go.kr")
    invited.fill("#id_password", PASSWORD)
    invited.click("main form button[type=submit]")
    invited.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in invited.url
    invited.click("[data-testid=account-menu]")
    assert "부처 담당자 · 기상청" in invited.inner_text("header .menu-panel .who")
    official = User.objects.get(email="forecaster@kma.go.kr")
    assert official.is_active and official.ministry == kma and official.role == Role.OFFICIAL
    # The link is used up.
    invited.goto(link)
    assert invited.locator("[data-testid=invitation-invalid]").get_attribute("data-reason") == "used"
    context.close()
