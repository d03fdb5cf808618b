"""Sign-up: the personal-information consent with its purpose, items and retention, the privacy
policy, registration numbers checked by format (사업자등록번호's check digit), and a warning for an
organisation name that is registered already."""

import pytest

from allocation_portal.errors import ValidationFailed
from allocation_portal.models import AuditEvent, User
from lending import services as lending
from lending.models import Organisation
from lending.registration import business_number_valid, normalise_registration_number

pytestmark = pytest.mark.django_db


def form(**overrides):
    values = {
        "name": "한빛전자", "kind": "industry", "region": "non_capital", "registration_number": "124-81-00998",
        "display_name": "김담당", "username": "kim", "email": "kim@hanbit.kr",
        "password": "long-enough-pass", "password_again": "long-enough-pass", "privacy_consent": "on",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.parametrize("number, valid", [
    ("1248100998", True),    # the check digit matches
    ("2208162517", True),
    ("1248100990", False),   # one digit off
    ("1234567890", False),
    ("124810099", False),    # nine digits
])
def test_it_checks_the_business_number_check_digit(number, valid):
    assert business_number_valid(number) is valid


def test_it_writes_registration_numbers_one_way():
    assert normalise_registration_number("industry", "124 81 00998") == ("124-81-00998", None)
    assert normalise_registration_number("research", "1101111234567") == ("110111-1234567", None)
    assert normalise_registration_number("academia", "12345")[1]
    assert normalise_registration_number("industry", "R-1")[1]


def test_a_bad_business_number_is_a_clear_form_error(client):
    response = client.post("/lending/signup/", form(registration_number="124-81-00990"), HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-registration_number"' in page and "사업자등록번호" in page
    assert not Organisation.objects.exists() and not User.objects.filter(username="kim").exists()


def test_the_consent_is_required_and_recorded(client, settings):
    refused = client.post("/lending/signup/", form(privacy_consent=None), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and 'data-testid="error-privacy_consent"' in refused.content.decode()
    assert not Organisation.objects.exists()
    assert client.post("/lending/signup/", form(), HTTP_ACCEPT_LANGUAGE="en").status_code == 302
    user = User.objects.get(username="kim")
    assert user.privacy_consent_at is not None and user.privacy_notice_version == settings.PORTAL_PRIVACY_NOTICE_VERSION
    event = AuditEvent.objects.get(action="organisation.signup")
    assert event.after["privacy_notice_version"] == settings.PORTAL_PRIVACY_NOTICE_VERSION


def test_the_sign_up_page_states_purpose_items_retention_and_links_the_policy(client, settings):
    page = client.get("/lending/signup/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "개인정보 수집·이용 동의" in page
    assert 'href="/privacy/"' in page and settings.PORTAL_PRIVACY_CONTACT in page
    for words in ("수집 목적", "수집 항목", "보유"):
        assert words in page
    policy = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en")
    assert policy.status_code == 200 and settings.PORTAL_PRIVACY_CONTACT in policy.content.decode()
    assert "How long it is kept" in policy.content.decode()


def test_a_duplicate_organisation_name_warns_until_confirmed(client):
    Organisation.objects.create(name="한빛전자", kind="industry", region="capital", registration_number="220-81-62517")
    warned = client.post("/lending/signup/", form(name=" 한빛전자 "), HTTP_ACCEPT_LANGUAGE="en")
    assert warned.status_code == 400
    page = warned.content.decode()
    assert "registered already" in page and 'name="confirm_duplicate_name"' in page
    assert Organisation.objects.count() == 1
    confirmed = client.post("/lending/signup/", form(name="한빛전자", confirm_duplicate_name="on"), HTTP_ACCEPT_LANGUAGE="en")
    assert confirmed.status_code == 302 and Organisation.objects.count() == 2


def test_the_service_refuses_without_consent(db):
    with pytest.raises(ValidationFailed) as excinfo:
        lending.organisation_signup(name="A", kind="academia", region="capital", registration_number="123-45-67890",
                                    username="a", email="a@a.kr", password="long-enough-pass")
    assert set(excinfo.value.fields) == {"privacy_consent"}
