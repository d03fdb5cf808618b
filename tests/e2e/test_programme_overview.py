"""An official logs in with the login form and opens the programme overview."""

import pytest

from allocation_portal.models import Role
from projects.loader import programme_2026_load
from projects.models import Ministry
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_official_logs_in_and_sees_the_programme(page, login):
    programme_2026_load()
    f.make_user(Role.OFFICIAL, username="kma.official", ministry=Ministry.objects.get(code="kma"))
    login("kma.official", f.PASSWORD)
    page.click("nav.main-nav >> text=사업 현황")
    headline = page.locator("[data-testid=headline]")
    assert "2,832" in headline.inner_text()
    assert "52" in headline.inner_text() and "25" in headline.inner_text()
    capacity = page.locator("[data-testid=capacity]")
    assert "NHN" in capacity.inner_text() and "H200" in capacity.inner_text()
    assert page.locator("[data-testid=named-projects] tbody tr").count() == 7
    # The official's own ministry page is one click away, and other ministries are not offered.
    page.click("nav.main-nav >> text=우리 부처")
    assert "기상청" in page.locator("h1").inner_text()
    # English is one click away.
    page.click("form.lang button")
    assert page.locator("html").get_attribute("lang") == "en"
