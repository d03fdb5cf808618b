"""The portal's own 404, 403 and 500 pages (in its style, Korean and English) and its favicon."""

import pytest
from django.test import RequestFactory

from allocation_portal import views


@pytest.mark.django_db
@pytest.mark.parametrize("lang, text", [("ko", "찾을 수 없음"), ("en", "Not found")])
def test_it_answers_a_missing_page_in_the_portals_style(client_for, world, lang, text):
    response = client_for(world.official, lang=lang).get("/projects/NO-SUCH/")
    page = response.content.decode()
    assert response.status_code == 404
    assert text in page and 'class="site"' in page and 'data-testid="error-page"' in page
    assert 'rel="icon"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang, text", [("ko", "권한"), ("en", "Not permitted")])
def test_it_answers_a_forbidden_page_in_the_portals_style(served, world, lang, text):
    response = served.page(world.applicant, lang=lang).get("/monitoring/board/")
    page = response.content.decode()
    assert response.status_code == 403 and text in page and 'data-testid="error-page"' in page


def test_the_server_error_page_needs_no_database_and_no_request_context():
    # No django_db mark: any query here would fail the test. The request has no user or session.
    request = RequestFactory().get("/projects/")
    response = views.handler500(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "일시적인 오류가 발생했습니다" in page and "Something went wrong" in page
    assert "css/portal.css" in page and 'class="site"' in page


def test_the_server_error_page_answers_the_api_in_its_error_shape():
    request = RequestFactory().get("/api/v1/projects/", HTTP_ACCEPT="application/json")
    response = views.handler500(request)
    assert response.status_code == 500 and b'"server_error"' in response.content


@pytest.mark.django_db
def test_it_serves_a_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"
